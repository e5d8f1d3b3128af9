"""The rule pages under docs/rules/: generated from rules/*.yml, checked in, and in sync."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.engine.ruleset import Ruleset
from app.render.rule_docs import DOCS_URL, doc_url, rule_doc_files, rule_markdown

ROOT = Path(__file__).parents[2]
DOCS = ROOT / "docs" / "rules"
REGENERATE = "python scripts/generate_rule_docs.py"


def test_the_checked_in_rule_pages_are_the_generated_ones(ruleset: Ruleset) -> None:
    wanted = rule_doc_files(ruleset)
    assert len(wanted) == len(ruleset.rules) + 1  # a page per rule and the index
    present = {p.name for p in DOCS.glob("*.md")}
    assert present == set(wanted), f"docs/rules/ is out of date: run `{REGENERATE}`"
    stale = [n for n, text in wanted.items() if (DOCS / n).read_text(encoding="utf-8") != text]
    assert stale == [], f"docs/rules/ is out of date: run `{REGENERATE}`"


def test_a_page_says_what_why_shows_an_example_and_what_to_use_instead(
    ruleset: Ruleset,
) -> None:
    rule = ruleset.by_id["SEC001"]
    page = rule_markdown(rule)
    assert page.startswith("# SEC001: hardcoded-secret\n")
    headings = [line for line in page.splitlines() if line.startswith("## ")]
    assert headings[:4] == [
        "## What it does",
        "## Why is this bad?",
        "## Example",
        "## Use instead",
    ]
    assert "stop-ship" in page and "critical" in page
    assert 'stripe.api_key = "sk_live_' in page  # the bad example, verbatim
    assert 'os.environ["STRIPE_API_KEY"]' in page  # the good one
    assert "```python\n" in page
    assert "stopship: ignore[SEC001]" in page


def test_the_index_links_every_rule(ruleset: Ruleset) -> None:
    index = rule_doc_files(ruleset)["README.md"]
    for rule in ruleset.rules:
        assert f"[{rule.id}]({rule.id}.md)" in index
    assert doc_url("SEC001") == f"{DOCS_URL}SEC001.md"


def test_a_fence_is_longer_than_any_backtick_run_in_the_example(ruleset: Ruleset) -> None:
    rule = ruleset.by_id["SEC001"]
    files = {"README.md": "```python\nprint('x')\n```\n"}
    bad = rule.examples.bad[0].model_copy(update={"files": files})
    examples = rule.examples.model_copy(update={"bad": [bad]})
    page = rule_markdown(rule.model_copy(update={"examples": examples}))
    assert "````markdown\n```python\nprint('x')\n```\n````" in page


def test_the_script_regenerates_the_pages(tmp_path: Path, ruleset: Ruleset) -> None:
    out = tmp_path / "rules"
    run = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_rule_docs.py"), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert run.returncode == 0, run.stderr
    written = {p.name: p.read_text(encoding="utf-8") for p in out.glob("*.md")}
    assert written == rule_doc_files(ruleset)
    # a page of a rule that no longer exists is removed
    (out / "OLD001.md").write_text("gone", encoding="utf-8")
    subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "generate_rule_docs.py"), "--out", str(out)],
        check=True,
        capture_output=True,
        timeout=120,
        cwd=ROOT,
    )
    assert not (out / "OLD001.md").exists()
