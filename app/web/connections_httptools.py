"""The head deadline and connection shedding of `app.web.connections` on uvicorn's httptools
parser (imported only when httptools is installed)."""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from app.web.connections import HeadDeadline


class BoundedHttpToolsProtocol(HeadDeadline, HttpToolsProtocol):
    pass
