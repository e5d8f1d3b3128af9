"""Placeholders with a fallback in configuration text.

Spring: `jwt.secret=${JWT_SECRET:changeme}` in `application.properties`, the same in YAML
(`secret: ${JWT_SECRET:changeme}` under `jwt:`), and `@Value("${jwt.secret:changeme}")` in Java;
the text after the colon is what the application uses when the variable is unset. A YAML
document for a development or test profile (`spring.config.activate.on-profile: dev`) is not
production. Compose: `SECRET_KEY=${SECRET_KEY:-changeme}` (or `${SECRET_KEY-changeme}`) in a
service's environment; `${SECRET_KEY:?}` refuses to start and is not a fallback.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from app.engine.detectors.setting_values import EnvDefault, insecure, setting_kind

_PLACEHOLDER = re.compile(r"\$\{(?P<variable>[\w.\-]+):(?P<fallback>[^}]*)\}")
_PROPERTY = re.compile(r"^\s*(?P<key>[\w.\-\[\]]+)\s*[=:]\s*(?P<value>.*)$")
_YAML_KEY = re.compile(r"^(?P<indent>[ \t]*)(?:-\s+)?(?P<key>[\w.\-]+)\s*:\s*(?P<value>.*)$")
# `spring.config.activate.on-profile: dev` (or the older `spring.profiles: dev`) in a document
_PROFILE_KEY = re.compile(r"(?:on-profile|spring\.profiles)$")
_DEVELOPMENT_PROFILE = re.compile(r"^(?:dev|development|local|test|testing|ci)$", re.I)
_JAVA_VALUE = re.compile(r"""@Value\(\s*["']\$\{(?P<variable>[\w.\-]+):(?P<fallback>[^}]*)\}""")


def _found(line: int, name: str, variable: str, fallback: str) -> EnvDefault | None:
    fallback = fallback.strip().strip("\"'")
    kind_and_name = setting_kind(name, (variable,))
    if kind_and_name is None:
        return None
    kind, setting = kind_and_name
    shown = insecure(kind, setting, fallback)
    if shown is None:
        return None
    return EnvDefault(kind, line, setting, (variable,), shown, fallback)


_COMPOSE_ENTRY = re.compile(
    r"""^\s*-?\s*["']?(?P<key>[A-Za-z_][\w.]*)["']?\s*[=:]\s*["']?"""
    r"""\$\{(?P<variable>\w+):?-(?P<fallback>[^}]*)\}"""
)


def compose_env_defaults(text: str) -> Iterator[EnvDefault]:
    """`KEY=${VARIABLE:-fallback}` entries with an insecure fallback in a compose file."""
    for number, line in enumerate(text.splitlines(), start=1):
        m = _COMPOSE_ENTRY.match(line)
        if m is not None:
            found = _found(number, m.group("key"), m.group("variable"), m.group("fallback"))
            if found is not None:
                yield found


def spring_env_defaults(language: str, text: str) -> Iterator[EnvDefault]:
    """Placeholders with an insecure fallback in a Spring configuration or Java source."""
    if language == "java":
        for number, line in enumerate(text.splitlines(), start=1):
            m = _JAVA_VALUE.search(line)
            if m is not None:
                variable = m.group("variable")
                found = _found(number, variable, variable, m.group("fallback"))
                if found is not None:
                    yield found
        return
    document: list[EnvDefault] = []  # YAML: findings of the current `---` document
    development = False  # that document is for a development or test profile
    parents: list[tuple[int, str]] = []  # YAML: (indent, key) of the enclosing mappings
    for number, line in enumerate(text.splitlines(), start=1):
        if language == "yaml" and line.startswith("---"):
            if not development:
                yield from document
            document, development, parents = [], False, []
            continue
        if language == "yaml":
            m = _YAML_KEY.match(line)
            if m is None:
                continue
            indent = len(m.group("indent"))
            while parents and parents[-1][0] >= indent:
                parents.pop()
            key = ".".join([k for _, k in parents] + [m.group("key")])
            if not m.group("value").strip():
                parents.append((indent, m.group("key")))
                continue
            value = m.group("value")
            if _PROFILE_KEY.search(key) and _DEVELOPMENT_PROFILE.match(value.strip("\"' ")):
                development = True
        else:
            m = _PROPERTY.match(line)
            if m is None or line.lstrip().startswith(("#", "!")):
                continue
            key, value = m.group("key"), m.group("value")
        placeholder = _PLACEHOLDER.search(value)
        if placeholder is not None:
            variable, fallback = placeholder.group("variable"), placeholder.group("fallback")
            found = _found(number, key, variable, fallback)
            if found is not None:
                document.append(found)
    if not development:
        yield from document
