"""`.github/stopship.yml`: the repository's configuration, parsed from bytes and validated.

Errors name the file, the key and the reason: `.github/stopship.yml: release_branches[2]: ...`.
Launch context decides strictness (CHECKS.md): which findings are stop-ship and the minimum score.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from app.engine import yaml_safe
from app.engine.attestations import DEFAULT_REQUIRED, ITEMS, item_of
from app.engine.model import Severity
from app.engine.release import DEFAULT_RELEASE_TAGS

CONFIG_PATH = ".github/stopship.yml"
MAX_CONFIG_BYTES = 256 * 1024


class ConfigError(ValueError):
    """A configuration that cannot be used; str() says file, key and reason."""


class _Strict(BaseModel):
    # attribute docstrings are the descriptions of the JSON Schema (schemas/stopship.schema.json)
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


def _valid_glob(value: str) -> str:
    if not value or value.strip() != value:
        raise ValueError("not a valid glob (empty or surrounded by spaces)")
    if value.count("[") != value.count("]"):
        raise ValueError(f"not a valid glob: unbalanced brackets in {value!r}")
    return value


class Launch(_Strict):
    """The launch context: it sets the strictness (which findings are stop-ship, the minimum
    score)."""

    stage: Literal["internal", "beta", "public", "paid"] = "beta"
    """internal: Low strictness (minimum score 50); beta: Medium (70); public: High (80,
    security at least 90); paid: High, and findings in payment paths are stop-ship."""
    user_data: bool = False
    """The service stores personal data."""
    payments: bool = False
    """The service takes payments: as strict as `paid`."""


class RulesConfig(_Strict):
    """Rules switched off and severities changed (`stopship rules` lists the ids)."""

    disable: tuple[str, ...] = ()
    """Rule ids switched off, like OBS005."""
    severity: dict[str, Severity] = Field(default_factory=dict)
    """A new severity per rule id, like `DEP011: low`."""

    @field_validator("disable")
    @classmethod
    def _ids(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for item in value:
            if not re.fullmatch(r"[A-Z]{2,5}\d{3}", item):
                raise ValueError(f"{item!r} is not a rule id (like SEC001)")
        return value


class Annotations(_Strict):
    """The App's check-run annotations."""

    level: Literal["notice", "warning", "failure"] | None = None
    """One level for every annotation (default: by severity)."""
    max: int = Field(default=1000, ge=0, le=10_000)
    """At most this many annotations per check run."""


def _items(value: tuple[str, ...]) -> tuple[str, ...]:
    out: list[str] = []
    for i, word in enumerate(value):
        item = item_of(word)
        if item is None:
            raise ValueError(f"[{i}]: {word!r} is not an attestation (one of {', '.join(ITEMS)})")
        if item not in out:
            out.append(item)
    return tuple(out)


