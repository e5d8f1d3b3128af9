"""Markdown bodies: the full audit (check-run summary, `/production check`), the quick score
(`/production score`) and the stakeholder report (`/production report`)."""

from __future__ import annotations

import html

from app.engine.model import CATEGORY_BY_ID, Finding
from app.engine.report import Report
from app.engine.ruleset import Ruleset
from app.engine.scoring import GRADES, grade_meaning

MARKER = "<!-- stopship:report -->"
GITHUB_TEXT_LIMIT = 65_535


def location(f: Finding) -> str:
    if f.path is None:
        return "repository"
    return f"`{f.path}:{f.line}`" if f.line else f"`{f.path}`"


def headline(report: Report) -> str:
    meaning = grade_meaning(report.grade)
    return f"**Score {report.score}/100 — Grade {report.grade}** · {report.verdict}" + (
        f"  \n_Grade {report.grade}: {meaning}_" if meaning else ""
    )


def _finding_line(
    f: Finding, ruleset: Ruleset | None = None, detailed: bool = False, with_fix: bool = True
) -> str:
    """What (rule, message), where, severity and the fix's first line; `detailed` adds why, what
    it costs in production and the effort, and gives the whole fix."""
    category = CATEGORY_BY_ID[f.category].name
    head = f"- `{f.short_id}` **{f.rule} {f.name}** ({category}, {f.severity})"
    line = f"{head} — {location(f)}: {f.message}"
    rule = ruleset.by_id.get(f.rule) if ruleset else None
    if detailed:
        if rule is not None:
            line += f"\n  - Why: {rule.why.strip()}"
            line += f"\n  - Impact: {rule.impact.strip()}"
        line += f"\n  - Fix: {f.fix.strip()}"
        if rule is not None:
            line += f"\n  - Effort: about {plural(rule.effort, 'minute')}"
    elif with_fix:
        line += f"\n  - Fix: {first_line(f.fix)}"
    return line


def first_line(text: str) -> str:
    """The first line of a (rule's) text: its one-sentence summary."""
    return text.strip().splitlines()[0] if text.strip() else ""


def category_table(report: Report) -> list[str]:
    rows = ["| Category | Score | Weight | Weighted |", "|---|---:|---:|---:|"]
    for c in report.categories:
        rows.append(f"| {c.name} | {c.score}/100 | {c.weight}% | {c.weighted:.1f} |")
    rows.append(f"| **Total** | | 100% | **{report.score}** |")
    return rows


def _section(
    title: str, findings: list[Finding], ruleset: Ruleset, detailed: bool, limit: int = 50
) -> list[str]:
    if not findings:
        return []
    out = ["", f"### {title} ({len(findings)})", ""]
    out += [_finding_line(f, ruleset, detailed) for f in findings[:limit]]
    if len(findings) > limit:
        out.append(f"- … and {len(findings) - limit} more (see the annotations or `--format json`)")
    return out


def baseline_section(report: Report, limit: int = 30) -> list[str]:
    """What a pull request (or merge group) changes against its base: introduced, fixed,
    silenced, already there. Empty for a push."""
    diff = report.baseline
    if diff is None:
        return []
    stops = sum(1 for f in diff.introduced if f.stop_ship)
    title = f"the base `{diff.base_sha[:7]}`" if diff.base_sha else "no base (a first commit)"
    out = [
        f"### Against {title}",
        "",
        f"This change introduces **{len(diff.introduced)}** finding"
        f"{'s' if len(diff.introduced) != 1 else ''} ({stops} stop-ship), fixes "
        f"**{len(diff.fixed)}**, and **{len(diff.existing)}** were there before.",
    ]
    groups = [
        ("Introduced", diff.introduced),
        ("Fixed", diff.fixed),
        ("Silenced by an inline suppression", diff.silenced),
    ]
    for title, findings in groups:
        if findings:
            out += ["", f"**{title}**", ""]
            out += [_finding_line(f, with_fix=False) for f in findings[:limit]]
            if len(findings) > limit:
                out.append(f"- … and {len(findings) - limit} more")
    if diff.existing:
        out += ["", f"<details><summary>There before ({len(diff.existing)})</summary>", ""]
        out += [_finding_line(f, with_fix=False) for f in diff.existing[:limit]]
        if len(diff.existing) > limit:
            out.append(f"- … and {len(diff.existing) - limit} more")
        out += ["", "</details>"]
    return [*out, ""]


