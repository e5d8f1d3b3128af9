"""Hardcoded secrets: known provider formats anywhere, plus entropy-checked generic assignments.

What peers report as secrets on real repositories is mostly noise: integrity hashes in lock files
(the engine never shows lock files to rules), alembic revision ids (not secret-named), fixtures in
test folders (skipped by role) and placeholders (`changeme`, `${VAR}`, `<token>`, `xxxx`), which
are recognised here. The secret itself never leaves this module: a hit carries a digest of it.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Iterable
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import file_detector
from app.engine.model import Hit
from app.engine.python_strings import documentation_lines
from app.engine.screen import Hint, hint

# (label, literal hints, pattern, screen hint): the pattern only runs when one of its literal
# hints is in the text (and the screen did not rule the pattern out).
PROVIDERS: tuple[tuple[str, tuple[str, ...], re.Pattern[str], Hint], ...] = tuple(
    (name, hints, re.compile(pattern), hint(pattern))
    for name, hints, pattern in (
        ("AWS access key id", ("AKIA", "ASIA"), r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"),
        (
            "GitHub token",
            ("ghp_", "gho_", "ghu_", "ghs_", "ghr_"),
            r"\bgh[pousr]_[A-Za-z0-9]{36,255}\b",
        ),
        ("GitHub fine-grained token", ("github_pat_",), r"\bgithub_pat_[A-Za-z0-9_]{60,255}\b"),
        ("Stripe live key", ("k_live_",), r"\b[sr]k_live_[0-9A-Za-z]{20,}\b"),
        ("Slack token", ("xox",), r"\bxox[abposr]-[0-9A-Za-z-]{10,}\b"),
        (
            "Slack webhook",
            ("hooks.slack.com",),
            r"https://hooks\.slack\.com/services/T[A-Z0-9]+/B[A-Z0-9]+/[A-Za-z0-9]+",
        ),
        ("Google API key", ("AIza",), r"\bAIza[0-9A-Za-z_-]{35}\b"),
        ("SendGrid key", ("SG.",), r"\bSG\.[\w-]{22}\.[\w-]{43}\b"),
        (
            "OpenAI key",
            ("T3BlbkFJ",),
            r"\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}T3BlbkFJ[A-Za-z0-9_-]{20,}\b",
        ),
        ("Anthropic key", ("sk-ant-",), r"\bsk-ant-[A-Za-z0-9_-]{32,}\b"),
        ("npm token", ("npm_",), r"\bnpm_[A-Za-z0-9]{36}\b"),
        (
            "private key",
            ("PRIVATE KEY-----",),
            r"-----BEGIN (?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?PRIVATE KEY-----",
        ),
    )
)

# A connection URL with a password in it: scheme://user:password@host
_URL_CREDENTIALS = re.compile(
    r"\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql)"
    r"(?:\+\w+)?://(?P<user>[^\s:@/'\"`]+):(?P<password>[^\s@/'\"`]+)@(?P<host>[^\s/:'\"`?]+)"
)

_URL_CREDENTIALS_HINT = hint(_URL_CREDENTIALS.pattern)
# any provider at all: most files have none, and one look-up then spares twelve
_ANY_PROVIDER_HINT = hint("|".join(f"(?:{pattern.pattern})" for _, _, pattern, _ in PROVIDERS))

_SECRET_WORDS = re.compile(
    r"(password|passwd|passphrase|secret|secret[_-]?key|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|auth[_-]?key|signing[_-]?key|encryption[_-]?key|credentials?)$",
    re.IGNORECASE,
)
# Names that contain a secret word but hold something else (a field name, a URL, a length...).
_NOT_A_SECRET_NAME = re.compile(
    r"(_|\b)(name|names|field|fields|url|uri|endpoint|path|file|env|var|header|prefix|type|kind"
    r"|length|len|min|max|label|placeholder|hint|pattern|regex|re|id|key_id|ttl|expiry|expires"
    r"|hash|hashed|hasher|salt_rounds|policy|count|version|format|error|message|msg|reset|manager"
    r"|provider|store|service|class|serializer|input|param|query|arn)$",
    re.IGNORECASE,
)
# name  [:=]  "value"   (quoted, for code; `config["NAME"] = "value"` too)   or   name: value /
# name=value   (config files)
# Secret words are rare, so they are found first and the assignment is matched around each one.
_SECRET_WORD = re.compile(  # run on lower-cased text
    r"(?:password|passwd|passphrase|secret|secret[_-]?key|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|auth[_-]?key|signing[_-]?key|encryption[_-]?key|credentials?)(?![\w])"
)
_ASSIGNED_LITERAL = re.compile(
    r"""["']?\]?\s*(?::=|=|:|=>)\s*(?:[rbuRBU]{0,2})(?P<q>["'`])(?P<value>[^"'`\n]{6,200})(?P=q)"""
)
# Where a quoted assignment can be: a secret word, the operator and an opening quote.
_QUOTED_HINT = hint(
    _SECRET_WORD.pattern + r"""["']?\s*(?::=|=|:|=>)\s*(?:[rbu]{0,2})["'`]""", lowered=True
)
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")


def _quoted_assignments(text: str, lowered: str) -> Iterable[tuple[int, str, str]]:
    """(offset, name, value) of `name = "literal"` where the name ends in a secret word
    (`lowered` is `text.lower()` with the same offsets)."""
    for word in _SECRET_WORD.finditer(lowered):
        literal = _ASSIGNED_LITERAL.match(text, word.end())
        if literal is None:
            continue
        start = word.start()
        while start > 0 and text[start - 1] in _NAME_CHARS:
            start -= 1
        yield start, text[start : word.end()], literal.group("value")


_BARE_ASSIGNMENT = re.compile(
    r"""^\s*(?:export\s+)?(?P<name>[A-Za-z_][\w.-]*)\s*[:=]\s*(?P<value>[^\s#'"]{6,200})\s*$"""
)
# Where a bare assignment can be reported: a name ending in a secret word, then `:` or `=`.
# (Not anchored at a line start: `ctx.lines` also breaks lines at \r and \f, `^` does not.)
_BARE_HINT = hint(_SECRET_WORDS.pattern.removesuffix("$") + r"\s*[:=]", lowered=True)

_PLACEHOLDER = re.compile(
    r"(change[_-]?me|example|placeholder|dummy|sample|fake|test|redacted|your[_-]|my[_-]?(secret|password|token)"
    r"|secret[_-]?here|xxx|\*\*\*|\.\.\.|<[^>]*>|\$\{[^}]*\}|\{\{[^}]*\}\}|%\([^)]*\)s|(?-i:(?<![\w$])\$[A-Z_][A-Z0-9_]*(?![a-z]))"
    r"|^\{[\w.]*\}$|^(password|passwd|pass|pwd|passphrase|secret|token|none|null|nil|undefined|true|false)$|(?-i:^[A-Z][A-Z0-9_]+$)"
    r"|^env\(|^os\.|^process\.env|^settings\.)",
    re.IGNORECASE,
)
_LOCAL_HOSTS = {
    "localhost",
    "127.0.0.1",
    "0.0.0.0",  # noqa: S104 (a host name to recognise, not one to bind)
    "db",
    "postgres",
    "postgresql",
    "mysql",
    "mariadb",
    "redis",
    "rabbitmq",
    "mongo",
    "mongodb",
    "host.docker.internal",
}
_DEV_PASSWORDS = {
    "postgres",
    "password",
    "pass",
    "root",
    "admin",
    "guest",
    "test",
    "dev",
    "secret",
    "mysql",
    "redis",
    "changeme",
    "example",
}
# Passwords of documentation examples (`scott:tiger`, `user:pass@host`): placeholders whatever
# the host. Weak passwords that could be real (`postgres`, `root`) count only for local hosts.
_EXAMPLE_PASSWORDS = {"pass", "passwd", "pwd", "pw", "password", "tiger", "secret", "xxx"}
_CODE_LANGUAGES = {"python", "javascript", "typescript", "tsx", "go", "java", "kotlin"}
# Source files of languages without rules of their own: code, not `name=value` config files.
_CODE_SUFFIXES = (
    ".pyx",
    ".pxd",
    ".pyi",
    ".rb",
    ".php",
    ".cs",
    ".rs",
    ".kt",
    ".kts",
    ".scala",
    ".swift",
    ".c",
    ".h",
    ".cc",
    ".cpp",
    ".hpp",
    ".m",
    ".mm",
    ".lua",
    ".pl",
    ".ex",
    ".exs",
    ".erl",
    ".dart",
    ".groovy",
    ".clj",
    ".hs",
    ".ml",
    ".fs",
    ".vb",
    ".r",
    ".jl",
    ".zig",
    ".nim",
)
# `password = other.password`, `token = ctx.step(response)`: a value computed by code
_CODE_VALUE = re.compile(r"\(|^[a-z_][a-z0-9_]*(?:\.[A-Za-z_]\w*)+$")


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def digest(secret: str) -> str:
    """What a hit carries instead of the secret (fingerprints stay stable; caches stay clean)."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:16]


def is_placeholder(value: str) -> bool:
    stripped = value.strip()
    if len(set(stripped)) <= 2:
        return True
    return bool(_PLACEHOLDER.search(stripped))


def _looks_secret(name: str, value: str) -> bool:
    if not _SECRET_WORDS.search(name.replace("-", "_")) or _NOT_A_SECRET_NAME.search(name):
        return False
    if is_placeholder(value) or " " in value.strip():
        return False
    if value.startswith(("/", "./", "http://", "https://")) and "@" not in value:
        return False
    lowered = name.lower()
    if "pass" in lowered:
        return len(value) >= 6
    if "secret" in lowered:
        return len(value) >= 8 and entropy(value) >= 2.5
    # Tokens and keys: long and random-looking.
    return len(value) >= 16 and entropy(value) >= 3.0


def _documentation(ctx: FileContext, line: int) -> bool:
    """A line of a Python docstring: an example for the reader, not a value in use. Provider
    keys are reported there all the same (they are real wherever they appear)."""
    return ctx.language == "python" and line in documentation_lines(ctx.text)


@file_detector("hardcoded_secrets")
def hardcoded_secrets(ctx: FileContext, options: dict[str, Any]) -> Iterable[Hit]:
    text = ctx.text
    seen_lines: set[int] = set()
    providers = PROVIDERS if ctx.may_match(_ANY_PROVIDER_HINT) else ()
    for label, hints, pattern, screened in providers:
        if not ctx.may_match(screened) or not any(h in text for h in hints):
            continue
        for m in pattern.finditer(text):
            line = ctx.line_of(m.start())
            seen_lines.add(line)
            yield Hit("", line, digest(m.group(0)), label)
    urls = "://" in text and ctx.may_match(_URL_CREDENTIALS_HINT)
    for m in _URL_CREDENTIALS.finditer(text) if urls else ():
        password, host = m.group("password"), m.group("host").lower()
        if is_placeholder(password) or password.startswith(("$", "{", "%")):
            continue
        if password.lower() in _EXAMPLE_PASSWORDS:
            continue
        if host in _LOCAL_HOSTS and (
            password.lower() in _DEV_PASSWORDS or password == m.group("user")
        ):
            continue
        line = ctx.line_of(m.start())
        if line not in seen_lines and not _documentation(ctx, line):
            seen_lines.add(line)
            yield Hit("", line, digest(password), "password in a connection URL")
    if ctx.language in {"compose", "dockerfile"}:
        return  # generic assignments there are SEC016/SEC017 (high), not this critical rule
    code = ctx.language in _CODE_LANGUAGES or ctx.path.lower().endswith(_CODE_SUFFIXES)
    if ctx.may_match(_QUOTED_HINT):
        yield from _quoted_secrets(ctx, seen_lines)
    if code or not ctx.may_match(_BARE_HINT):
        return
    for number, raw in enumerate(ctx.lines, start=1):
        if number in seen_lines:
            continue
        bare = _BARE_ASSIGNMENT.match(raw)
        if (
            bare
            and not _CODE_VALUE.search(bare.group("value"))
            and _looks_secret(bare.group("name"), bare.group("value"))
        ):
            seen_lines.add(number)
            yield Hit(
                "",
                number,
                digest(bare.group("value")),
                f"`{bare.group('name')}` is set to a literal",
            )


def _quoted_secrets(ctx: FileContext, seen_lines: set[int]) -> Iterable[Hit]:
    text = ctx.text
    lowered = ctx.lower_text
    if lowered is None:  # non-ASCII text: lower() could shift offsets, so fold per character
        lowered = "".join(c.lower() if len(c.lower()) == 1 else c for c in text)
    for offset, name, value in _quoted_assignments(text, lowered):
        if _looks_secret(name, value):
            line = ctx.line_of(offset)
            if line not in seen_lines and not _documentation(ctx, line):
                seen_lines.add(line)
                yield Hit("", line, digest(value), f"`{name}` is assigned a literal")
