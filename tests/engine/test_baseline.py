"""A change against its base: renames from git and from blob ids that moved, findings carried
along them, and the comparison (introduced, fixed, silenced, there before)."""

from __future__ import annotations

from app.engine.analyze import Analyzer
from app.engine.audit import AuditInput, build_report
from app.engine.baseline import carried, compare, renames
from app.engine.config import StopshipConfig
from app.engine.ruleset import Ruleset

INJECTION = 'def q(c, x):\n    c.execute(f"DELETE FROM t WHERE id = {x}")\n'
OTHER = 'def r(c, y):\n    c.execute(f"DELETE FROM u WHERE id = {y}")\n'


def test_a_blob_that_moved_to_exactly_one_new_path_is_a_rename() -> None:
    base = {"a.py": "1", "b.py": "2", "c.py": "3", "d.py": "3"}
    head = {"x/a.py": "1", "b.py": "2", "e.py": "3", "f.py": "3"}
    assert renames(base, head, {}) == {"a.py": "x/a.py"}  # c/d -> e/f is ambiguous


def test_renames_git_reported_win_even_with_edits() -> None:
    base = {"a.py": "1", "b.py": "9"}
    head = {"z.py": "2", "b.py": "9"}
    assert renames(base, head, {"a.py": "z.py", "gone.py": "b.py"}) == {"a.py": "z.py"}


def report(analyzer: Analyzer, ruleset: Ruleset, files: dict[str, str]):  # type: ignore[no-untyped-def]
    results = {p: analyzer.analyze(p, t.encode()) for p, t in files.items()}
    audit = AuditInput(repo="r", paths=sorted(results), results=results)
    return build_report(ruleset, StopshipConfig(), audit), results


def test_a_moved_finding_keeps_its_identity_and_the_rest_is_sorted_out(
    analyzer: Analyzer, ruleset: Ruleset
) -> None:
    _, base_results = report(
        analyzer, ruleset, {"old/q.py": INJECTION, "fixed.py": OTHER, "same.py": OTHER + "\n"}
    )
    head, _ = report(
        analyzer,
        ruleset,
        {"new/q.py": INJECTION, "fixed.py": "x = 1\n", "same.py": OTHER + "\n", "new.py": OTHER},
    )
    moved = renames(
        {"old/q.py": "a", "fixed.py": "b", "same.py": "c"},
        {"new/q.py": "a", "fixed.py": "d", "same.py": "c", "new.py": "e"},
        {},
    )
    base_carried = carried(base_results, moved)
    audit = AuditInput(repo="r", paths=sorted(base_carried), results=base_carried)
    base = build_report(ruleset, StopshipConfig(), audit)
    diff = compare(head, base, "b" * 40)

    def where(findings):  # type: ignore[no-untyped-def]
        return sorted((f.rule, f.path) for f in findings if f.path)

    assert where(diff.introduced) == [("SEC002", "new.py")]
    assert where(diff.fixed) == [("SEC002", "fixed.py")]
    assert where(diff.existing) == [("SEC002", "new/q.py"), ("SEC002", "same.py")]