class RequiredAttestations(_Strict):
    """Per launch stage, the attestations a release needs (`backups`, `rollback`, `on-call`,
    `load-test`, `incident-response`)."""

    internal: tuple[str, ...] = DEFAULT_REQUIRED["internal"]
    """Required at the internal stage (default: none)."""
    beta: tuple[str, ...] = DEFAULT_REQUIRED["beta"]
    """Required at the beta stage (default: none)."""
    public: tuple[str, ...] = DEFAULT_REQUIRED["public"]
    """Required at the public stage (default: backups, rollback)."""
    paid: tuple[str, ...] = DEFAULT_REQUIRED["paid"]
    """Required at the paid stage, or with payments (default: all five)."""

    @field_validator("internal", "beta", "public", "paid")
    @classmethod
    def _known(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        return _items(value)


class Attestations(_Strict):
    """What people confirm with `/production confirm ITEM evidence`: code cannot show it. A
    required one left unconfirmed is an unmet item of the release-gate checklist and rejects a
    deployment; it does not fail a push's or pull request's check."""

    required: RequiredAttestations = RequiredAttestations()
    """Per launch stage, the attestations a release needs."""


class StopshipConfig(_Strict):
    """stopship's configuration of a repository: `.github/stopship.yml`."""

    release_branches: tuple[str, ...] = ("main", "master", "release/*", "releases/*")
    """Globs of the branches the gate applies to (pull requests into them, pushes to them)."""
    launch: Launch = Launch()
    """The launch context: it sets the strictness."""
    min_score: int | None = Field(default=None, ge=0, le=100)
    """Fail below this score (default: the strictness' minimum)."""
    rules: RulesConfig = RulesConfig()
    """Rules switched off and severities changed."""
    ignore_paths: tuple[str, ...] = ()
    """Globs of paths never audited."""
    payment_paths: tuple[str, ...] = (
        "**/payment*/**",
        "**/payments*",
        "**/billing*/**",
        "**/billing*",
        "**/checkout*",
        "**/stripe*",
        "**/invoice*",
        "**/webhooks/stripe*",
    )
    """Globs of paths where findings are stop-ship at the paid / payments strictness."""
    annotations: Annotations = Annotations()
    """The App's check-run annotations."""
    conclusion_outside_release: Literal["neutral", "success"] = "neutral"
    """Check-run conclusion when the gate does not apply (not a release branch) or passes with
    findings."""
    baseline: str | None = Field(default=None, min_length=1, max_length=255)
    """What the next deployment builds on (a tag, branch or commit): migrations up to it are
    history. Unset: the latest tag matching `release_tags` reachable from the judged commit."""
    release_tags: tuple[str, ...] = DEFAULT_RELEASE_TAGS
    """Globs of release tag names; a glob starting with `!` excludes (`"!*-*"`: no
    pre-releases)."""
    attestations: Attestations = Attestations()
    """What people confirm because code cannot show it, and which a release needs."""
    vulnerabilities: bool = False
    """CLI and Action: ask OSV (osv.dev) about the versions pinned in the lock files and report
    high and critical advisories (SEC028, SEC029). The pinned names and versions are sent to
    api.osv.dev; when it cannot be reached the report says so and the gate is unaffected."""

    @field_validator("baseline")
    @classmethod
    def _ref(cls, value: str | None) -> str | None:
        if value is not None and (
            value.startswith("-") or any(c.isspace() or c in "~^:?*[\\" for c in value)
        ):
            raise ValueError(f"{value!r} is not a git ref name")
        return value

    @field_validator("release_tags")
    @classmethod
    def _tag_globs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for i, item in enumerate(value):
            try:
                _valid_glob(item.removeprefix("!"))
            except ValueError as exc:
                raise ValueError(f"[{i}]: {exc}") from None
        return value

    @field_validator("release_branches", "ignore_paths", "payment_paths")
    @classmethod
    def _globs(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        for i, item in enumerate(value):
            try:
                _valid_glob(item)
            except ValueError as exc:
                raise ValueError(f"[{i}]: {exc}") from None
        return value

    @property
    def strictness(self) -> Strictness:
        return strictness_for(self.launch)

    @property
    def required_attestations(self) -> tuple[str, ...]:
        """The attestations the launch context requires (`payments` counts as `paid`)."""
        launch, required = self.launch, self.attestations.required
        stage = "paid" if launch.payments else launch.stage
        return tuple(getattr(required, stage))

    @property
    def minimum_score(self) -> int:
        return self.min_score if self.min_score is not None else self.strictness.min_score


@dataclass(frozen=True)
class Strictness:
    level: Literal["Low", "Medium", "High"]
    min_score: int
    security_min: int | None
    payments_stop_ship: bool
    reason: str

    def describe(self) -> str:
        return f"{self.level} ({self.reason})"


@lru_cache(maxsize=64)  # asked once per finding; a Launch is frozen, hence hashable
def strictness_for(launch: Launch) -> Strictness:
    """CHECKS.md: internal -> Low, beta -> Medium, public -> High, paid or payments -> High+."""
    reasons = [f"{launch.stage} launch"]
    if launch.user_data:
        reasons.append("user data")
    if launch.payments:
        reasons.append("payments")
    reason = ", ".join(reasons)
    paid = launch.stage == "paid" or launch.payments
    if launch.stage in ("public", "paid") or launch.payments:
        return Strictness("High", 80, 90, paid, reason)
    if launch.stage == "beta":
        return Strictness("Medium", 70, None, False, reason)
    return Strictness("Low", 50, None, False, reason)


def _describe(exc: ValidationError, path: str) -> str:
    parts = []
    for error in exc.errors():
        key = ""
        for item in error["loc"]:
            key += f"[{item}]" if isinstance(item, int) else (f".{item}" if key else str(item))
        msg = error["msg"].removeprefix("Value error, ")
        if error["type"] == "extra_forbidden":
            msg = "unknown key"
        parts.append(f"{path}: {key or '(top level)'}: {msg}")
    return "; ".join(parts)


def parse_config(data: bytes | None, path: str = CONFIG_PATH) -> StopshipConfig:
    """Parse the config file's bytes (None or empty: defaults); raise ConfigError on any problem."""
    if not data:
        return StopshipConfig()
    if len(data) > MAX_CONFIG_BYTES:
        raise ConfigError(f"{path}: larger than {MAX_CONFIG_BYTES // 1024} KiB")
    try:
        raw: Any = yaml_safe.load(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: not UTF-8 text") from None
    except yaml_safe.YamlError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    if raw is None:
        return StopshipConfig()
    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: (top level): expected a mapping of settings")
    try:
        return StopshipConfig.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_describe(exc, path)) from None


def check_rule_ids(config: StopshipConfig, known: set[str], path: str = CONFIG_PATH) -> None:
    """Reject disables and overrides of rule ids the catalogue does not have."""
    for i, rule in enumerate(config.rules.disable):
        if rule not in known:
            raise ConfigError(f"{path}: rules.disable[{i}]: unknown rule {rule}")
    for rule in config.rules.severity:
        if rule not in known:
            raise ConfigError(f"{path}: rules.severity.{rule}: unknown rule {rule}")
