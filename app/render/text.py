"""Terminal output: score table, findings grouped by category, colour when the stream is a tty."""

from __future__ import annotations

import io
import re
from collections.abc import Sequence

from rich.console import Console
from rich.markup import escape
from rich.padding import Padding
from rich.table import Table
from rich.text import Text

from app.engine.model import CATEGORIES, Finding
from app.engine.report import Report
from app.engine.ruleset import Ruleset
from app.engine.scoring import grade_meaning
from app.render.markdown import closing_line, first_line, migrations_line, plural

_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}
_TRAILING_BLANKS = re.compile(r" +((?:\x1b\[[0-9;]*m)*)$", re.MULTILINE)
_INDENT = 11  # under the rule id: "  critical " is 11 columns
_VERDICT = {"READY": "bold green", "READY WITH CONDITIONS": "bold yellow", "NOT READY": "bold red"}


def render(
    report: Report, ruleset: Ruleset, color: bool = False, width: int = 100, explain: bool = False
) -> str:
    """Each finding: severity, rule, where, what and the fix's first line; `explain` adds why,
    the impact in production, the whole fix and the effort in minutes."""
    buffer = io.StringIO()
    console = Console(
        file=buffer,
        force_terminal=color,
        no_color=not color,
        width=width,
        highlight=False,
        soft_wrap=False,
    )
    # everything from the audited repository (paths, messages, fixes, names) is data, never
    # Rich markup: `pages/api/[id]/route.ts` and a message holding `[/x]` print as they are
    console.print(f"[bold]Production readiness — {escape(report.repo)}[/]")
    console.print(f"Stack: {report.stack.describe()}", markup=False)
    console.print(f"Strictness: {report.strictness}", markup=False)
    for line in migrations_line(report):
        console.print(f"Migrations: {line}", markup=False)
    console.print(
        f"Score {report.score}/100 — Grade {report.grade} — "
        f"[{_VERDICT.get(report.verdict, 'bold')}]{report.verdict}[/]"
    )
    console.print(f"Grade {report.grade}: {grade_meaning(report.grade)}", markup=False)
    if report.gate_reason:
        console.print(f"Gate: {report.gate_reason}", markup=False)
    table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
    table.add_column("Category")
    table.add_column("Score", justify="right")
    table.add_column("Weight", justify="right")
    table.add_column("Weighted", justify="right")
    for c in report.categories:
        table.add_row(c.name, f"{c.score}/100", f"{c.weight}%", f"{c.weighted:.1f}")
    table.add_row("[bold]Total[/]", "", "100%", f"[bold]{report.score}[/]")
    console.print(table)
    _attestations(console, report)
    _against_base(console, report, ruleset, explain)
    for category in CATEGORIES:
        items = [f for f in report.findings if f.category == category.id]
        if not items:
            continue
        console.print(f"\n[bold]{category.name}[/] ({len(items)})")
        for f in items:
            _finding(console, f, ruleset, explain)
    if report.quick_wins:
        console.print("\n[bold]Quick wins[/]")
        wins = []
        for w in report.quick_wins:
            minutes = f", about {plural(w.effort, 'minute')}" if w.effort else ""
            wins.append(
                (f"+{plural(w.points, 'point')} —", f"{first_line(w.fix)} ({w.rule}{minutes})")
            )
        console.print(_hanging(wins))
    if report.suppressed:
        console.print(f"\n{len(report.suppressed)} finding(s) suppressed inline.")
    if report.out_of_scope:
        console.print(
            f"{report.out_of_scope} finding(s) outside the changed files not listed "
            "(they count in the score)."
        )
    stats = report.stats
    skipped = ", ".join(f"{n} {why}" for why, n in sorted(stats.skipped.items())) or "none"
    console.print(
        f"\nFiles: {stats.files_total} seen, {stats.files_analyzed} analysed, "
        f"{stats.cache_hits} from cache; skipped: {skipped}."
    )
    failed, not_judged = stats.problems()
    for path, problem in not_judged[:20]:
        reason = problem.rpartition("skipped: ")[2]
        console.print(f"Not judged by its parser: {path} ({reason})", markup=False)
    for path, problem in failed[:20]:
        console.print(f"[yellow]Could not fully parse[/] {escape(path)}: {escape(problem)}")
    for notice in report.notices:
        console.print(notice, markup=False)
    console.print("\n" + closing_line(report), markup=False)
    # the grids pad their last column to the width: no trailing blanks in a pipe or a log
    return _TRAILING_BLANKS.sub(r"\1", buffer.getvalue())