def full_audit(
    report: Report, ruleset: Ruleset, max_chars: int | None = None, explain: bool = False
) -> str:
    """The full audit body; cut to `max_chars` with a pointer when it would not fit. Stop-ship
    findings are explained in full (why, impact, fix, effort), the others too with `explain`."""
    stops: list[Finding] = []
    high: list[Finding] = []
    medium: list[Finding] = []
    low: list[Finding] = []
    for f in report.findings:  # one pass: a monorepo's report lists tens of thousands
        if f.stop_ship:
            stops.append(f)
        elif f.severity == "medium":
            medium.append(f)
        elif f.severity.rank >= 3:
            high.append(f)
        else:
            low.append(f)
    out = [
        MARKER,
        f"## Production readiness — {report.repo}",
        "",
        f"**Stack:** {report.stack.describe()}  ",
        f"**Strictness:** {report.strictness}  ",
        *[f"**Migrations:** {line}  " for line in migrations_line(report)],
        f"{headline(report)}  ",
        f"**Verdict:** {report.verdict} · {report.date}  ",
        *[f"**Enforcement:** {line}  " for line in enforcement_line(report)],
        *[f"**Trend:** {line}  " for line in trend_line(report)],
        *[f"**Not checked:** {line}  " for line in report.not_checked],
        *([f"**Gate:** {report.gate_reason}"] if report.gate_reason else []),
        "",
        *baseline_section(report),
        *category_table(report),
        "",
        "### Release gate",
        "",
    ]
    out += [f"- [{'x' if g.passed else ' '}] {g.name} — {g.detail}" for g in report.checklist]
    out += _section("Stop-ship", stops, ruleset, detailed=True)
    out += _section("High priority", high, ruleset, detailed=explain)
    if report.quick_wins:
        out += ["", "### Quick wins", ""]
        out += [
            f"- **+{plural(w.points, 'point')}** — {first_line(w.fix)} (`{w.rule}`, "
            f"{w.count} place{'s' if w.count != 1 else ''}"
            + (f", about {plural(w.effort, 'minute')}" if w.effort else "")
            + ")"
            for w in report.quick_wins
        ]
    out += _section("Medium priority", medium, ruleset, detailed=explain, limit=30)
    if explain:
        out += _section("Low priority", low, ruleset, detailed=True, limit=30)
    out += accepted_risk(report, "### ")
    if report.done_well:
        out += ["", "### What's done well", ""] + [f"- {d}" for d in report.done_well]
    if low and not explain:
        out += [
            "",
            f"_{plural(len(low), 'low-severity finding')} not listed here (they count in the "
            "score): `--explain`, `stopship check` or `--format json` lists every finding._",
        ]
    if report.out_of_scope:
        out += [
            "",
            f"_{report.out_of_scope} finding(s) outside the changed files are not listed "
            "but count in the score._",
        ]
    failed, skipped = report.stats.problems()
    if failed:
        out += [
            "",
            f"_{len(failed)} file(s) could not be fully parsed: "
            + ", ".join(f"`{p}`" for p, _ in failed[:10])
            + "_",
        ]
    if skipped:
        out += [
            "",
            f"_{len(skipped)} file(s) not judged by the parsers that do not read them: "
            + ", ".join(f"`{p}` ({m.rpartition('skipped: ')[2]})" for p, m in skipped[:10])
            + "_",
        ]
    for notice in report.notices:
        out += ["", html.escape(notice, quote=False)]  # no markup from a path or an error
    out += ["", closing_line(report, len(stops)), ""]
    return truncate("\n".join(out), max_chars)


def accepted_risk(report: Report, heading: str, limit: int = 30) -> list[str]:
    """Suppressed and waived findings with their justification: they no longer count, but a
    reader of the audit must still see them."""
    if not report.suppressed:
        return []
    out = ["", f"{heading}Accepted risk ({len(report.suppressed)})", ""]
    out += [
        f"- `{f.short_id}` {f.rule} {location(f)} — {f.suppressed_by}"
        for f in report.suppressed[:limit]
    ]
    if len(report.suppressed) > limit:
        out.append(f"- … and {len(report.suppressed) - limit} more")
    return out


def plural(count: int, word: str, words: str | None = None) -> str:
    """`1 quick win`, `2 quick wins`, `+1 point`."""
    return f"{count} {word if count == 1 else (words or word + 's')}"


def closing_line(report: Report, stop_ship: int | None = None) -> str:
    """"Fix the N stop-ship findings and N quick wins first: the score goes from XX to about YY",
    naming only what there is ("0 quick wins" says nothing)."""
    stop_ship = len(report.stop_ship) if stop_ship is None else stop_ship
    wins = len(report.quick_wins)
    todo = [plural(stop_ship, "stop-ship finding")] if stop_ship else []
    todo += [plural(wins, "quick win")] if wins else []
    if not todo:
        return f"No stop-ship finding and no quick win: the score stays {report.score}."
    return (
        f"Fix the {' and '.join(todo)} first: the score goes from {report.score} to about "
        f"{report.projected_score}."
    )


def migrations_line(report: Report) -> list[str]:
    """The one line every report gives about migrations and the release baseline (none when
    the repository has no migration)."""
    line = report.migrations.describe() if report.migrations is not None else ""
    return [line] if line else []


def enforcement_line(report: Report) -> list[str]:
    """Whether merges into the judged release branch wait for the check (set by the App)."""
    return [report.branch_protection] if report.branch_protection else []


TREND_POINTS = 8


