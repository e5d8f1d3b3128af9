"""Rule documentation in the manner of ruff's rule pages: why, example, use instead."""

from __future__ import annotations

from app.engine.model import CATEGORY_BY_ID
from app.engine.ruleset import Rule, Ruleset


def catalogue(ruleset: Ruleset) -> str:
    rows = [f"{'ID':<8}{'NAME':<42}{'CATEGORY':<16}{'SEVERITY':<10}{'S':<3}{'PTS':>4}  STATUS"]
    for r in sorted(ruleset.rules, key=lambda r: r.id):
        rows.append(
            f"{r.id:<8}{r.name:<42}{r.category:<16}{r.severity.value:<10}"
            f"{'S' if r.stop_ship else '-':<3}{r.points:>4}  {r.status}"
        )
    rows.append(
        f"\n{len(ruleset.rules)} rules. `stopship rules ID` prints one rule's documentation."
    )
    return "\n".join(rows)


def _example_text(files: dict[str, str]) -> str:
    out = []
    for path, content in files.items():
        out.append(f"  # {path}")
        out += [f"  {line}" for line in content.rstrip().splitlines()]
    return "\n".join(out)


def rule_page(rule: Rule) -> str:
    cap = f", at most {rule.max_points} per category" if rule.max_points else ""
    lines = [
        f"{rule.id} {rule.name} ({rule.status}, since {rule.since})",
        f"Category: {CATEGORY_BY_ID[rule.category].name} · severity {rule.severity.value}"
        f"{' · stop-ship' if rule.stop_ship else ''} · {rule.points} points{cap}",
        "",
        rule.message,
        "",
        "Why is this bad?",
        f"  {rule.why.strip()}",
        "",
        "Example",
        _example_text(rule.examples.bad[0].files),
        "",
        "Use instead",
        _example_text(rule.examples.good[0].files),
        "",
        "Fix",
        f"  {rule.fix.strip()}",
        "",
        f"Silence one place with a reason: `# stopship: ignore[{rule.id}] why it is safe`",
    ]
    return "\n".join(lines)
