"""Whether a literal assigned to a secret-named setting is a secret, judged from the name and
the value alone (where it stands is `secrets.py`'s business).

Not secrets, though bandit and detect-secrets report them: placeholders (`changeme`,
`changethis`, `${VAR}`, `<token>`, `lemmylemmy`), well-known local defaults (`postgres`), a value
made of its own name's words (`INVALID_PASSWORD = "invalid_password"`, an enum member or an
event name), a reference to a secret kept elsewhere (`from_secret: docker_password`), a path to a
file (`Token: models/token.md`, a navigation entry) and prose (`"Invalid password, try again"`).
A value with spaces is still a key when it is built like one: `"A String Very Strong!!@##$!@#$"`.
"""

from __future__ import annotations

import math
import re
from collections import Counter

SECRET_NAME = re.compile(
    r"(password|passwd|passphrase|secret|secret[_-]?key|token|api[_-]?key|apikey|access[_-]?key"
    r"|private[_-]?key|auth[_-]?key|signing[_-]?key|encryption[_-]?key|credentials?)$",
    re.IGNORECASE,
)
# Names that contain a secret word but hold something else (a field name, a URL, a length, a
# message...), or that refer to a secret kept elsewhere (`from_secret: docker_password`).
_NOT_A_SECRET_NAME = re.compile(
    r"(_|\b)(name|names|field|fields|url|uri|endpoint|path|file|env|var|header|prefix|type|kind"
    r"|length|len|min|max|label|placeholder|hint|pattern|regex|re|id|key_id|ttl|expiry|expires"
    r"|hash|hashed|hasher|salt_rounds|policy|count|version|format|error|message|msg|reset|manager"
    r"|provider|store|service|class|serializer|input|param|query|arn|text|title|description"
    r"|prompt|help)$|^from[_-]",
    re.IGNORECASE,
)

_PLACEHOLDER = re.compile(
    r"(change[_-]?(me|this|it)|example|placeholder|dummy|sample|fake|test|redacted|your[_-]"
    r"|my[_-]?(secret|password|token)"
    r"|secret[_-]?here|xxx|\*\*\*|\.\.\.|<[^>]*>|\$\{[^}]*\}|\{\{[^}]*\}\}|%\([^)]*\)s"
    r"|(?-i:(?<![\w$])\$[A-Z_][A-Z0-9_]*(?![a-z]))"
    r"|^\{[\w.]*\}$|^(password|passwd|pass|pwd|passphrase|secret|token|string|str|value|none"
    r"|null|nil|undefined|true|false)$|(?-i:^[A-Z][A-Z0-9_]+$)"
    r"|^env\(|^os\.|^process\.env|^settings\.)",
    re.IGNORECASE,
)
# `lemmylemmy`, `abcabc`, `123123`: a short unit typed again, as people do for a local password
_REPEATED = re.compile(r"^(.{2,8}?)\1+$")
# Passwords that images and tutorials use for local databases and brokers: known to everyone.
DEV_PASSWORDS = frozenset(
    {
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
)
# `invalid_csrf_token`, `account.set-password`: an identifier, not a secret
_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9]*(?:[_.:-][A-Za-z0-9]+)*$")
_WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
# `models/users/token.md`, `keys/server.pem`: where a thing is, not the thing
_FILE_PATH = re.compile(
    r"^[\w@~.-]*(?:/[\w@.-]+)*\.(md|rst|html?|txt|json|ya?ml|toml|ini|conf|cfg|xml|csv|png|svg"
    r"|jpe?g|gif|pem|key|crt|cer|der|pub|p12|pfx|jks|keystore|py|js|ts|go|java|sh)$",
    re.IGNORECASE,
)
# Punctuation of sentences; anything else between words is what a typed key is made of.
_PROSE_PUNCTUATION = frozenset(".,;:!?'\"()-")
_SYMBOL_RUN = re.compile(r"[^\w\s]{3,}")


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    n = len(value)
    return -sum(c / n * math.log2(c / n) for c in counts.values())


def is_placeholder(value: str) -> bool:
    """A value that stands for a secret without being one (`changeme`, `${DB_PASSWORD}`)."""
    stripped = value.strip()
    if len(set(stripped)) <= 2 or _REPEATED.match(stripped):
        return True
    return bool(_PLACEHOLDER.search(stripped))


def words(text: str) -> frozenset[str]:
    """Lower-cased words of a name or identifier (`JWT_INVALID_Token` -> jwt, invalid, token)."""
    return frozenset(w.lower() for w in _WORD.findall(text))


def names_itself(name: str, value: str) -> bool:
    """The value is an identifier made of the name's own words: an enum member or an event
    name (`INVALID_PASSWORD = "invalid_password"`), `password: password`."""
    return _IDENTIFIER.match(value) is not None and words(value) <= words(name)


def is_typed_key(value: str) -> bool:
    """A value with spaces that is a key all the same: a run of symbols that no sentence has
    (`"A String Very Strong!!@##$!@#$"`), not a message (`"Invalid password, try again"`)."""
    rare = sum(not c.isalnum() and not c.isspace() and c not in _PROSE_PUNCTUATION for c in value)
    return len(value) >= 12 and rare >= 3 and _SYMBOL_RUN.search(value) is not None


def looks_secret(name: str, value: str) -> bool:
    """Whether `name = value` (a literal) holds a secret, from the two alone."""
    if not SECRET_NAME.search(name.replace("-", "_")) or _NOT_A_SECRET_NAME.search(name):
        return False
    value = value.strip()
    if is_placeholder(value) or value.lower() in DEV_PASSWORDS or names_itself(name, value):
        return False
    if value.startswith(("/", "./", "http://", "https://")) and "@" not in value:
        return False
    if _FILE_PATH.match(value):
        return False
    if any(c.isspace() for c in value):
        return is_typed_key(value)
    lowered = name.lower()
    if "pass" in lowered:
        return len(value) >= 6
    if "secret" in lowered:
        return len(value) >= 8 and entropy(value) >= 2.5
    # Tokens and keys: long and random-looking.
    return len(value) >= 16 and entropy(value) >= 3.0
