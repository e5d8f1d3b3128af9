"""Attestations: what people confirm because code cannot show it (CHECKS.md "Attestations").

A fixed vocabulary of items, each with its question and aliases; the launch stage decides which
are required (`attestations.required` in the config); a person with write permission confirms
one with `/production confirm ITEM evidence [until DATE]` (stored by app/store/attestations.py).
The engine never knows who confirmed what: a report lists the required items unconfirmed, and
the App fills in the confirmations in force (`confirmed_statuses`). Pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

# item -> the question of the release-gate checklist, in the order the checklist shows them
QUESTIONS: dict[str, str] = {
    "backups": "Are backups taken, and was a restore from them tested?",
    "rollback": "Was a rollback of this release rehearsed, migrations included?",
    "on-call": "Is someone on call for the release, with the runbook?",
    "load-test": "Was the service load-tested at twice the expected peak?",
    "incident-response": "Is there an incident-response plan that names who decides?",
}
# item -> what a confirmation attests, for replies
LABELS: dict[str, str] = {
    "backups": "backups with a tested restore",
    "rollback": "a tested rollback",
    "on-call": "on-call coverage",
    "load-test": "a load test at twice the expected peak",
    "incident-response": "an incident-response plan",
}
ITEMS: tuple[str, ...] = tuple(QUESTIONS)
ALIASES: dict[str, str] = {
    "backup": "backups",
    "restore": "backups",
    "restores": "backups",
    "roll-back": "rollback",
    "rollbacks": "rollback",
    "oncall": "on-call",
    "on_call": "on-call",
    "loadtest": "load-test",
    "load_test": "load-test",
    "load-tests": "load-test",
    "incident": "incident-response",
    "incidents": "incident-response",
    "incident_response": "incident-response",
    "ir": "incident-response",
}
# CHECKS.md: the strictness decides. Nothing below a public launch (a beta is where these are
# still being set up, and an upgrade must not start rejecting its deployments); a paid launch
# asks for every item.
DEFAULT_REQUIRED: dict[str, tuple[str, ...]] = {
    "internal": (),
    "beta": (),
    "public": ("backups", "rollback"),
    "paid": ITEMS,
}


def item_of(word: str) -> str | None:
    """The item a word names (an item or one of its aliases, any case), or None."""
    key = word.strip().lower()
    return key if key in QUESTIONS else ALIASES.get(key)


def describe_items() -> str:
    """The items and their aliases, for a reply to a word that names none."""
    return "; ".join(
        f"`{item}`"
        + (
            f" (also {', '.join(f'`{a}`' for a, i in ALIASES.items() if i == item)})"
            if item in ALIASES.values()
            else ""
        )
        + f": {LABELS[item]}"
        for item in ITEMS
    )


@dataclass(frozen=True)
class Attestation:
    """A confirmation in force: who confirmed the item, with what evidence, until when (an ISO
    date, inclusive; None for no end date), and on which day."""

    item: str
    evidence: str
    by: str
    on: str
    until: str | None = None


@dataclass(frozen=True)
class AttestationStatus:
    """One item of the checklist: its question, whether the launch stage requires it, and the
    confirmation in force (None: unconfirmed)."""

    item: str
    required: bool
    confirmed: Attestation | None = None

    @property
    def question(self) -> str:
        return QUESTIONS[self.item]

    @property
    def passed(self) -> bool:
        return self.confirmed is not None

    def detail(self) -> str:
        c = self.confirmed
        if c is None:
            return f"unconfirmed: `/production confirm {self.item} <evidence>` on a pull request"
        until = f", until {c.until}" if c.until else ""
        return f"confirmed by @{c.by} on {c.on}{until}: {c.evidence}"


def required_statuses(required: Iterable[str]) -> list[AttestationStatus]:
    """The required items, unconfirmed, in the vocabulary's order."""
    wanted = set(required)
    return [AttestationStatus(item, True) for item in ITEMS if item in wanted]


def confirmed_statuses(
    statuses: Iterable[AttestationStatus], confirmed: Mapping[str, Attestation]
) -> list[AttestationStatus]:
    """`statuses` with the confirmations in force filled in; an item confirmed but not required
    is listed too (it is shown, and fails nothing)."""
    required = {s.item for s in statuses if s.required}
    return [
        AttestationStatus(item, item in required, confirmed.get(item))
        for item in ITEMS
        if item in required or item in confirmed
    ]


def unconfirmed(statuses: Iterable[AttestationStatus]) -> list[str]:
    """The required items nobody has confirmed."""
    return [s.item for s in statuses if s.required and not s.passed]
