"""Other tools' suppressions: a line a project already silenced for the same class of problem
with bandit (`# nosec B608`), ruff / flake8-bandit (`# noqa: S608`), semgrep (`# nosemgrep:
rule-id`), ESLint (`// eslint-disable-line security/detect-child-process`), golangci-lint
(`//nolint:gosec`), detect-secrets / gitleaks, squawk or hadolint is accepted risk naming that
tool, not a finding. Each is read as a Suppression of the stopship rules of that class; the
same trust rules as `stopship: ignore` apply (a pull request cannot silence its own stop-ship).

A bare suppression counts only where the tool is about security (bare `nosec`, `nosemgrep`,
`nolint`): a bare `noqa` or `eslint-disable-line` is mostly about style and silences nothing.
"""

from __future__ import annotations

import re

from app.engine.line_counter import LineCounter
from app.engine.model import Suppression
from app.engine.screen import hint

_SECRETS = ("SEC001",)
_SQL = ("SEC002",)
_CODE = ("SEC003",)
_SHELL = ("SEC004",)
_TLS = ("SEC010",)
_TIMEOUT = ("ERR002",)
_SWALLOW = ("ERR001",)
_DEBUG = ("DEP001",)

# bandit test ids and their ruff / flake8-bandit `S` codes
_BANDIT: dict[str, tuple[str, ...]] = {
    "105": _SECRETS, "106": _SECRETS, "107": _SECRETS,
    "608": _SQL, "611": _SQL,
    "102": _CODE, "307": _CODE, "301": _CODE, "302": _CODE, "506": _CODE, "614": _CODE,
    "602": _SHELL, "603": _SHELL, "604": _SHELL, "605": _SHELL, "606": _SHELL, "607": _SHELL,
    "501": _TLS, "323": _TLS,
    "113": _TIMEOUT,
    "110": _SWALLOW, "112": _SWALLOW,
    "201": _DEBUG,
}  # fmt: skip
_BANDIT_ALL = tuple(sorted({r for rules in _BANDIT.values() for r in rules}))
# gosec ids (golangci-lint `//nolint:gosec` silences all of them)
_GOSEC: dict[str, tuple[str, ...]] = {
    "G101": _SECRETS, "G201": _SQL, "G202": _SQL, "G204": _SHELL, "G402": _TLS,
    "G104": _SWALLOW, "G107": _TIMEOUT,
}  # fmt: skip
_GOSEC_ALL = tuple(sorted({r for rules in _GOSEC.values() for r in rules}))
# words in a semgrep rule id, ESLint rule name or squawk / hadolint rule -> the class
_WORDS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("sql", _SQL),
    ("secret", _SECRETS), ("password", _SECRETS), ("credential", _SECRETS),
    ("hardcoded", _SECRETS), ("api-key", _SECRETS),
    ("eval", _CODE), ("exec", _CODE), ("pickle", _CODE), ("deserial", _CODE),
    ("new-func", _CODE), ("yaml-load", _CODE),
    ("child-process", _SHELL), ("subprocess", _SHELL), ("shell", _SHELL),
    ("command-injection", _SHELL), ("os-system", _SHELL),
    ("tls", _TLS), ("ssl", _TLS), ("cert", _TLS), ("verify", _TLS),
    ("jwt", ("SEC011",)), ("cors", ("SEC005", "SEC006")),
    ("timeout", ("ERR002", "ERR003")),
    ("no-empty", _SWALLOW), ("empty-catch", _SWALLOW), ("errcheck", _SWALLOW),
    ("debug", _DEBUG),
    ("index-concurrently", ("DEP005",)), ("concurrent-index", ("DEP005",)),
    ("adding-required-field", ("DEP008",)), ("adding-not-nullable", ("DEP008",)),
    ("not-null", ("DEP008",)),
    ("ban-drop", ("DEP009",)), ("drop-column", ("DEP009",)), ("drop-table", ("DEP009",)),
    ("lock-timeout", ("DEP006",)), ("timeout-settings", ("DEP006",)),
)  # fmt: skip
_SECURITY_ALL = tuple(sorted({r for _, rules in _WORDS for r in rules if r.startswith("SEC")}))
_HADOLINT = {"DL3002": ("CTR001",), "DL3006": ("CTR002",), "DL3007": ("CTR002",)}

