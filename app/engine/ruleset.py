"""Rules as data: `rules/*.yml` loaded and validated by pydantic, with a digest for caching.

A rule file holds `rules:` (findings) and optionally `facts:` (small records that repository-level
rules read). Errors name the file, the rule and the field:
`rules/security.yml: SEC004: matcher: ...`.
"""

from __future__ import annotations

import hashlib
import json
import re
from functools import cached_property, lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from app.engine.model import CATEGORY_BY_ID, Severity
from app.engine.paths import language_of, matches_any, roles_of
from app.engine.vulnerabilities import Advisory

LANGUAGES = frozenset(
    {
        "python",
        "javascript",
        "typescript",
        "tsx",
        "go",
        "java",
        "kotlin",
        "dockerfile",
        "compose",
        "workflow",
        "yaml",
        "json",
        "toml",
        "sql",
        "env",
        "gitignore",
        "dockerignore",
        "npmrc",
        "properties",
        "xml",
        "gradle",
        "shell",
        "terraform",
        "requirements",
        "any",
    }
)
AST_GREP_LANGUAGES = frozenset({"python", "javascript", "typescript", "tsx", "go", "java", "yaml"})


class RuleError(ValueError):
    """A rule file that cannot be used; the message names file, rule and field."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RegexMatcher(_Strict):
    pattern: str
    ignore_case: bool = False
    # Literal strings of which at least one must occur for the pattern to be tried (a pre-filter).
    keywords: tuple[str, ...] = ()

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, value: str, info: ValidationInfo) -> str:
        if info.context and info.context.get("patterns_checked"):
            return value  # checked when these very files were first loaded
        try:
            # with the engine's flags, so that the engine's compile finds it in re's cache
            re.compile(value, re.MULTILINE)
        except re.error as exc:
            raise ValueError(f"regex does not compile: {exc}") from exc
        return value


class AstGrepMatcher(_Strict):
    # One ast-grep rule object per language (`{"pattern": ...}`, `{"kind": ..., "has": ...}`, ...).
    rules: dict[str, dict[str, Any]]
    keywords: tuple[str, ...] = ()
    # A Python regex per language (or "any") that must match the file's text before the file is
    # parsed and the rule run: ast-grep compiles rules on every call, so skipping calls is the
    # cheapest speed-up there is. A prefilter must accept everything the rule can match.
    prefilter: dict[str, str] = Field(default_factory=dict)
    constraints: dict[str, dict[str, Any]] | None = None
    # A named Python judge (`detectors.NODE_JUDGES`) that looks again at each matched node with
    # what a pattern cannot see (where a value comes from, what guards it) and keeps or drops
    # it; it receives the matcher's `options`.
    judge: str | None = None

    @field_validator("prefilter")
    @classmethod
    def _prefilters_compile(cls, value: dict[str, str], info: ValidationInfo) -> dict[str, str]:
        if info.context and info.context.get("patterns_checked"):
            return value  # checked when these very files were first loaded
        for language, pattern in value.items():
            try:
                re.compile(pattern, re.MULTILINE)
            except re.error as exc:
                raise ValueError(f"prefilter for {language} does not compile: {exc}") from exc
        return value

    @field_validator("rules")
    @classmethod
    def _languages(cls, value: dict[str, dict[str, Any]]) -> dict[str, dict[str, Any]]:
        for language in value:
            if language not in AST_GREP_LANGUAGES:
                raise ValueError(f"ast-grep has no grammar here for {language!r}")
        return value


class RepoMatcher(_Strict):
    # The finding is raised when none of `missing` facts exists in the repository...
    missing: tuple[str, ...] = ()
    # ...and (when given) at least one of `when` facts exists (the check applies to this stack).
    when: tuple[str, ...] = ()
    # Or a named Python detector over the tree and facts.
    detector: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one(self) -> RepoMatcher:
        if not self.missing and not self.detector:
            raise ValueError("a repo matcher needs `missing` facts or a `detector`")
        return self


class Matcher(_Strict):
    regex: RegexMatcher | None = None
    ast_grep: AstGrepMatcher | None = None
    detector: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)
    repo: RepoMatcher | None = None
    # Findings the engine does not find by reading files: the caller hands them in as hits
    # (`known-vulnerabilities`: OSV for the CLI and the Action, Dependabot alerts for the App).
    external: Literal["known-vulnerabilities"] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Matcher:
        kinds = ("regex", "ast_grep", "detector", "repo", "external")
        chosen = [n for n in kinds if getattr(self, n)]
        if len(chosen) != 1:
            raise ValueError(
                "exactly one of regex, ast_grep, detector, repo, external is required"
                + (f" (got {', '.join(chosen)})" if chosen else "")
            )
        return self


class ExampleAdvisory(_Strict):
    """An advisory an external source would report for a pinned package (the examples of
    `external: known-vulnerabilities` rules stand in for OSV with these)."""

    ecosystem: str
    name: str
    version: str
    id: str
    severity: Severity
    aliases: tuple[str, ...] = ()
    fixed: tuple[str, ...] = ()

    def advisory(self) -> Advisory:
        return Advisory(self.id, self.severity, self.aliases, self.fixed)


class Example(_Strict):
    """A tiny tree: path -> file content. Bad examples must produce the rule; good ones must not."""

    files: dict[str, str]
    note: str = ""
    advisories: tuple[ExampleAdvisory, ...] = ()

    def known_vulnerabilities(self) -> dict[tuple[str, str, str], list[Advisory]]:
        """The example's advisories by (ecosystem, name, version)."""
        out: dict[tuple[str, str, str], list[Advisory]] = {}
        for item in self.advisories:
            out.setdefault((item.ecosystem, item.name, item.version), []).append(item.advisory())
        return out


