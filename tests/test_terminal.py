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
