"""What a person at a terminal sees: colour only on a tty, and a progress bar on stderr only for
a scan that has run longer than a second (a quick scan, a pipe or CI shows none)."""

from __future__ import annotations

import io
import sys
import time
from pathlib import Path

import pytest

from app.checkout.audit_local import audit_checkout
from app.cli import _LazyProgress
from app.engine.model import CATEGORIES
from app.render.text import render

CORPUS = Path(__file__).parent / "corpus"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_text_is_coloured_only_when_asked() -> None:
    report, ruleset = audit_checkout(CORPUS / "fastapi-bad", use_cache=False, jobs=1)
    assert "\x1b[" in render(report, ruleset, color=True)
    plain = render(report, ruleset, color=False)
    assert "\x1b[" not in plain and "NOT READY" in plain


def test_the_progress_bar_appears_on_a_terminal_after_a_second(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    screen = Terminal()
    monkeypatch.setattr(sys, "stderr", screen)
    quick = _LazyProgress()
    quick(5, 10)
    assert quick.bar is None  # under a second: nothing drawn
    slow = _LazyProgress()
    slow.start = time.monotonic() - 2
    slow(5, 10)
    slow.close()
    assert "Scanning" in screen.getvalue() and "5/10" in screen.getvalue()


def test_no_progress_bar_when_stderr_is_not_a_terminal(monkeypatch: pytest.MonkeyPatch) -> None:
    pipe = io.StringIO()
    monkeypatch.setattr(sys, "stderr", pipe)
    slow = _LazyProgress()
    slow.start = time.monotonic() - 2
    slow(5, 10)
    slow.close()
    assert slow.bar is None and pipe.getvalue() == ""


def test_text_from_the_repository_is_data_not_markup() -> None:
    """Next.js paths (`pages/api/[id]/route.ts`), a fix quoting `[id]` and a message holding
    `[/x]` print as they are: no lost text, no MarkupError (a traceback and exit 1 read as a
    failed gate)."""
    from dataclasses import replace

    from app.engine.model import Finding, Severity
    from app.engine.report import QuickWin
    from app.engine.ruleset import load_ruleset
    from tests.engine.test_gate import report as a_report

    fix = 'db.query("… $1", [id])'
    finding = Finding(
        "f" * 40, "SEC002", "sql", "security", Severity.CRITICAL, True,
        "pages/api/[id]/route.ts", 3, "SQL built from [/x] and [bold]", fix, 15,
    )  # fmt: skip
    win = QuickWin("SEC002", "sql", 5, fix, 1)
    rep = replace(a_report([finding]), quick_wins=[win], repo="octo/[shop]")
    for color in (True, False):
        out = render(rep, load_ruleset(), color=color)
        assert "pages/api/[id]/route.ts:3" in out
        assert "SQL built from [/x] and [bold]" in out
        assert 'db.query("… $1", [id])' in out
        assert "octo/[shop]" in out


def test_no_color_force_color_width_and_version(monkeypatch: pytest.MonkeyPatch) -> None:
    from typer.testing import CliRunner

    from app import __version__
    from app.cli import cli, terminal_width, wants_color

    monkeypatch.setenv("FORCE_COLOR", "1")
    assert wants_color()
    monkeypatch.setenv("NO_COLOR", "1")
    assert not wants_color()  # NO_COLOR wins
    monkeypatch.setenv("COLUMNS", "80")
    assert terminal_width() == 80
    monkeypatch.setenv("COLUMNS", "20")
    assert terminal_width() == 60
    result = CliRunner().invoke(cli, ["--version"])
    assert result.exit_code == 0 and result.stdout.strip() == f"stopship {__version__}"


def test_counts_read_as_words() -> None:
    from app.render.markdown import plural

    assert plural(1, "point") == "1 point" and plural(2, "point") == "2 points"
    assert plural(1, "quick win") == "1 quick win" and plural(0, "quick win") == "0 quick wins"


def test_wrapped_finding_lines_keep_their_indentation() -> None:
    """On an 80-column (or narrower) terminal a long message and fix wrap between words, and the
    continuation lines stay under the message (a hanging indent), never at column 0."""
    report, ruleset = audit_checkout(CORPUS / "fastapi-bad", use_cache=False)
    for width in (60, 80):
        out = render(report, ruleset, width=width, explain=True)
        body = out[out.index("Security fundamentals (") : out.index("\nFiles: ")]
        body = body.split("\nQuick wins")[0]
        lines = [line for line in body.splitlines()[1:] if line.strip()]
        assert lines and all(len(line) <= width and line == line.rstrip() for line in lines)
        headers = [line for line in lines if not line.startswith(" " * 11)]
        # every line is a finding's header ("  critical SEC002 path:line") or a category title
        assert all(
            line.startswith("  ") or line.split(" (")[0] in {c.name for c in CATEGORIES}
            for line in headers
        ), headers
    wins = out[out.index("\nQuick wins") + 1 :].split("\n\n")[0].splitlines()[1:]
    assert wins and all(line.startswith("  +") or line.startswith(" " * 14) for line in wins)