class Examples(_Strict):
    bad: list[Example]
    good: list[Example]

    @field_validator("bad", "good", mode="before")
    @classmethod
    def _listify(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return [value]
        return value


class PathFilter(_Strict):
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()


class Rule(_Strict):
    id: str = Field(pattern=r"^[A-Z]{2,5}\d{3}$")
    name: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    category: str
    severity: Severity
    stop_ship: bool = False
    points: int = Field(ge=0, le=100)
    max_points: int | None = Field(default=None, ge=0, le=100)
    # Minutes an engineer who knows the code needs to fix one instance (quick wins: under 5).
    effort: int = Field(ge=1, le=480)
    # What happens in production if it ships (the issue register's and the JSON's `impact`).
    impact: str = Field(min_length=1)
    status: Literal["stable", "preview", "deprecated"] = "stable"
    since: str = "0.1.0"
    # Bump when what the rule finds changes without its YAML changing (its detector's code): the
    # App's cached results for the files this rule looks at are then re-analysed, lazily.
    version: int = Field(default=1, ge=1)
    languages: tuple[str, ...] = ()
    paths: PathFilter = PathFilter()
    # Tests, fixtures, examples and docs are not production code; most rules skip them.
    in_tests: bool = False
    in_cli: bool = True
    # False: hits on the documentation lines of Python files (docstrings and comment lines) are
    # dropped: a query quoted in a library's docstring is an example for the reader, not code
    in_documentation: bool = True
    in_migrations: bool = True
    only_migrations: bool = False
    # Release-gate checklist item this rule feeds ("ci", "migrations").
    gate: Literal["ci", "migrations"] | None = None
    # Shown under "What's done well" when the rule applies and finds nothing.
    praise: str = ""
    matcher: Matcher
    message: str
    why: str
    fix: str
    examples: Examples

    @field_validator("category")
    @classmethod
    def _known_category(cls, value: str) -> str:
        if value not in CATEGORY_BY_ID:
            raise ValueError(f"unknown category {value!r} (one of {', '.join(CATEGORY_BY_ID)})")
        return value

    @field_validator("languages")
    @classmethod
    def _known_languages(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [v for v in value if v not in LANGUAGES]
        if unknown:
            raise ValueError(f"unknown language(s): {', '.join(unknown)}")
        return value

    @property
    def is_repo_rule(self) -> bool:
        return self.matcher.repo is not None

    @property
    def is_external(self) -> bool:
        """Whether its findings come from outside the engine (handed in as hits by path)."""
        return self.matcher.external is not None

    def applies_to_kind(self, language: str | None, roles: frozenset[str]) -> bool:
        """Whether this file-level rule looks at files of this language and these roles."""
        if self.is_repo_rule:
            return False
        if self.languages and "any" not in self.languages and language not in self.languages:
            return False
        if "lockfile" in roles:
            return False
        if "test" in roles and not self.in_tests:
            return False
        if "cli" in roles and not self.in_cli:
            return False
        if "migration" in roles and not self.in_migrations:
            return False
        return not (self.only_migrations and "migration" not in roles)

    @property
    def has_path_filter(self) -> bool:
        return bool(self.paths.include or self.paths.exclude)

    def path_allowed(self, path: str) -> bool:
        if self.paths.include and not matches_any(path, self.paths.include):
            return False
        return not (self.paths.exclude and matches_any(path, self.paths.exclude))

    def applies_to(self, path: str) -> bool:
        """Whether this (file-level) rule looks at `path` at all."""
        return self.applies_to_kind(language_of(path), roles_of(path)) and self.path_allowed(path)


class FactSpec(_Strict):
    """A fact emitted when a matcher matches a file (`health-endpoint` for a `/health` route)."""

    kind: str
    value: str = ""
    languages: tuple[str, ...] = ()
    in_tests: bool = False
    matcher: Matcher


class RuleFile(_Strict):
    rules: list[Rule] = Field(default_factory=list)
    facts: list[FactSpec] = Field(default_factory=list)

    @field_validator("rules", "facts", mode="before")
    @classmethod
    def _none_is_empty(cls, value: Any) -> Any:
        return [] if value is None else value


@lru_cache(maxsize=1)
def engine_digest() -> str:
    """A digest of the engine's source files (what a file's result depends on besides rules)."""
    engine = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(engine.rglob("*.py")):
        digest.update(path.relative_to(engine).as_posix().encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()


class Ruleset:
    """The loaded catalogue: rules by id, fact specs, and a digest of all of it for caching."""

    def __init__(self, rules: list[Rule], facts: list[FactSpec], source_digest: str) -> None:
        self.rules = rules
        self.by_id = {r.id: r for r in rules}
        self.facts = facts
        self._source_digest = source_digest

    @cached_property
    def digest(self) -> str:
        """Changes whenever a rule, a fact spec, the engine's code or its version changes: cached
        per-file results are only as good as the code that made them."""
        from app import __version__

        key = f"{__version__}:{engine_digest()}:{self._source_digest}"
        return hashlib.sha256(key.encode()).hexdigest()[:16]

    @cached_property
    def efforts(self) -> dict[str, int]:
        """Minutes to fix one instance, by rule id (quick wins are the fixes under 5 minutes)."""
        return {r.id: r.effort for r in self.rules}

    def file_rules(self) -> list[Rule]:
        return [r for r in self.rules if not r.is_repo_rule and not r.is_external]

    def repo_rules(self) -> list[Rule]:
        return [r for r in self.rules if r.is_repo_rule]


def default_rules_dir() -> Path:
    """`rules/` as shipped in the wheel (app/rules) or beside the package in a checkout."""
    shipped = Path(str(resources.files("app"))) / "rules"
    if shipped.is_dir():
        return shipped
    return Path(__file__).resolve().parents[2] / "rules"


def _describe(exc: ValidationError, data: Any) -> str:
    parts = []
    for error in exc.errors():
        loc = list(error["loc"])
        prefix = ""
        if len(loc) >= 2 and loc[0] in ("rules", "facts") and isinstance(loc[1], int):
            try:
                item = data[loc[0]][loc[1]]
                prefix = f"{item.get('id') or item.get('kind') or f'{loc[0]}[{loc[1]}]'}: "
            except (KeyError, IndexError, TypeError, AttributeError):
                prefix = f"{loc[0]}[{loc[1]}]: "
            loc = loc[2:]
        field = ".".join(str(x) for x in loc) or "(top level)"
        parts.append(f"{prefix}{field}: {error['msg']}")
    return "; ".join(parts)


class _UniqueKeyLoader(getattr(yaml, "CSafeLoader", yaml.SafeLoader)):  # type: ignore[misc]
    """SafeLoader that rejects duplicate keys: YAML keeps the last one silently, which would
    drop half of a matcher without a word."""


def _mapping_without_duplicates(loader: Any, node: yaml.MappingNode) -> Any:
    keys: set[Any] = set()
    for key_node, _ in node.value:
        if key_node.tag == "tag:yaml.org,2002:merge":
            continue  # `<<: *anchor` keys may be overridden by explicit ones
        key = loader.construct_object(key_node, deep=True)
        if key in keys:
            raise yaml.constructor.ConstructorError(
                None, None, f"duplicate key {key!r}", key_node.start_mark
            )
        keys.add(key)
    return loader.construct_mapping(node, deep=True)


_UniqueKeyLoader.add_constructor(
    yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_without_duplicates
)


class ParsedRulesStore(Protocol):
    """Keeps the rule files' YAML, parsed, by the digest of every file's name and bytes: parsing
    YAML is most of the cost of loading the catalogue. What it returns is data (JSON), which is
    validated again; only the regex compile checks already passed for that digest are skipped."""

    def parsed_rules(self, digest: str) -> str | None: ...

    def remember_parsed_rules(self, digest: str, text: str) -> None: ...


def load_ruleset(
    directory: Path | None = None, *, store: ParsedRulesStore | None = None
) -> Ruleset:
    """Load and validate every `*.yml` in `directory`; raise RuleError naming what is wrong."""
    directory = directory or default_rules_dir()
    files = sorted(directory.glob("*.yml"))
    if not files:
        raise RuleError(f"{directory}: no rule files (*.yml)")
    raws = [(file.name, file.read_bytes()) for file in files]
    digest = hashlib.sha256()
    for name, raw in raws:
        digest.update(name.encode() + b"\0" + raw)
    source = digest.hexdigest()
    stored = _stored(store, source, len(raws))
    context = {"patterns_checked": stored is not None}
    rules: list[Rule] = []
    facts: list[FactSpec] = []
    parsed_files: list[Any] = []
    seen: dict[str, str] = {}
    names: dict[str, str] = {}
    for i, (name, raw) in enumerate(raws):
        label = f"rules/{name}"
        if stored is not None:
            data = stored[i]
        else:
            try:
                data = yaml.load(raw, Loader=_UniqueKeyLoader) or {}  # noqa: S506 (a SafeLoader)
            except yaml.YAMLError as exc:
                raise RuleError(f"{label}: not valid YAML: {exc}") from exc
        if not isinstance(data, dict):
            raise RuleError(f"{label}: expected a mapping with `rules:` and `facts:`")
        parsed_files.append(data)
        try:
            parsed = RuleFile.model_validate(data, context=context)
        except ValidationError as exc:
            raise RuleError(f"{label}: {_describe(exc, data)}") from None
        for rule in parsed.rules:
            if rule.id in seen:
                raise RuleError(f"{label}: {rule.id}: id already used in {seen[rule.id]}")
            if rule.name in names:
                raise RuleError(
                    f"{label}: {rule.id}: name {rule.name!r} already used by {names[rule.name]}"
                )
            seen[rule.id] = label
            names[rule.name] = rule.id
        rules.extend(parsed.rules)
        facts.extend(parsed.facts)
    _check_detectors(rules, facts)
    if store is not None and stored is None:
        _remember(store, source, parsed_files)
    return Ruleset(rules, facts, source)


def _stored(store: ParsedRulesStore | None, digest: str, count: int) -> list[Any] | None:
    text = store.parsed_rules(digest) if store is not None else None
    if text is None:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None  # a damaged entry is a miss, and is overwritten
    return data if isinstance(data, list) and len(data) == count else None


def _remember(store: ParsedRulesStore, digest: str, parsed_files: list[Any]) -> None:
    try:
        text = json.dumps(parsed_files)
    except (TypeError, ValueError):
        return  # YAML that JSON cannot hold (dates, sets): parsed again next time
    if json.loads(text) == parsed_files:  # e.g. integer mapping keys would come back as strings
        store.remember_parsed_rules(digest, text)


def _check_detectors(rules: list[Rule], facts: list[FactSpec]) -> None:
    from app.engine.detectors import FILE_DETECTORS, NODE_JUDGES, REPO_DETECTORS

    for rule in rules:
        m = rule.matcher
        if m.detector and m.detector not in FILE_DETECTORS:
            raise RuleError(f"{rule.id}: matcher: unknown detector {m.detector!r}")
        if m.ast_grep and m.ast_grep.judge and m.ast_grep.judge not in NODE_JUDGES:
            raise RuleError(f"{rule.id}: matcher: unknown judge {m.ast_grep.judge!r}")
        if m.repo and m.repo.detector and m.repo.detector not in REPO_DETECTORS:
            raise RuleError(f"{rule.id}: matcher: unknown repo detector {m.repo.detector!r}")
    for fact in facts:
        if fact.matcher.detector and fact.matcher.detector not in FILE_DETECTORS:
            raise RuleError(
                f"fact {fact.kind}: matcher: unknown detector {fact.matcher.detector!r}"
            )


def ruleset_json(ruleset: Ruleset) -> str:
    """The catalogue as JSON (for `stopship rules --format json`)."""
    return json.dumps(
        [r.model_dump(mode="json", exclude={"examples"}) for r in ruleset.rules], indent=2
    )
