"""Stack detection names every language of the repository, and those no rule reads."""

from __future__ import annotations

from app.engine.detectors import RepoView
from app.engine.stack import detect_stack


def test_languages_no_rule_reads_are_named_as_not_analysed() -> None:
    paths = [
        "crates/api/src/main.rs",
        "crates/api/src/routes.rs",
        "crates/db/src/lib.rs",
        "api_tests/src/shared.ts",
        "scripts/release.py",
        "README.md",
    ]
    stack = detect_stack(RepoView(paths=paths))
    assert stack.languages[0] == "Rust"
    assert stack.not_analysed == ("Rust",)
    assert "(Rust not analysed: its code is not audited)" in stack.describe()
    assert stack.as_dict()["not_analysed"] == ["Rust"]


def test_an_analysed_stack_claims_nothing_more() -> None:
    stack = detect_stack(RepoView(paths=["app/main.py", "web/src/index.ts", "docs/notes.md"]))
    assert stack.not_analysed == ()
    assert "not analysed" not in stack.describe()