def _attestations(console: Console, report: Report) -> None:
    """The attestations the launch stage requires, as the questions a person answers."""
    statuses = [s for s in report.attestations if s.required]
    if not statuses:
        return
    console.print("\n[bold]Attestations[/] (people confirm what code cannot show)")
    for s in statuses:
        mark = "[x]" if s.passed else "[ ]"
        console.print(f"{mark} {s.question} — {s.detail()}", markup=False)


def _details(f: Finding, ruleset: Ruleset, explain: bool) -> list[tuple[str, str]]:
    """The fix's first line; explained: why, impact, the whole fix and the effort."""
    rule = ruleset.by_id.get(f.rule)
    if not explain or rule is None:
        return [("Fix", first_line(f.fix))]
    return [
        ("Why", " ".join(rule.why.split())),
        ("Impact", " ".join(rule.impact.split())),
        ("Fix", " ".join(f.fix.split())),
        ("Effort", f"about {plural(rule.effort, 'minute')}"),
    ]


def _finding(console: Console, f: Finding, ruleset: Ruleset, explain: bool) -> None:
    """A finding's header line, then its message and details indented under it: wrapped lines
    keep the indentation (a hanging indent), on any width."""
    where = "repository" if f.path is None else (f"{f.path}:{f.line}" if f.line else f.path)
    header = Text(f"{f.rule} {where}")
    if f.stop_ship:
        header.append(" STOP-SHIP", "bold red")
    rows: list[tuple[str | Text, str | Text]] = [
        (Text(f.severity.value, _STYLE[f.severity.value]), header),
        ("", Text.assemble(f.message, "  ", (f"({f.short_id})", "dim"))),
    ]
    rows += [("", f"{label}: {text}") for label, text in _details(f, ruleset, explain)]
    console.print(_hanging(rows))


def _hanging(rows: Sequence[tuple[str | Text, str | Text]]) -> Padding:
    """Rows of (label, text), indented by 2, the texts in a column of their own: a wrapped line
    stays under its text's first word (a hanging indent) on any width, never back at column 0.
    Text, not markup: what comes from the audited repository prints as it is."""
    grid = Table.grid(padding=(0, 1))
    grid.add_column(min_width=_INDENT - 3, no_wrap=True)
    grid.add_column(overflow="fold")
    for label, text in rows:
        grid.add_row(*(Text(x) if isinstance(x, str) else x for x in (label, text)))
    return Padding(grid, (0, 0, 0, 2))


def _against_base(console: Console, report: Report, ruleset: Ruleset, explain: bool) -> None:
    """What the change (a staged commit) introduces against its base, with the new findings."""
    diff = report.baseline
    if diff is None:
        return
    stops = sum(1 for f in diff.introduced if f.stop_ship)
    new = f"{plural(len(diff.introduced), 'new finding')} ({stops} stop-ship)"
    if diff.base_sha:
        console.print(
            f"\nAgainst {diff.base_sha[:7]}: the change introduces {new}, fixes "
            f"{len(diff.fixed)}; {len(diff.existing)} were there before.",
            markup=False,
        )
    else:
        console.print(f"\nFirst commit: everything staged is new: {new}.", markup=False)
    if diff.introduced:
        console.print("\n[bold]Introduced[/]")
        for f in diff.introduced:
            _finding(console, f, ruleset, explain)