def trend_line(report: Report) -> list[str]:
    """`64 → 71 → 78 over the last 10 pushes`: the default branch's score history, a repeated
    score shown once, its last TREND_POINTS changes; none with fewer than two analyses."""
    scores = report.score_history
    if len(scores) < 2:
        return []
    starts = [i for i, s in enumerate(scores) if i == 0 or scores[i - 1] != s][-TREND_POINTS:]
    pushes = plural(len(scores) - starts[0], "push", "pushes")
    if len(starts) == 1:
        return [f"{scores[-1]}, unchanged over the last {pushes}"]
    return [" → ".join(str(scores[i]) for i in starts) + f" over the last {pushes}"]


COMMENT_POINTER = "Run `/production check` for the full audit."
CLI_POINTER = "Run `stopship check --format markdown` for the full audit."


def quick_score(report: Report, pointer: str = COMMENT_POINTER) -> str:
    """`/production score` (and `stopship check --format summary`, with the CLI's `pointer`):
    the headline, the verdict, the top 3 findings with their fixes, and where the full audit is."""
    out = [
        MARKER,
        f"## Production readiness — {report.repo}",
        "",
        headline(report),
        "",
        f"**Verdict:** {report.verdict} · Strictness: {report.strictness}",
        *([f"Gate: {report.gate_reason}"] if report.gate_reason else []),
        *[f"Migrations: {line}" for line in migrations_line(report)],
        "",
    ]
    top = report.findings[:3]
    if top:
        out.append("Top findings:")
        out += [_finding_line(f) for f in top]
    else:
        out.append("No open findings.")
    out += ["", pointer]
    return "\n".join(out) + "\n"


def stakeholder_report(report: Report, ruleset: Ruleset, max_chars: int | None = None) -> str:
    """`/production report`: executive summary, findings by category, action plan, methodology."""
    counts = report.counts()
    out = [
        MARKER,
        f"# Production Readiness Report — {report.repo} — {report.date}",
        "",
        "## Executive summary",
        "",
        f"- Score: **{report.score}/100**, grade **{report.grade}**: {grade_meaning(report.grade)}",
        f"- Verdict: **{report.verdict}**",
        f"- Strictness: {report.strictness}; minimum score {report.min_score}",
        *[f"- Migrations: {line}" for line in migrations_line(report)],
        *[f"- Trend: {line}" for line in trend_line(report)],
        *[f"- Not checked: {line}" for line in report.not_checked],
        f"- Findings: {counts['stop_ship']} stop-ship, {counts['critical']} critical, "
        f"{counts['high']} high, {counts['medium']} medium, {counts['low']} low",
        "",
        "## Findings by category",
    ]
    for c in report.categories:
        items = [f for f in report.findings if f.category == c.id]
        out += ["", f"### {c.name} — {c.score}/100", ""]
        out += [_finding_line(f) for f in items[:40]] or ["- No findings."]
        if len(items) > 40:
            out.append(f"- … and {len(items) - 40} more")
    soon = [f for f in report.findings if not f.stop_ship and f.severity.rank >= 2]
    out += ["", "## Action plan", "", "1. **Stop-ship** (blocks release):"]
    out += [
        f"   - `{f.short_id}` {f.rule} {location(f)} — {f.fix.strip().splitlines()[0]}"
        for f in report.stop_ship
    ] or ["   - none"]
    out += ["2. **Fix soon**:"]
    out += [f"   - `{f.short_id}` {f.rule} {location(f)} — {f.message}" for f in soon[:30]] or [
        "   - none"
    ]
    out += ["3. **Acceptable risk** (documented, not blocking):"]
    out += [
        f"   - `{f.short_id}` {f.rule} {location(f)} — justification: {f.suppressed_by}"
        for f in report.suppressed
    ] or ["   - none recorded"]
    out += [
        "",
        "## Methodology",
        "",
        "Six weighted categories; each starts at 100 and loses the points of each open finding "
        "(per rule, capped); the total is the weighted sum.",
        "",
    ]
    out += [f"- {c.name}: weight {c.weight}%" for c in report.categories]
    out += ["", "Grades:", "", *grade_scale()]
    out += [
        "",
        f"Strictness {report.strictness} decides which findings are stop-ship and the "
        f"minimum score ({report.min_score}).",
    ]
    return truncate("\n".join(out) + "\n", max_chars)


def grade_scale() -> list[str]:
    """`- **A** (90–100): Production-ready. Ship it.` … `- **F** (0–49): …`."""
    out, ceiling = [], 100
    for floor, grade in GRADES:
        out.append(f"- **{grade}** ({floor}–{ceiling}): {grade_meaning(grade)}")
        ceiling = floor - 1
    return out


def truncate(text: str, max_chars: int | None) -> str:
    """Cut `text` to at most `max_chars`, ending with a pointer to the full output."""
    if max_chars is None or len(text) <= max_chars:
        return text
    note = (
        "\n\n… cut to fit GitHub's limit; run `stopship check --format markdown` for all of it.\n"
    )
    return text[: max_chars - len(note)].rsplit("\n", 1)[0] + note


def render(report: Report, ruleset: Ruleset) -> str:
    return full_audit(report, ruleset)
