"""The `/production` command parser: strict, bounded, and explicit about what is wrong."""

from __future__ import annotations

from datetime import date

import pytest

from app.jobs.command_parser import MAX_LINE, MAX_SCANNED_LINES, Command, parse

TODAY = date(2025, 6, 1)


def cmd(body: str) -> Command | None:
    return parse(body, TODAY)


@pytest.mark.parametrize(
    "body",
    [
        "",
        "LGTM",
        "please run /production score",  # not at the start of a line
        "> /production score",  # a quote of someone else's command
        "```\n/production score\n```",  # fenced code
        "~~~\n/production waive abcdef12 x\n~~~",
        "/productionize the service",
        "/Production score",  # case matters for the prefix, as for every slash command
        "\n" * MAX_SCANNED_LINES + "/production score",  # beyond the lines that are read
        # read as Markdown: indented code, quotes in any form, lists, HTML and inline code
        "Try this:\n\n    /production waive abcdef12 accepted",
        "\t/production waive abcdef12 accepted",
        "> quoting:\n>\n> /production score",
        "- /production score",
        "1. /production waive abcdef12 x",
        "<!-- /production waive abcdef12 hidden -->",
        "<details>\n/production waive abcdef12 hidden\n</details>",
        "`/production score` is the command",
    ],
)
def test_comments_without_a_command(body: str) -> None:
    assert cmd(body) is None


def test_a_command_in_a_paragraph_after_other_text_counts() -> None:
    assert cmd("Done, thanks.\n\n/production score") == Command("score", "/production score")
    body = "    code first\n\nnow:\n/production waive abcdef12 accepted risk"
    command = cmd(body)
    assert command is not None and command.name == "waive" and command.reason == "accepted risk"


def test_views_and_help() -> None:
    assert cmd("/production score") == Command("score", "/production score")
    assert cmd("  /production   CHECK  ") == Command("check", "/production   CHECK")
    assert cmd("Thanks!\r\n/production report\n/production score") == Command(
        "report", "/production report"
    )
    assert cmd("/production") == Command("help", "/production")
    assert cmd("/production help") == Command("help", "/production help")


def test_unknown_and_misused_commands() -> None:
    unknown = cmd("/production deploy")
    assert unknown is not None and unknown.name == "unknown"
    assert unknown.error == "`deploy` is not a stopship command"
    extra = cmd("/production score please")
    assert extra is not None and extra.name == "invalid" and not extra.changes_state
    long = cmd("/production waive abcdef12 " + "x" * MAX_LINE)
    assert long is not None and long.name == "invalid" and long.changes_state
    assert long.error == f"a command is at most {MAX_LINE} characters"


def test_waive() -> None:
    waive = cmd("/production waive 9A4C04D1 false positive: the id is an int")
    assert waive == Command(
        "waive",
        "/production waive 9A4C04D1 false positive: the id is an int",
        finding_id="9a4c04d1",
        reason="false positive: the id is an int",
    )
    assert waive.changes_state
    dated = cmd("/production waive 9a4c04d1 fix after launch until 2025-06-02")
    assert dated is not None
    assert (dated.reason, dated.until) == ("fix after launch", date(2025, 6, 2))
    full = cmd("/production waive " + "ab" * 20 + " ok")
    assert full is not None and full.finding_id == "ab" * 20


@pytest.mark.parametrize(
    ("arguments", "problem"),
    [
        ("", "a finding id is missing"),
        ("9a4c04d1", "a waiver needs a reason"),
        ("9a4c04d1 until 2025-07-01", "a waiver needs a reason"),
        ("9a4c", "is not a finding id"),
        ("9a4c04d1zz reason", "is not a finding id"),
        ("9a4c04d1 later until 2025-06-01", "is not in the future"),
        ("9a4c04d1 later until 2025-02-30", "not a date"),
        ("9a4c04d1 later until 1/7/2025", "not a date"),
        ("9a4c04d1 later until", "`until` takes a date and comes last"),
        ("9a4c04d1 safe until we launch", "`until` takes a date and comes last"),
    ],
)
def test_a_malformed_waive_says_what_is_wrong(arguments: str, problem: str) -> None:
    parsed = cmd(f"/production waive {arguments}")
    assert parsed is not None and parsed.name == "invalid" and parsed.changes_state
    assert parsed.error is not None and problem in parsed.error


def test_unwaive() -> None:
    assert cmd("/production unwaive 9a4c04d1") == Command(
        "unwaive", "/production unwaive 9a4c04d1", finding_id="9a4c04d1"
    )
    for bad in ("/production unwaive", "/production unwaive 9a4c04d1 now", "/production unwaive x"):
        parsed = cmd(bad)
        assert parsed is not None and parsed.name == "invalid" and parsed.changes_state


def test_confirm_and_unconfirm_an_attestation_by_item_or_alias() -> None:
    confirm = cmd("/production confirm Backup restored the 2025-05-20 dump: runbook/restore.md")
    assert confirm == Command(
        "confirm",
        "/production confirm Backup restored the 2025-05-20 dump: runbook/restore.md",
        reason="restored the 2025-05-20 dump: runbook/restore.md",
        item="backups",
    )
    assert confirm.changes_state
    dated = cmd("/production confirm oncall PagerDuty rota until 2025-07-01")
    assert dated is not None
    assert (dated.item, dated.reason) == ("on-call", "PagerDuty rota")
    assert dated.until == date(2025, 7, 1)
    unconfirm = cmd("/production unconfirm loadtest")
    assert unconfirm is not None and (unconfirm.name, unconfirm.item) == ("unconfirm", "load-test")
    assert unconfirm.changes_state


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("confirm", "an item is missing"),
        ("confirm backups", "a confirmation needs its evidence"),
        ("confirm backups until 2025-07-01", "a confirmation needs its evidence"),
        ("confirm backups done until 2025-06-01", "an attestation's end date must be after"),
        ("confirm backups done until soon", "`until soon`: not a date"),
        ("confirm backups until next week", "`until` takes a date and comes last"),
        ("confirm pentest done", "`pentest` is not an attestation; the items are: `backups`"),
        ("unconfirm", "usage: `/production unconfirm ITEM`"),
        ("unconfirm backups rollback", "usage: `/production unconfirm ITEM`"),
        ("unconfirm pentest", "`incident-response` (also `incident`"),
    ],
)
def test_a_confirmation_used_wrongly_says_how(text: str, problem: str) -> None:
    command = cmd(f"/production {text}")
    assert command is not None and command.name == "invalid" and command.changes_state
    assert command.error is not None and problem in command.error