_HINTS = ("nosec", "noqa", "nosemgrep", "eslint-disable", "nolint", "allowlist secret",
          "gitleaks:allow", "squawk-ignore", "hadolint ignore")  # fmt: skip
# Screened with the rules' patterns: a file the screen proves free of every marker is not
# searched for them nine times over (`FileContext.may_match`).
MARKERS = hint("|".join(re.escape(marker) for marker in _HINTS))
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bandit", re.compile(r"#\s*nosec\b(?P<ids>[:\s]*(?:B\d{3}[\s,]*)*)")),
    ("ruff", re.compile(r"#\s*noqa\s*:\s*(?P<ids>[A-Z]+\d+(?:[\s,]+[A-Z]+\d+)*)")),
    (
        "semgrep",
        re.compile(
            r"(?:#|//|--|/\*)\s*nosemgrep\b(?:\s*:\s*(?P<ids>[\w.\-/]+(?:\s*,\s*[\w.\-/]+)*))?"
        ),
    ),
    (
        "ESLint",
        re.compile(
            r"eslint-disable(?:-next)?-line\s+(?P<ids>[@\w./\-]+(?:\s*,\s*"
            r"[@\w./\-]+)*)"
        ),
    ),
    ("golangci-lint", re.compile(r"//\s*nolint\b(?::(?P<ids>[\w,]+))?")),
    ("detect-secrets", re.compile(r"pragma:\s*allowlist\s+secret(?P<ids>)")),
    ("gitleaks", re.compile(r"gitleaks:allow(?P<ids>)")),
    ("squawk", re.compile(r"--\s*squawk-ignore\s+(?P<ids>[\w\-]+(?:\s*,\s*[\w\-]+)*)")),
    ("hadolint", re.compile(r"#\s*hadolint\s+ignore=(?P<ids>[\w,]+)")),
)


def _by_words(ident: str) -> tuple[str, ...]:
    lowered = ident.lower()
    out: list[str] = []
    for word, rules in _WORDS:
        if word in lowered:
            out += [r for r in rules if r not in out]
    return tuple(out)


def _rules_of(tool: str, ids: list[str]) -> tuple[str, ...]:
    if tool in ("detect-secrets", "gitleaks"):
        return _SECRETS
    if not ids:
        bare = {"bandit": _BANDIT_ALL, "semgrep": _SECURITY_ALL, "golangci-lint": _GOSEC_ALL}
        return bare.get(tool, ())
    out: list[str] = []
    for ident in ids:
        if tool in ("bandit", "ruff"):
            code = ident[1:] if ident[:1] in "BS" and ident[1:].isdigit() else ""
            found = _BANDIT.get(code, ())
        elif tool == "golangci-lint":
            found = _GOSEC_ALL if ident in ("gosec", "all") else _by_words(ident)
        elif tool == "hadolint":
            found = _HADOLINT.get(ident, ())
        else:
            found = _by_words(ident)
        out += [r for r in found if r not in out]
    return tuple(out)


def parse_foreign_suppressions(text: str) -> list[Suppression]:
    """Every other tool's suppression comment in `text` that covers a stopship rule class."""
    if not any(hint in text for hint in _HINTS):
        return []
    found: list[Suppression] = []
    lines = LineCounter(text)
    for tool, pattern in _PATTERNS:
        for match in pattern.finditer(text):
            ids = [i for i in re.split(r"[\s,:]+", match.group("ids") or "") if i]
            rules = _rules_of(tool, ids)
            if not rules:
                continue
            line = lines.line_of(match.start())
            comment = match.group(0).strip().removeprefix("/*").strip()
            found.append(Suppression(line, rules, f"accepted with {tool}: `{comment}`", tool))
    return found
