"""`stopship` command line: check a checkout, browse the rules, run the App and its worker."""

from __future__ import annotations

import os
import shutil
import sys
import time
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app import __version__
from app.engine.gate import FailOn

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

cli = typer.Typer(
    add_completion=False,
    no_args_is_help=True,
    help="stopship: a production-readiness gate for GitHub.",
)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    sarif = "sarif"
    github = "github"


def _die(message: str) -> typer.Exit:
    typer.echo(f"stopship: {message}", err=True)
    return typer.Exit(2)


class _LazyProgress:
    """A progress bar on stderr that appears only once a scan has run for more than a second."""

    def __init__(self) -> None:
        self.start = time.monotonic()
        self.bar: Progress | None = None
        self.task: TaskID | None = None
        self.enabled = sys.stderr.isatty()

    def __call__(self, done: int, total: int) -> None:
        if not self.enabled or time.monotonic() - self.start < 1.0:
            return
        if self.bar is None:
            from rich.console import Console
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

            self.bar = Progress(
                "Scanning",
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(stderr=True),
                transient=True,
            )
            self.bar.start()
            self.task = self.bar.add_task("scan", total=total)
        if self.task is not None:
            self.bar.update(self.task, completed=done, total=total)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


@cli.command()
def check(
    path: Annotated[Path, typer.Argument(help="The checkout to audit.")] = Path("."),
    format: Annotated[OutputFormat, typer.Option("--format", "-f")] = OutputFormat.text,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write here, not stdout.")
    ] = None,
    config: Annotated[
        Path | None, typer.Option(help="Config file (default PATH/.github/stopship.yml).")
    ] = None,
    min_score: Annotated[
        int | None, typer.Option(min=0, max=100, help="Fail below this score.")
    ] = None,
    fail_on: Annotated[
        FailOn, typer.Option(help="What fails the gate (exit 1).")
    ] = FailOn.stop_ship,
    changed_since: Annotated[
        str | None, typer.Option(help="List findings only in files changed since this git ref.")
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            help="The release the next deployment builds on (git ref): migrations up to it are "
            "treated as applied. Default: config `baseline:`, else the latest release tag."
        ),
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Analyse every file again.")] = False,
    jobs: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: every core).")
    ] = None,
) -> None:
    """Audit a checkout: exit 0 when the gate passes, 1 when it fails, 2 on usage/config errors."""
    from app.checkout.audit_local import LocalAuditError, audit_checkout
    from app.render import renderer_for

    progress = _LazyProgress()
    try:
        report, ruleset = audit_checkout(
            path,
            config_file=config,
            changed_since=changed_since,
            baseline=baseline,
            use_cache=not no_cache and not os.environ.get("STOPSHIP_NO_CACHE"),
            jobs=jobs,
            progress=progress,
        )
    except LocalAuditError as exc:
        raise _die(str(exc)) from None
    finally:
        progress.close()
    from app.engine.gate import GateContext, decide

    outcome = decide(report, GateContext("local", fail_on=fail_on, min_score=min_score))
    report.gate_reason = outcome.reason
    if format is OutputFormat.text:
        from app.render.text import render as render_text

        body = render_text(
            report, ruleset, color=output is None and wants_color(), width=terminal_width()
        )
    else:
        body = renderer_for(format.value)(report, ruleset)
    if output is not None:
        try:
            output.write_text(body, encoding="utf-8")
        except OSError as exc:
            raise _die(f"--output {output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(body)
    if not outcome.passed or output is not None or format is not OutputFormat.text:
        typer.echo(f"stopship: gate {outcome.reason}", err=True)
    raise typer.Exit(outcome.exit_code)


@cli.command()
def rules(
    rule_id: Annotated[str | None, typer.Argument(help="A rule id, e.g. SEC001.")] = None,
) -> None:
    """List the rule catalogue, or print one rule's documentation."""
    from app.engine.ruleset import RuleError, load_ruleset
    from app.render.rule_docs import catalogue, rule_page

    try:
        ruleset = load_ruleset()
    except RuleError as exc:
        raise _die(str(exc)) from None
    if rule_id is None:
        typer.echo(catalogue(ruleset))
        return
    rule = ruleset.by_id.get(rule_id.upper()) or next(
        (r for r in ruleset.rules if r.name == rule_id), None
    )
    if rule is None:
        raise _die(f"no rule {rule_id!r}; `stopship rules` lists them")
    typer.echo(rule_page(rule))


@cli.command()
def serve(
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
    workers: Annotated[
        int,
        typer.Option(
            min=1, max=64, help="Processes sharing the port (more than 1 needs procrastinate)."
        ),
    ] = 1,
    limit_concurrency: Annotated[
        int,
        typer.Option(
            min=1, help="Connections at once per process; beyond, 503 and closed at once."
        ),
    ] = 512,
    timeout_keep_alive: Annotated[
        int, typer.Option(min=1, max=300, help="Seconds an idle connection is kept open.")
    ] = 5,
    header_timeout: Annotated[
        float,
        typer.Option(
            min=0.1, max=300, help="Seconds a client has to send a request line and headers."
        ),
    ] = 10.0,
) -> None:
    """Run the webhook service (it also runs the jobs with STOPSHIP_QUEUE=inline)."""
    from app.web.serve import ServerLimits, run_server

    limits = ServerLimits(workers, limit_concurrency, timeout_keep_alive, header_timeout)
    raise typer.Exit(run_server(host, port, limits))


@cli.command()
def worker(
    concurrency: Annotated[
        int, typer.Option(min=1, max=16, help="Jobs run at once by this process.")
    ] = 4,
    shutdown_timeout: Annotated[
        float | None,
        typer.Option(
            min=0,
            help="On SIGTERM, abort jobs still running after this many seconds "
            "(default: wait for them).",
        ),
    ] = None,
    metrics_port: Annotated[
        int | None,
        typer.Option(min=0, max=65535, help="Serve this worker's Prometheus metrics on this port."),
    ] = None,
    metrics_host: Annotated[
        str, typer.Option(help="Address the metrics are served on (0.0.0.0 in a container).")
    ] = "127.0.0.1",
) -> None:
    """Run queued deliveries (STOPSHIP_QUEUE=procrastinate); SIGTERM finishes running jobs."""
    from app.jobs.worker import run_worker

    raise typer.Exit(run_worker(concurrency, shutdown_timeout, metrics_port, metrics_host))


db_cli = typer.Typer(no_args_is_help=True, help="stopship's own database.")
cli.add_typer(db_cli, name="db")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply stopship's database migrations (alembic upgrade head)."""
    from app.store.migrate import upgrade_head

    raise typer.Exit(upgrade_head())


@cli.command()
def version() -> None:
    """Print the version."""
    typer.echo(__version__)


def wants_color() -> bool:
    """Colour on a terminal; `NO_COLOR` (any value) turns it off, `FORCE_COLOR` on (no-color.org,
    force-color.org)."""
    if os.environ.get("NO_COLOR"):
        return False
    if os.environ.get("FORCE_COLOR"):
        return True
    return sys.stdout.isatty()


def terminal_width() -> int:
    """The terminal's width (`COLUMNS` first; at least 60), 100 when there is no terminal."""
    return max(60, shutil.get_terminal_size((100, 24)).columns)


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"stopship {__version__}")
        raise typer.Exit(0)


@cli.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_print_version, is_eager=True, help="Print the version and exit."
        ),
    ] = False,
) -> None:
    """stopship: a production-readiness gate for GitHub."""


def main() -> None:
    cli()


if __name__ == "__main__":
    main()
