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
from app.manifest_command import app_manifest

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

    from app.engine.report import Report
    from app.engine.ruleset import Ruleset

cli = typer.Typer(
    rich_markup_mode=None,
    no_args_is_help=True,
    help="stopship: a production-readiness gate for GitHub.",
)


class OutputFormat(StrEnum):
    text = "text"
    json = "json"
    markdown = "markdown"
    sarif = "sarif"
    github = "github"
    summary = "summary"  # the quick score of `/production score`
    report = "report"  # the stakeholder report of `/production report`


class LaunchStage(StrEnum):
    internal = "internal"
    beta = "beta"
    public = "public"
    paid = "paid"


LaunchOption = Annotated[
    LaunchStage | None,
    typer.Option(help="Launch stage; sets the strictness (DESIGN.md), over the config's."),
]
UserDataOption = Annotated[
    bool | None, typer.Option("--user-data/--no-user-data", help="The service stores user data.")
]
PaymentsOption = Annotated[
    bool | None, typer.Option("--payments/--no-payments", help="The service takes payments.")
]


def _die(message: str) -> typer.Exit:
    typer.echo(f"stopship: {message}", err=True)
    return typer.Exit(2)


def _require_app_extra(command: str) -> None:
    """Stop with exit 2 and the command to run when the App's server stack is not installed."""
    from app.app_extra import INSTALL_HINT, missing_app_modules

    missing = missing_app_modules()
    if missing:
        raise _die(
            f"stopship {command} runs the GitHub App, whose dependencies are not installed "
            f"({', '.join(missing)}): {INSTALL_HINT}"
        )


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
    staged: Annotated[
        bool,
        typer.Option(
            "--staged",
            help="Audit the staged tree (git's index) against HEAD and fail only on what the "
            "staged change introduces (the pre-commit hook).",
        ),
    ] = False,
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
    explain: Annotated[
        bool, typer.Option("--explain", help="Give each finding's why, impact, fix and effort.")
    ] = False,
    quiet: Annotated[
        bool,
        typer.Option(
            "--quiet",
            "-q",
            help="Text: one line per finding (with --staged: those it introduces), nothing "
            "else; the gate line only when it fails.",
        ),
    ] = False,
    select: Annotated[
        list[str] | None,
        typer.Option(
            metavar="RULES", help="Only these rules: ids or id prefixes, comma-separated."
        ),
    ] = None,
    ignore: Annotated[
        list[str] | None,
        typer.Option(metavar="RULES", help="Leave out these rules: ids or id prefixes."),
    ] = None,
    statistics: Annotated[
        bool,
        typer.Option("--statistics", help="Print the count of findings per rule (text or json)."),
    ] = False,
    launch: LaunchOption = None,
    user_data: UserDataOption = None,
    payments: PaymentsOption = None,
    vulnerabilities: Annotated[
        bool | None,
        typer.Option(
            "--vulnerabilities/--no-vulnerabilities",
            help="Ask OSV (osv.dev) about the versions pinned in the lock files: high and "
            "critical advisories are findings (default: config `vulnerabilities:`). Offline, "
            "the report says so and the gate is unaffected.",
        ),
    ] = None,
) -> None:
    """Audit a checkout: exit 0 when the gate passes, 1 when it fails, 2 on usage/config errors."""
    from app.checkout.audit_local import LocalAuditError, audit_checkout
    from app.checkout.staged import audit_staged
    from app.engine.overrides import Overrides, rule_selectors

    if staged and changed_since:
        raise _die("--staged and --changed-since exclude each other")
    if statistics and format not in (OutputFormat.text, OutputFormat.json):
        raise _die("--statistics prints text or json")
    overrides = Overrides(
        select=rule_selectors(select or ()),
        ignore=rule_selectors(ignore or ()),
        stage=launch.value if launch is not None else None,
        user_data=user_data,
        payments=payments,
    )
    progress = _LazyProgress()
    progress.enabled = progress.enabled and not quiet
    use_cache = not no_cache and not os.environ.get("STOPSHIP_NO_CACHE")
    try:
        if staged:
            report, ruleset = audit_staged(
                path,
                config_file=config,
                use_cache=use_cache,
                jobs=jobs,
                progress=progress,
                release=baseline,
                overrides=overrides,
            )
        else:
            report, ruleset = audit_checkout(
                path,
                config_file=config,
                changed_since=changed_since,
                baseline=baseline,
                use_cache=use_cache,
                jobs=jobs,
                progress=progress,
                overrides=overrides,
                vulnerabilities=vulnerabilities,
            )
    except LocalAuditError as exc:
        raise _die(str(exc)) from None
    finally:
        progress.close()
    from app.engine.gate import GateContext, decide

    context = GateContext("commit" if staged else "local", fail_on=fail_on, min_score=min_score)
    outcome = decide(report, context)
    report.gate_reason = outcome.reason
    body = _body(
        report, ruleset, format, output, quiet=quiet, statistics=statistics, explain=explain
    )
    if output is not None:
        try:
            output.write_text(body, encoding="utf-8")
        except OSError as exc:
            raise _die(f"--output {output}: {exc.strerror or exc}") from None
    else:
        sys.stdout.write(body)
    shown = format is OutputFormat.text and output is None and not (quiet or statistics)
    if not outcome.passed or not (shown or quiet):
        typer.echo(f"stopship: gate {outcome.reason}", err=True)
    raise typer.Exit(outcome.exit_code)


