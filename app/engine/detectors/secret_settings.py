"""A secret kept as a development default in a settings module that production overrides.

Django and Flask projects split settings into modules: `base.py` holds a literal `SECRET_KEY`
for development and `production.py`, beside it, reads `SECRET_KEY = env("SECRET_KEY")`. The
literal never signs anything in production, so it is not a leaked credential (SEC001); it is
still a default that ships, used wherever the override is forgotten (SEC019, medium).

Per file, the secrets detector marks a module-level Python assignment in its hit's detail
(`setting `NAME` is ...`) and a fact records each setting read from the environment. Per
repository, these resolvers move the hit: SEC001 keeps the settings nobody overrides, SEC019
the ones a sibling module takes from the environment.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterable
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import RepoView, file_detector, hit_resolver
from app.engine.detectors.secret_values import SECRET_NAME
from app.engine.detectors.secrets import SETTING, hardcoded_secrets
from app.engine.model import Fact, Hit
from app.engine.screen import hint

FACT = "secret-setting-from-environment"
# `SECRET_KEY = env("SECRET_KEY")`, `SECRET_KEY: str = os.environ["SECRET_KEY"]`
_FROM_ENVIRONMENT = re.compile(
    r"^(?P<name>[A-Z][A-Z0-9_]*)\s*(?::[^=\n]*)?=\s*(?:os\.environ\b|os\.getenv\(|getenv\("
    r"|environ\.|env(?:\.\w+)?\(|config\(|get_env\w*\(|get_secret\w*\()",
    re.MULTILINE,
)
_ENVIRONMENT_WORDS = ("environ", "getenv", "env(", "env.", "config(", "get_env", "get_secret")
# `SECRET_KEY = "..."` at the start of a line: the only shape SEC019 reports
_MODULE_LITERAL = re.compile(
    r"""^[A-Z0-9_]*(?:PASSWORD|PASSWD|PASSPHRASE|SECRET|TOKEN|KEY|CREDENTIALS?)"""
    r"""\s*(?::[^=\n]*)?=\s*[rbuRBU]{0,2}["']""",
    re.MULTILINE,
)
# screened with the rules' patterns: RE2 finds where Python's engine need look
_FROM_ENVIRONMENT_HINT = hint(_FROM_ENVIRONMENT)
_MODULE_LITERAL_HINT = hint(_MODULE_LITERAL)
_SETTING_DETAIL = re.compile(r"^" + SETTING + r"`(?P<name>[A-Z][A-Z0-9_]*)` is assigned")


@file_detector("secret_settings_from_environment", needs=_FROM_ENVIRONMENT_HINT)
def secret_settings_from_environment(ctx: FileContext, options: dict[str, Any]) -> Iterable[Fact]:
    """A fact per secret-named module setting read from the environment."""
    text = ctx.text
    # every match holds one of the words: a screened file is looked at where RE2 finds one
    if ctx.seen is None and not any(word in text for word in _ENVIRONMENT_WORDS):
        return
    for m in ctx.finditer(_FROM_ENVIRONMENT_HINT, _FROM_ENVIRONMENT, text):
        if SECRET_NAME.search(m.group("name")):
            yield Fact(FACT, m.group("name"), ctx.line_of(m.start()))


@file_detector("overridden_secret_defaults", needs=_MODULE_LITERAL_HINT)
def overridden_secret_defaults(ctx: FileContext, options: dict[str, Any]) -> Iterable[Hit]:
    """The module-level secret settings of a Python file (the resolver keeps the overridden)."""
    if ctx.search(_MODULE_LITERAL_HINT, _MODULE_LITERAL, ctx.text) is None:
        return
    for hit in hardcoded_secrets(ctx, options):
        if isinstance(hit, Hit) and hit.detail.startswith(SETTING):
            yield hit


def _overridden(path: str, hit: Hit, view: RepoView) -> bool:
    m = _SETTING_DETAIL.match(hit.detail)
    if m is None:
        return False
    folder = posixpath.dirname(path)
    return any(
        fact.value == m.group("name") and other != path and posixpath.dirname(other) == folder
        for other, fact in view.where(FACT)
    )


@hit_resolver("hardcoded_secrets")
def _a_default_overridden_in_production(path: str, hit: Hit, view: RepoView) -> bool:
    return _overridden(path, hit, view)


@hit_resolver("overridden_secret_defaults")
def _a_secret_nobody_overrides(path: str, hit: Hit, view: RepoView) -> bool:
    return not _overridden(path, hit, view)
