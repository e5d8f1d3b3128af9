"""Hardcoded secrets: known provider formats anywhere, plus entropy-checked generic assignments.

What peers report as secrets on real repositories is mostly noise: integrity hashes in lock files
(the engine never shows lock files to rules), alembic revision ids (not secret-named), fixtures in
test folders, example files and test configuration (skipped by role), placeholders and names
(`secret_values.py`). Where a literal stands matters as well: prose (Markdown, docstrings) and
commented-out lines show examples; a CI job's service container (`services: postgres: env:`) is
a database that lives for one run; a password equal to the user or database name beside it
(`POSTGRES_USER: app` / `POSTGRES_PASSWORD: app`) is a local default; a configuration file whose
other credentials are placeholders is a template. A URL password for a container of the same
compose file belongs to the compose rule (SEC017), not to this one. An AWS access key id alone
identifies a key; it is reported only with a secret access key beside it.

The secret itself never leaves this module: a hit carries a digest of it.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import file_detector
from app.engine.detectors.secret_values import (
    DEV_PASSWORDS,
    SECRET_NAME,
    is_placeholder,
    looks_secret,
    words,
)
from app.engine.detectors.yaml_nodes import YamlDocumentError, documents, get, items
from app.engine.model import Hit
from app.engine.python_strings import file_documentation_lines
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

# name  [:=]  "value"   (quoted, for code; `config["NAME"] = "value"` too)   or   name: value /
# name=value   (config files)
# Secret words are rare, so they are found first and the assignment is matched around each one.
_SECRET_WORD = re.compile(  # run on lower-cased text
    r"(?:password|passwd|passphrase|secret|secret[_-]?key|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|auth[_-]?key|signing[_-]?key|encryption[_-]?key|credentials?)(?![\w])"
)
# The operator, after a type where the language writes one (`SECRET: str =`, `secret: string =`,
# Go's `Secret string =`).
# (`config["SECRET"] =`: a quote and a bracket may close the name; then no type follows it)
_OPERATOR = r"""(?:(?:\s*:\s*|[ \t]+)[A-Za-z_][\w.]*(?:\[\])?\s*=|["']?\]?\s*(?::=|=|:|=>))"""
_ASSIGNED_LITERAL = re.compile(
    _OPERATOR + r"""\s*(?:[rbuRBU]{0,2})(?P<q>["'`])(?P<value>[^"'`\n]{6,200})(?P=q)"""
)
# Where a quoted assignment can be: a secret word, the operator and an opening quote.
_QUOTED_HINT = hint(_SECRET_WORD.pattern + _OPERATOR + r"""\s*(?:[rbu]{0,2})["'`]""", lowered=True)
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
_BARE_HINT = hint(SECRET_NAME.pattern.removesuffix("$") + r"\s*[:=]", lowered=True)

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


# An AWS secret access key: 40 characters of base64 (a git sha1 is hex, lower case only).
_AWS_SECRET_SHAPE = re.compile(r"(?<![A-Za-z0-9/+])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])")
# A user or database name beside a password (`POSTGRES_USER: app`, `"USER": "app",`).
_NAME_SETTING = re.compile(
    r"""(?:user(?:name)?|login|db|database|name)["']?\s*[:=]\s*["']?(?P<value>[^\s"',;]+)""",
    re.IGNORECASE,
)
_NEARBY_LINES = 6
# Where a line is nothing but a comment, by file kind (`#` is JavaScript's private field).
_SLASH_COMMENTS: tuple[str, ...] = ("//", "/*", "*")
_COMMENT_MARKERS: dict[str, tuple[str, ...]] = {
    "javascript": _SLASH_COMMENTS,
    "typescript": _SLASH_COMMENTS,
    "tsx": _SLASH_COMMENTS,
    "go": _SLASH_COMMENTS,
    "java": _SLASH_COMMENTS,
    "kotlin": _SLASH_COMMENTS,
    "gradle": _SLASH_COMMENTS,
    "sql": ("--", "/*", "*"),
}
_HASH_COMMENTS: tuple[str, ...] = ("#",)
# other kinds (hjson, ini, Ruby, C...): any of the usual markers
_OTHER_COMMENTS: tuple[str, ...] = ("#", "//", "/*", "*", "--", ";")
_HASH_LANGUAGES = {"python", "yaml", "workflow", "env", "shell", "toml", "properties", "terraform"}
# A phrase assigned to a name that says secret or key is a key; to a password, only if the code
# signs or encrypts with it (`[]byte(Secret)`, `jwt.sign(claims, secret)`).
_KEY_NAME = re.compile(r"secret|key|token", re.IGNORECASE)
_KEY_USE = re.compile(
    r"\[\]byte\(|\bsign|hmac|jwt|encrypt|decrypt|cipher|fernet|secret", re.IGNORECASE
)
# A configuration file with this many example credentials is a template to fill in.
_INTERPOLATION = re.compile(r"\$|\{\{|%\(|^(env|os|process|settings)\b")
_TEMPLATE_PLACEHOLDERS = 2
# How the detail of a module-level Python setting starts (`secret_settings.py` reads it).
SETTING = "setting "


def digest(secret: str) -> str:
    """What a hit carries instead of the secret (fingerprints stay stable; caches stay clean)."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()[:16]


@dataclass
class _Candidate:
    line: int
    name: str
    value: str
    source: str  # the line it stands on
    detail: str


@dataclass
class _Scan:
    """One file's scan: lines already reported, and how many credentials are placeholders."""

    ctx: FileContext
    reported: set[int] = field(default_factory=set)
    stand_ins: int = 0

    def line_text(self, offset: int) -> str:
        text = self.ctx.text
        start = text.rfind("\n", 0, offset) + 1
        end = text.find("\n", offset)
        return text[start : end if end >= 0 else len(text)]


@file_detector("hardcoded_secrets")
def hardcoded_secrets(ctx: FileContext, options: dict[str, Any]) -> Iterable[Hit]:
    """Every hard-coded secret of the file (found once per file: SEC019 asks for them too)."""
    found = ctx.memo.get(hardcoded_secrets)
    if found is None:
        found = ctx.memo[hardcoded_secrets] = list(_hardcoded_secrets(ctx))
    return iter(found)


def _hardcoded_secrets(ctx: FileContext) -> Iterator[Hit]:
    scan = _Scan(ctx)
    yield from _provider_keys(scan)
    if "documentation" in ctx.roles:
        return  # prose: its passwords and connection URLs are examples for the reader
    urls = list(_url_passwords(scan))
    if ctx.language in {"compose", "dockerfile"}:
        yield from urls
        return  # generic assignments there are SEC016/SEC017 (high), not this critical rule
    candidates = [c for c in _assignments(scan) if _in_use(scan, c)]
    code = ctx.language in _CODE_LANGUAGES or ctx.path.lower().endswith(_CODE_SUFFIXES)
    if not code and scan.stand_ins >= _TEMPLATE_PLACEHOLDERS:
        return  # a template: its other credentials are placeholders, so this one is an example
    yield from urls
    if candidates and ctx.language == "workflow":
        services = _service_container_lines(ctx)
        candidates = [c for c in candidates if c.line not in services]
    for candidate in candidates:
        yield Hit("", candidate.line, digest(candidate.value), candidate.detail)


def _provider_keys(scan: _Scan) -> Iterator[Hit]:
    ctx = scan.ctx
    if not ctx.may_match(_ANY_PROVIDER_HINT):
        return
    text = ctx.text
    for label, hints, pattern, screened in PROVIDERS:
        if not ctx.may_match(screened) or not any(h in text for h in hints):
            continue
        if label == "AWS access key id" and not _aws_secret_key_in(text):
            continue  # the id names a key; without its secret it grants nothing
        for m in pattern.finditer(text):
            line = ctx.line_of(m.start())
            scan.reported.add(line)
            yield Hit("", line, digest(m.group(0)), label)


def _aws_secret_key_in(text: str) -> bool:
    return any(
        any(c.isupper() for c in value)
        and any(c.islower() for c in value)
        and any(c.isdigit() for c in value)
        and not is_placeholder(value)
        for value in _AWS_SECRET_SHAPE.findall(text)
    )


def _url_passwords(scan: _Scan) -> Iterator[Hit]:
    ctx = scan.ctx
    text = ctx.text
    if "://" not in text or not ctx.may_match(_URL_CREDENTIALS_HINT):
        return
    compose = ctx.language == "compose"
    for m in _URL_CREDENTIALS.finditer(text):
        user, password, host = m.group("user"), m.group("password"), m.group("host")
        if _example_password(password):
            scan.stand_ins += not _INTERPOLATION.search(password)
            continue
        if _container_host(host) and (compose or _local_default(password, user)):
            continue  # compose: the container is defined beside it (SEC017's business)
        line = ctx.line_of(m.start())
        if line in scan.reported or _documentation(ctx, line):
            continue
        if _commented(ctx, scan.line_text(m.start())):
            continue
        scan.reported.add(line)
        yield Hit("", line, digest(password), "password in a connection URL")


def written_url_password(value: str) -> str | None:
    """The password written into a connection URL in `value`, unless it is a placeholder, a
    documentation example or a local database's well-known default (`postgres:postgres@db`)."""
    for m in _URL_CREDENTIALS.finditer(value):
        user, password, host = m.group("user"), m.group("password"), m.group("host")
        if _example_password(password):
            continue
        if not (_container_host(host) and _local_default(password, user)):
            return password
    return None


def _example_password(password: str) -> bool:
    """`${DB_PASSWORD}`, `changeme`, `scott:tiger`: not a password anyone uses."""
    return (
        is_placeholder(password)
        or password.startswith(("$", "{", "%"))
        or password.lower() in _EXAMPLE_PASSWORDS
    )


def _container_host(host: str) -> bool:
    """`localhost`, `db`, `tenant_db`: this machine or a container's name, not a network host."""
    lowered = host.lower()
    return lowered in _LOCAL_HOSTS or "." not in lowered


def _local_default(password: str, user: str) -> bool:
    """`postgres:postgres`, `app_ro:app@localhost`: the well-known password of a local database."""
    lowered = password.lower()
    return lowered in DEV_PASSWORDS or lowered == user.lower() or lowered in words(user)


def _assignments(scan: _Scan) -> Iterator[_Candidate]:
    """Literals assigned to secret-named names (`name = "literal"` anywhere, `name: value` and
    `name=value` in configuration files) that look like secrets; the placeholders among them
    are counted."""
    ctx = scan.ctx
    code = ctx.language in _CODE_LANGUAGES or ctx.path.lower().endswith(_CODE_SUFFIXES)
    if ctx.may_match(_QUOTED_HINT):
        text = ctx.text
        lowered = ctx.lower_text
        if lowered is None:  # non-ASCII text: lower() keeps offsets unless a letter grows
            lowered = text.lower()
            if len(lowered) != len(text):  # only `İ` does (`i̇`): keep it, lower the rest
                lowered = "İ".join(part.lower() for part in text.split("İ"))
        for offset, name, value in _quoted_assignments(text, lowered):
            if not looks_secret(name, value):
                scan.stand_ins += _stands_in(name, value)
                continue
            spaced = any(c.isspace() for c in value)
            if spaced and not _KEY_NAME.search(name) and not _used_as_key(text, name):
                continue  # a password-named phrase the code never signs with: a sentinel
            line = ctx.line_of(offset)
            if line in scan.reported:
                continue
            scan.reported.add(line)
            source = scan.line_text(offset)
            module_setting = ctx.language == "python" and source.startswith(name)
            detail = f"{SETTING if module_setting else ''}`{name}` is assigned a literal"
            yield _Candidate(line, name, value, source, detail)
    if code or not ctx.may_match(_BARE_HINT):
        return
    for number, raw in enumerate(ctx.lines, start=1):
        bare = _BARE_ASSIGNMENT.match(raw)
        if bare is None or number in scan.reported or _CODE_VALUE.search(bare.group("value")):
            continue
        name, value = bare.group("name"), bare.group("value")
        if not looks_secret(name, value):
            scan.stand_ins += _stands_in(name, value)
            continue
        scan.reported.add(number)
        yield _Candidate(number, name, value, raw, f"`{name}` is set to a literal")


def _used_as_key(text: str, name: str) -> bool:
    """Whether the file hands `name` to something that signs or encrypts with it."""
    if not name.isidentifier():
        return False
    pattern = re.compile(r"(?<![\w.])" + re.escape(name) + r"\b")
    for m in pattern.finditer(text):
        start = text.rfind("\n", 0, m.start()) + 1
        end = text.find("\n", m.end())
        used = _KEY_USE.search(text, start, end if end >= 0 else len(text))
        if used and not _ASSIGNED_LITERAL.match(text, m.end()):
            return True
    return False


def _stands_in(name: str, value: str) -> bool:
    """A secret-named setting holding an example (`api_key: "string"`, `changeme`); not one
    read from the environment (`${DB_PASSWORD}`), which is how real configuration looks."""
    if not SECRET_NAME.search(name.replace("-", "_")) or _INTERPOLATION.search(value):
        return False
    return is_placeholder(value) or value.lower() in DEV_PASSWORDS


def _in_use(scan: _Scan, candidate: _Candidate) -> bool:
    """Whether the literal is a value the program uses: not in a comment or a docstring, and
    not the password of a local database named beside it."""
    ctx = scan.ctx
    if _commented(ctx, candidate.source) or _documentation(ctx, candidate.line):
        return False
    first = max(0, candidate.line - 1 - _NEARBY_LINES)
    nearby = ctx.lines[first : candidate.line + _NEARBY_LINES]
    return not any(
        m.group("value") == candidate.value for text in nearby for m in _NAME_SETTING.finditer(text)
    )


def _commented(ctx: FileContext, source: str) -> bool:
    """A line that is nothing but a comment (a commented-out setting is not one in use)."""
    language = ctx.language or ""
    if language in _COMMENT_MARKERS:
        markers = _COMMENT_MARKERS[language]
    elif language in _HASH_LANGUAGES:
        markers = _HASH_COMMENTS
    else:
        markers = _OTHER_COMMENTS
    return source.lstrip().startswith(markers)


def _documentation(ctx: FileContext, line: int) -> bool:
    """A line of a Python docstring: an example for the reader, not a value in use. Provider
    keys are reported there all the same (they are real wherever they appear)."""
    return ctx.language == "python" and line in file_documentation_lines(ctx)


def _service_container_lines(ctx: FileContext) -> frozenset[int]:
    """Lines of a workflow's service containers (`jobs.<id>.services`): databases and brokers
    started for one CI run and thrown away with it."""
    try:
        docs = documents(ctx.text)
    except YamlDocumentError:
        return frozenset()
    lines: set[int] = set()
    for doc in docs:
        for _, _, job in items(get(doc, "jobs")):
            for _, _, service in items(get(job, "services")):
                end = service.end_mark.line + (1 if service.end_mark.column else 0)
                lines.update(range(service.start_mark.line + 1, end + 1))
    return frozenset(lines)
