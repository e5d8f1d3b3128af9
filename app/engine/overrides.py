"""Settings given on the command line over the config file: rule selection (`--select`,
`--ignore`: rule ids or id prefixes, as ruff's) and the launch context (`--launch`, `--user-data`,
`--payments`), which sets the strictness without a config file."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from app.engine.config import ConfigError, StopshipConfig

Stage = Literal["internal", "beta", "public", "paid"]


@dataclass(frozen=True)
class Overrides:
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    stage: Stage | None = None
    user_data: bool | None = None
    payments: bool | None = None


def rule_selectors(values: Collection[str]) -> tuple[str, ...]:
    """`--select SEC001,OBS --select ERR002` as one tuple of upper-case selectors."""
    return tuple(
        part.strip().upper() for value in values for part in value.split(",") if part.strip()
    )


def _matching(selectors: tuple[str, ...], known: Collection[str]) -> set[str]:
    return {rule for rule in known if rule.startswith(selectors)}


def apply_overrides(
    config: StopshipConfig, overrides: Overrides, known: Collection[str]
) -> StopshipConfig:
    """`config` with the rules not selected or ignored disabled and the launch context replaced
    where the command line says; ConfigError names the selectors no rule id starts with."""
    unknown = [
        f"{selector} ({option})"
        for option, selectors in (("--select", overrides.select), ("--ignore", overrides.ignore))
        for selector in selectors
        if not _matching((selector,), known)
    ]
    if unknown:
        raise ConfigError(
            f"unknown rule id{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}; "
            "`stopship rules` lists them"
        )
    disabled = set(config.rules.disable)
    if overrides.select:
        disabled |= set(known) - _matching(overrides.select, known)
    disabled |= _matching(overrides.ignore, known)
    launch = config.launch.model_copy(
        update={
            key: value
            for key, value in (
                ("stage", overrides.stage),
                ("user_data", overrides.user_data),
                ("payments", overrides.payments),
            )
            if value is not None
        }
    )
    rules = config.rules.model_copy(update={"disable": tuple(sorted(disabled))})
    return config.model_copy(update={"rules": rules, "launch": launch})
