"""What a configuration setting is (debug switch, signing secret, host or origin allow-list, initial
admin password) and whether the value it takes when its environment variable is unset is
insecure for that kind. Shared by the readers of Python, JavaScript/TypeScript, Go and Spring
configuration in `env_defaults_*`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# The kinds of setting, as rules name them in `options.settings`.
DEBUG = "debug"
SIGNING = "secret"  # a key that signs or encrypts (sessions, tokens, cookies)
HOSTS = "hosts"
FIRST_ADMIN = "admin_password"  # the password the first administrator is created with


@dataclass(frozen=True)
class EnvDefault:
    """A setting that takes an insecure value when the environment does not provide one.

    `setting` is the name the code gives it (the assignment target, key or field), or the
    variable's name when the value is used in place; `variables` are the environment variables
    whose absence produces it; `shown` is the fallback as a report may show it ("" for secrets).
    """

    kind: str
    line: int
    setting: str
    variables: tuple[str, ...]
    shown: str = ""
    # the fallback itself, to recognise a check that refuses it; never shown for secrets
    fallback: str = field(default="", compare=False, repr=False)

    def describe(self) -> str:
        unset = " / ".join(self.variables)
        if not unset and self.shown == DERIVED:
            return f"`{self.setting}` is derived from public data: anyone can compute it"
        if not unset:
            return f"`{self.setting}` is a constant the environment cannot change"
        if self.kind == DEBUG:
            return f"`{self.setting}` is on when {unset} is unset"
        if self.kind == HOSTS:
            return f"`{self.setting}` allows any host or origin when {unset} is unset"
        what = "a value derived from public data" if self.shown == DERIVED else "a constant"
        return f"`{self.setting}` falls back to {what} when {unset} is unset"


DERIVED = "derived"

_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")


def normalised(name: str) -> str:
    """`jwtSecret`, `JWT-SECRET`, `jwt.secret` -> `jwt_secret`."""
    return _SEPARATORS.sub("_", _CAMEL.sub("_", name).lower()).strip("_")


_DEBUG_NAME = re.compile(r"^(?:(?:django|flask|app|server|api|web)_)?debug(?:_mode)?$")
_SECRET_NAME = re.compile(
    r"(?:^|_)(?:secret|secret_?key|jwt_?secret(?:_?key)?|jwt_?key|jwt_signing_key|signing_?key"
    r"|signing_?secret|session_?secret|cookie_?secret|encryption_?key|auth_?secret|token_?secret"
    r"|hmac_?secret|hmac_?key|app_?key|app_?secret|master_?key|webhook_?secret)$"
)
# Credentials of someone else's service or of a database server: a placeholder there breaks the
# integration (or is the server's business), it does not let anyone into this application.
_OTHER_SERVICE = re.compile(
    r"(?:^|_)(?:client|consumer|oauth|api|aws|access|minio|s3|storage|captcha|recaptcha|hcaptcha"
    r"|turnstile|ldap|smtp|mail|email|db|database|redis|postgres|postgresql|mysql|mariadb|mongo"
    r"|mongodb|rabbitmq|amqp|kafka|google|github|gitlab|facebook|twitter|slack|discord|sentry)_"
)
_HOSTS_NAME = re.compile(
    r"^(?:\w+_)?(?:allowed_hosts|trusted_hosts|allowed_origins|trusted_origins|cors_origins?"
    r"|cors_allowed_origins?|cors_origin_whitelist|cors_allow_origins?|allow_origins?|origins?)$"
)
_ALLOW_ALL_NAME = re.compile(r"^(?:cors_allow_all(?:_origins)?|cors_origin_allow_all)$")
_ADMIN_PASSWORD_NAME = re.compile(
    r"^(?:\w+_)?(?:first_superuser|superuser|su|admin|default|default_admin|initial_admin"
    r"|admin_user|root|bootstrap_admin|security_user)_?(?:password|pass|passwd|pwd)$"
)


def kind_of(name: str) -> str | None:
    """The kind of setting a name (a variable, key or field) denotes, if one of ours."""
    n = normalised(name)
    if _DEBUG_NAME.match(n):
        return DEBUG
    if _ADMIN_PASSWORD_NAME.match(n):
        return None if _OTHER_SERVICE.search(n) else FIRST_ADMIN
    if _SECRET_NAME.search(n):
        return None if _OTHER_SERVICE.search(n) else SIGNING
    if _HOSTS_NAME.match(n) or _ALLOW_ALL_NAME.match(n):
        return HOSTS
    return None


# Names that say nothing about what they hold (`key := os.Getenv("SIGNING_KEY")`).
_GENERIC_NAMES = frozenset(
    {"key", "value", "val", "v", "s", "x", "result", "default", "fallback", "env", "cfg", "conf"}
    | {"password", "pwd", "passwd"}  # `create_superuser(password=os.getenv("ADMIN_PASSWORD", ...))`
)


def setting_kind(target: str | None, variables: tuple[str, ...]) -> tuple[str, str] | None:
    """(kind, name) of a setting: by the name the code gives it; by its environment variable
    only when the value has no name of its own (an argument, `jwt.sign(p, env.X || "k")`)."""
    if target and normalised(target) not in _GENERIC_NAMES:
        kind = kind_of(target)
        return None if kind is None else (kind, target)
    for variable in variables:
        kind = kind_of(variable)
        if kind is not None:
            return kind, variable
    return None


_TRUE_WORDS = frozenset({"true", "1", "yes", "on", "t", "y"})


def truthy_text(value: str) -> bool:
    """How the usual boolean parsers of configuration read a string."""
    return value.strip().lower() in _TRUE_WORDS


def is_on(value: object) -> bool:
    if isinstance(value, str):
        return truthy_text(value)
    return value is True or (isinstance(value, int) and not isinstance(value, bool) and value == 1)


def allows_any(value: object) -> bool:
    """`*`, or a list / comma- or space-separated string with a `*` entry."""
    if isinstance(value, str):
        return "*" in (part.strip().strip("'\"") for part in re.split(r"[,\s]+", value))
    if isinstance(value, (list, tuple, set, frozenset)):
        return any(allows_any(item) for item in value if isinstance(item, str))
    return False


def insecure(kind: str, name: str, value: object) -> str | None:
    """What to show for `value` as the unset value of a setting of `kind` (None: not insecure).
    `value` is a plain value, DERIVED (computed from public data only), or anything else (not
    known: never insecure)."""
    if kind == DEBUG:
        return str(value) if is_on(value) else None
    if kind == HOSTS:
        if _ALLOW_ALL_NAME.match(normalised(name)):
            return str(value) if is_on(value) else None
        return "*" if allows_any(value) else None
    if value == DERIVED:
        return DERIVED
    if isinstance(value, str) and value.strip() and not _REFERENCE.match(value.strip()):
        return ""  # a constant: never shown
    return None


# A value that names where the real one comes from (`${JWT_SECRET}`, `$SECRET_KEY`), not one.
_REFERENCE = re.compile(r"^(\$\{[^}]*\}|\$[A-Z_][A-Z0-9_]*)$")

_NOT_PRODUCTION_WORDS = frozenset(
    {
        "dev",
        "develop",
        "development",
        "local",
        "test",
        "tests",
        "testing",
        "ci",
        "example",
        "examples",
        "sample",
        "smoketest",
        "e2e",
        "debug",
        "sandbox",
        "override",  # docker-compose.override.yml: merged in for local development
    }
)


def production_path(path: str) -> bool:
    """False for modules that configure development, tests or examples (`settings/dev.py`,
    `local_settings.py`, `configuration_testing.py`, `application-dev.yml`, `config.example.ts`)."""
    name = path.rsplit("/", 1)[-1].lower()
    stem_words = re.split(r"[^a-z0-9]+", name.rsplit(".", 1)[0] if "." in name else name)
    if _NOT_PRODUCTION_WORDS.intersection(stem_words):
        return False
    folders = path.lower().split("/")[:-1]
    if folders and folders[-1] in {"dev", "development", "local"}:
        return False
    return not _TEST_SUPPORT_FOLDERS.intersection(folders)


# Helpers for tests that the engine's test folders do not name (Go's `internal/testutil`).
_TEST_SUPPORT_FOLDERS = frozenset(
    {
        "testutil",
        "testutils",
        "testhelper",
        "testhelpers",
        "test_utils",
        "test_helpers",
        "testsupport",
    }
)