def _body(
    report: Report,
    ruleset: Ruleset,
    format: OutputFormat,
    output: Path | None,
    *,
    quiet: bool,
    statistics: bool,
    explain: bool = False,
) -> str:
    """What `check` prints: the report in `format`, or per-rule counts, or (quiet) the
    findings alone."""
    if statistics:
        from app.render import statistics as counts

        json_wanted = format is OutputFormat.json
        return counts.render_json(report) if json_wanted else counts.render_text(report)
    if format is OutputFormat.text and quiet:
        from app.render.concise import render as render_concise

        return render_concise(report)
    if format is OutputFormat.text:
        from app.render.text import render as render_text

        color = output is None and wants_color()
        return render_text(
            report, ruleset, color=color, width=terminal_width(), explain=explain
        )
    from app.render import renderer_for

    return renderer_for(format.value, explain=explain)(report, ruleset)


@cli.command()
def report(
    path: Annotated[Path, typer.Argument(help="The checkout to audit.")] = Path("."),
    output_dir: Annotated[
        Path, typer.Option("--output-dir", "-d", help="Where to write the deliverables.")
    ] = Path("."),
    config: Annotated[
        Path | None, typer.Option(help="Config file (default PATH/.github/stopship.yml).")
    ] = None,
    baseline: Annotated[
        str | None, typer.Option(help="The release the next deployment builds on (git ref).")
    ] = None,
    no_cache: Annotated[bool, typer.Option("--no-cache", help="Analyse every file again.")] = False,
    jobs: Annotated[
        int | None, typer.Option(min=1, help="Worker processes (default: every core).")
    ] = None,
) -> None:
    """Write the audit deliverables to keep in the repository: production-readiness-audit.md,
    production-readiness-issues.json and release-gate-checklist.md (exit 0; 2 on errors)."""
    from app.checkout.audit_local import LocalAuditError, audit_checkout
    from app.engine.gate import GateContext, decide
    from app.render.deliverables import write_deliverables

    try:
        audited, ruleset = audit_checkout(
            path,
            config_file=config,
            baseline=baseline,
            use_cache=not no_cache and not os.environ.get("STOPSHIP_NO_CACHE"),
            jobs=jobs,
        )
    except LocalAuditError as exc:
        raise _die(str(exc)) from None
    audited.gate_reason = decide(audited, GateContext("local")).reason
    try:
        written = write_deliverables(audited, ruleset, output_dir)
    except OSError as exc:
        raise _die(f"--output-dir {output_dir}: {exc.strerror or exc}") from None
    for target in written:
        typer.echo(f"wrote {target}")
    typer.echo(f"stopship: gate {audited.gate_reason}", err=True)


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
def init(
    path: Annotated[Path, typer.Argument(help="The repository's root.")] = Path("."),
    launch: LaunchOption = None,
    user_data: UserDataOption = None,
    payments: PaymentsOption = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing file.")] = False,
) -> None:
    """Write a commented .github/stopship.yml that editors check against its JSON Schema."""
    from app.engine.config import CONFIG_PATH, Launch, strictness_for
    from app.engine.config_template import config_template

    if not path.is_dir():
        raise _die(f"{path}: not a directory")
    target = path / CONFIG_PATH
    if target.exists() and not force:
        raise _die(f"{target} exists (--force overwrites it)")
    chosen = {"stage": launch.value if launch else None, "user_data": user_data}
    chosen["payments"] = payments
    settings = Launch.model_validate({k: v for k, v in chosen.items() if v is not None})
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(config_template(settings), encoding="utf-8")
    except OSError as exc:
        raise _die(f"{target}: {exc.strerror or exc}") from None
    typer.echo(f"wrote {target} ({strictness_for(settings).describe()} strictness)")


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
    migrate: Annotated[
        bool,
        typer.Option(
            "--migrate",
            help="Apply the database migrations first (one server owns the database, "
            "e.g. SQLite in one container); with several replicas run `stopship db upgrade` once.",
        ),
    ] = False,
) -> None:
    """Run the webhook service (it also runs the jobs with STOPSHIP_QUEUE=inline)."""
    _require_app_extra("serve")
    from app.web.serve import ServerLimits, run_server

    limits = ServerLimits(workers, limit_concurrency, timeout_keep_alive, header_timeout)
    raise typer.Exit(run_server(host, port, limits, migrate=migrate))


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
    _require_app_extra("worker")
    from app.jobs.worker import run_worker

    raise typer.Exit(run_worker(concurrency, shutdown_timeout, metrics_port, metrics_host))


cli.command("app-manifest")(app_manifest)

db_cli = typer.Typer(no_args_is_help=True, help="stopship's own database.")
cli.add_typer(db_cli, name="db")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply stopship's database migrations (alembic upgrade head)."""
    _require_app_extra("db upgrade")
    from app.store.migrate import upgrade_head

    raise typer.Exit(upgrade_head())


@db_cli.command("downgrade")
def db_downgrade(
    revision: Annotated[str, typer.Argument(help="The revision to go back to (e.g. 0007).")],
) -> None:
    """Undo the migrations after REVISION, to roll back to the release whose head it is."""
    from app.store.migrate import downgrade_to

    raise typer.Exit(downgrade_to(revision))


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
