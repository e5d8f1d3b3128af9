"""FileResult <-> JSON-able dict for caches (never pickle: a cache could come from a repo)."""

from __future__ import annotations

import json
from typing import Any

from app.engine.model import Fact, FileResult, Hit, ParseProblem, Suppression


def result_to_dict(result: FileResult) -> dict[str, Any]:
    return {
        "h": [[h.rule, h.line, h.text, h.detail] for h in result.hits],
        "f": [[f.kind, f.value, f.line] for f in result.facts],
        "p": [[p.parser, p.message] for p in result.problems],
        "s": [[s.line, list(s.rules), s.reason, s.tool] for s in result.suppressions],
    }


def result_from_dict(data: dict[str, Any]) -> FileResult:
    return FileResult(
        hits=[Hit(str(r), ln, str(t), str(d)) for r, ln, t, d in data.get("h", [])],
        facts=[Fact(str(k), str(v), ln) for k, v, ln in data.get("f", [])],
        problems=[ParseProblem(str(a), str(b)) for a, b in data.get("p", [])],
        suppressions=[
            Suppression(
                int(item[0]), tuple(item[1]), str(item[2]), str(item[3] if item[3:] else "")
            )
            for item in data.get("s", [])
        ],
    )


def result_to_json(result: FileResult) -> str:
    """The compact JSON text of `result_to_dict`."""
    return json.dumps(result_to_dict(result), separators=(",", ":"))
