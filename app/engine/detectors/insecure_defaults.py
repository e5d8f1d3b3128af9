"""Settings that become insecure when an environment variable is missing: debug on, a signing
secret or the first administrator's password set to a constant, any host or origin allowed.

One detector serves three rules (DEP017, SEC022, SEC024); `options.settings` names the kinds of
setting the rule reports. Files are screened for an environment read near a setting's name, and
each file is read once for all three (`env_defaults_*`, cached by text). Modules that configure
development, tests or examples are skipped (`setting_values.production_path`).

Django projects often split settings into `base.py` and `production.py`, which star-imports
the base and overrides what production needs: a base value the production module overrides is
not the production value, and its hit is withdrawn (`settings-override` facts).
"""

from __future__ import annotations

import ast
import posixpath
import re
from collections.abc import Iterable
from functools import lru_cache
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import RepoView, file_detector, hit_resolver
from app.engine.detectors.env_defaults_js import (
    go_env_defaults,
    js_env_defaults,
    may_have_fallbacks,
)
from app.engine.detectors.env_defaults_python import python_env_defaults
from app.engine.detectors.env_defaults_text import compose_env_defaults, spring_env_defaults
from app.engine.detectors.setting_values import DEBUG, HOSTS, EnvDefault, production_path
from app.engine.model import Fact, Hit
from app.engine.screen import hint

_NAMES = r"(?:debug|secret|jwt|_key|signing|encryption|hmac|hosts|origin|cors|passw|pwd)"
_READS = (
    r"(?:getenv|environ|env\b|env\.|env\w*\(|env_|_env|config\(|config\.get|configservice"
    r"|setdefault\(|\$\{|\.default\(|default:|hashlib|md5\(|sha\d+\(|uuid[35])"
)
# A setting's name and an environment read (or a default) on one line, or a settings model, an
# environ schema, a destructured process.env, or the host name used as a secret.
_CANDIDATE = re.compile(
    rf"{_NAMES}[^\n]*{_READS}|{_READS}[^\n]*{_NAMES}|class\s+\w+\([^)\n]*settings\)"
    r"|\}\s*=\s*process\.env|environ\.env\(|gethostname|getfqdn"
)
_CANDIDATE_HINT = hint(_CANDIDATE, lowered=True)


class _Source:
    """A file for `_env_defaults`: compared and hashed by its language and text (the cache key),
    it carries its context for the ast-grep tree, which other rules may have parsed already."""

    def __init__(self, ctx: FileContext) -> None:
        self.ctx = ctx
        self.key = (ctx.language or "", ctx.text)

    def __hash__(self) -> int:
        return hash(self.key)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Source) and self.key == other.key


@lru_cache(maxsize=4)  # three rules ask about the same file in a row
def _env_defaults(source: _Source) -> tuple[EnvDefault, ...]:
    language, text = source.key
    if language == "python":
        return python_env_defaults(text, lambda: source.ctx.python_ast, source.ctx)
    if language in {"properties", "yaml", "java"}:
        return tuple(spring_env_defaults(language, text))
    if language == "compose":
        return tuple(compose_env_defaults(text))
    if not may_have_fallbacks(source.ctx):
        return ()  # spares the parse
    if language == "go":
        return tuple(go_env_defaults(source.ctx.sg_root, text))
    return tuple(js_env_defaults(source.ctx.sg_root, text))


@file_detector("insecure_setting_default", needs=_CANDIDATE_HINT)
def insecure_setting_default(ctx: FileContext, options: dict[str, Any]) -> Iterable[Hit]:
    """Settings of the kinds in `options["settings"]` that are insecure when their environment
    variable is unset, in modules that configure production."""
    if not ctx.may_match(_CANDIDATE_HINT) or not production_path(ctx.path):
        return
    language = ctx.language or ""
    if language not in _LANGUAGES:
        return
    if ctx.seen is None:  # not screened: look for a candidate here
        lowered = ctx.lower_text if ctx.lower_text is not None else ctx.text.lower()
        if not _CANDIDATE.search(lowered):
            return
    kinds = set(options.get("settings", ()))
    if _TOOL_CONFIG.search(ctx.path):
        kinds -= {DEBUG, HOSTS}  # a bundler's or test runner's debug switch serves no one
    for found in _env_defaults(_Source(ctx)):
        if found.kind in kinds:
            yield Hit("", found.line, found.setting, found.describe())


# Build and test tool configuration (`vite.config.ts`, `jest.config.js`, `karma.conf.js`).
_TOOL_CONFIG = re.compile(
    r"(?:^|/)(?:[\w-]+\.(?:config|conf)(?:\.[\w-]+)?\.[cm]?[jt]s|gulpfile\.[jt]s)$", re.I
)
_LANGUAGES = frozenset(
    {"python", "javascript", "typescript", "tsx", "go", "java", "properties", "yaml", "compose"}
)
_STAR_IMPORT = re.compile(r"^from\s+(\.*)([\w.]*)\s+import\s+\*", re.MULTILINE)
_STAR_IMPORT_HINT = hint(_STAR_IMPORT)


@file_detector("settings_overrides", needs=_STAR_IMPORT_HINT)
def settings_overrides(ctx: FileContext, options: dict[str, Any]) -> Iterable[Fact]:
    """`settings-override` facts (`<imported module path>|<NAME>`) for each upper-case setting a
    production settings module assigns after star-importing another module."""
    if not ctx.may_match(_STAR_IMPORT_HINT) or not production_path(ctx.path):
        return
    imported = [
        _module_path(ctx.path, m.group(1), m.group(2)) for m in _STAR_IMPORT.finditer(ctx.text)
    ]
    if not imported:
        return
    tree = ctx.python_ast
    if tree is None:
        return
    names: dict[str, int] = {}
    for stmt in tree.body:
        targets = stmt.targets if isinstance(stmt, ast.Assign) else []
        if isinstance(stmt, ast.AnnAssign):
            targets = [stmt.target]
        for target in targets:
            if isinstance(target, ast.Name) and target.id.isupper():
                names.setdefault(target.id, stmt.lineno)
    for module in imported:
        for name, line in names.items():
            yield Fact("settings-override", f"{module}|{name}", line)


def _module_path(path: str, dots: str, module: str) -> str:
    """The file a `from <dots><module> import *` in `path` reads, as a path (relative imports)
    or a path suffix (absolute ones)."""
    relative = module.replace(".", "/") + ".py"
    if not dots:
        return relative
    folder = posixpath.dirname(path)
    for _ in range(len(dots) - 1):
        folder = posixpath.dirname(folder)
    return posixpath.join(folder, relative) if folder else relative


@hit_resolver("insecure_setting_default")
def _overridden_by_production_settings(path: str, hit: Hit, view: RepoView) -> bool:
    if not path.endswith(".py"):
        return False
    for _, fact in view.where("settings-override"):
        module, _, name = fact.value.rpartition("|")
        if name == hit.text and (path == module or path.endswith("/" + module)):
            return True
    return False
