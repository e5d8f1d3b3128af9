"""A fake OSV API on 127.0.0.1: `POST /v1/querybatch` and `GET /v1/vulns/{id}` over a few
records, matching a query when its version is listed in the record's `affected[].versions`."""

from __future__ import annotations

import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class FakeOsv:
    records: list[dict[str, Any]]
    requests: list[str] = field(default_factory=list)
    url: str = ""

    def matching(self, query: dict[str, Any]) -> list[dict[str, str]]:
        package = query["package"]
        out = []
        for record in self.records:
            for affected in record["affected"]:
                about = affected["package"]
                if (
                    about["ecosystem"] == package["ecosystem"]
                    and _name(about) == _name(package)
                    and query["version"] in affected.get("versions", [])
                ):
                    out.append({"id": record["id"], "modified": "2024-01-01T00:00:00Z"})
        return out


def _name(package: dict[str, str]) -> str:
    # OSV compares PyPI names normalised (PEP 503), others exactly
    if package["ecosystem"] == "PyPI":
        return re.sub(r"[-_.]+", "-", package["name"]).lower()
    return package["name"]


def record(
    vuln_id: str,
    ecosystem: str,
    name: str,
    versions: list[str],
    *,
    severity: str | None = None,
    cvss: str | None = None,
    fixed: str | None = None,
    aliases: tuple[str, ...] = (),
) -> dict[str, Any]:
    """An OSV record as api.osv.dev serves it (the fields stopship reads)."""
    events: list[dict[str, str]] = [{"introduced": "0"}]
    if fixed:
        events.append({"fixed": fixed})
    out: dict[str, Any] = {
        "id": vuln_id,
        "aliases": list(aliases),
        "affected": [
            {
                "package": {"ecosystem": ecosystem, "name": name},
                "ranges": [{"type": "ECOSYSTEM", "events": events}],
                "versions": versions,
            }
        ],
    }
    if severity:
        out["database_specific"] = {"severity": severity}
    if cvss:
        out["severity"] = [{"type": "CVSS_V3", "score": cvss}]
    return out


@contextmanager
def fake_osv(records: list[dict[str, Any]]) -> Iterator[FakeOsv]:
    fake = FakeOsv(records)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            fake.requests.append(f"POST {self.path}")
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            if self.path != "/v1/querybatch":
                return self._send(404, {})
            results = []
            for query in body["queries"]:
                vulns = fake.matching(query)
                results.append({"vulns": vulns} if vulns else {})
            self._send(200, {"results": results})

        def do_GET(self) -> None:
            fake.requests.append(f"GET {self.path}")
            wanted = self.path.removeprefix("/v1/vulns/")
            for item in fake.records:
                if item["id"] == wanted:
                    return self._send(200, item)
            self._send(404, {"code": 5, "message": "Bug not found."})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
