"""Terminal output: score table, findings grouped by category, colour when the stream is a tty."""

from __future__ import annotations

import io

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from app.engine.model import CATEGORIES, Finding
from app.engine.report import Report
from app.engine.ruleset import Ruleset
from app.render.markdown import closing_line, migrations_line, plural

_STYLE = {"critical": "bold red", "high": "red", "medium": "yellow", "low": "cyan"}
_VERDICT = {"READY": "bold green", "READY WITH CONDITIONS": "bold yellow", "NOT READY": "bold red"}


def render(report: Report, ruleset: Ruleset, color: bool = False, width: int = 100) -> str:
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
    _against_base(console, report)
    for category in CATEGORIES:
        items = [f for f in report.findings if f.category == category.id]
        if not items:
            continue
        console.print(f"\n[bold]{category.name}[/] ({len(items)})")
        for f in items:
            _finding(console, f)
    if report.quick_wins:
        console.print("\n[bold]Quick wins[/]")
        for w in report.quick_wins:
            fix = w.fix.strip().splitlines()[0]
            console.print(f"  +{plural(w.points, 'point')} — {fix} ({w.rule})", markup=False)
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
    console.print("\n" + closing_line(report), markup=False)
    return buffer.getvalue()


def _finding(console: Console, f: Finding) -> None:
    where = "repository" if f.path is None else (f"{f.path}:{f.line}" if f.line else f.path)
    stop = " [bold red]STOP-SHIP[/]" if f.stop_ship else ""
    console.print(
        f"  [{_STYLE[f.severity.value]}]{f.severity.value:<8}[/] {f.rule} "
        f"{escape(where)}{stop}\n           {escape(f.message)}  [dim]({f.short_id})[/]",
        markup=True,
    )


def _against_base(console: Console, report: Report) -> None:
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
            _finding(console, f)
