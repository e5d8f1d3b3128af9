"""The report kept file by file (app/engine/report_cache.py) equals build_report on the same
inputs, after any sequence of edits, additions, removals and renames, with waivers, a suppression
policy and a listing limited to some paths, under several configs: the sample services of
tests/corpus plus files for the cross-file cases (inline suppressions, a hit resolved by other
migrations' facts, repository rules that read paths, payment paths)."""

from __future__ import annotations

import random
from dataclasses import fields
from pathlib import Path

import pytest

from app.engine.analyze import Analyzer
from app.engine.audit import AuditInput, SuppressionPolicy, build_report
from app.engine.config import StopshipConfig, parse_config
from app.engine.model import FileResult, Finding, Suppression, Waiver
from app.engine.report import Report, ScanStats
from app.engine.report_cache import ReportState
from app.engine.ruleset import Ruleset

CORPUS = Path(__file__).resolve().parents[1] / "corpus"
DATE = "2030-01-02"
STATS = ScanStats(files_total=3, files_analyzed=1, cache_hits=2)
INJECTION = 'def q(c, x):\n    c.execute(f"DELETE FROM t WHERE id = {x}")\n'
SUPPRESSED = (
    "def q(c, x):\n"
    "    # stopship: ignore[SEC002] ids are integers, checked by the router\n"
    '    c.execute(f"DELETE FROM t WHERE id = {x}")\n'
)
CHECK = (
    "SET lock_timeout = '5s';\nALTER TABLE orders ADD CONSTRAINT orders_status_nn"
    " CHECK (status IS NOT NULL) NOT VALID;\n"
)
VALIDATE = "SET lock_timeout = '5s';\nALTER TABLE orders VALIDATE CONSTRAINT orders_status_nn;\n"
SET_NOT_NULL = "SET lock_timeout = '5s';\nALTER TABLE orders ALTER COLUMN status SET NOT NULL;\n"
EXTRA = {
    "svc/app/admin.py": SUPPRESSED,
    "svc/app/ops.py": "import os\n" + SUPPRESSED.replace("def q", "def r"),
    "payments/charge.py": INJECTION,
    "billing/ignored/old.py": INJECTION,
    "db/migrations/0001_check.sql": CHECK,
    "db/migrations/0002_validate.sql": VALIDATE,
    "db/migrations/0003_not_null.sql": SET_NOT_NULL,
    ".env": "SECRET_KEY=abc\n",
    ".gitignore": "*.pyc\n",
}
CONFIGS = {
    "default": StopshipConfig(),
    "paid": parse_config(
        b"launch: {stage: paid, payments: true, user_data: true}\n"
        b"min_score: 95\n"
        b"rules:\n  disable: [OBS001]\n  severity: {SEC002: medium, ERR002: critical}\n"
        b"ignore_paths: ['**/ignored/**']\n"
    ),
    "internal": parse_config(b"launch: {stage: internal}\nrules: {disable: [DEP011, SEC001]}\n"),
}


def corpus_files() -> dict[str, str]:
    out = {}
    for path in sorted(CORPUS.glob("*-*/**/*")):
        if path.is_file() and path.parent != CORPUS / "expected":
            rel = path.relative_to(CORPUS).as_posix()
            out[rel] = path.read_text()
    return out


class Files:
    """Per-file results by (path, text), each analysed once: an unchanged file keeps the same
    result object, as the App's result memo gives."""

    def __init__(self, analyzer: Analyzer) -> None:
        self.analyzer = analyzer
        self._done: dict[tuple[str, str], FileResult] = {}

    def results(self, tree: dict[str, str]) -> dict[str, FileResult]:
        out = {}
        for path, text in tree.items():
            key = (path, text)
            if key not in self._done:
                self._done[key] = self.analyzer.analyze(path, text.encode())
            out[path] = self._done[key]
        return out


def full(
    ruleset: Ruleset,
    config: StopshipConfig,
    results: dict[str, FileResult],
    waivers: dict[str, Waiver],
    policy: SuppressionPolicy | None,
    changed: set[str] | None,
) -> Report:
    audit = AuditInput(
        repo="octo/shop",
        paths=sorted(results),
        results=results,
        stats=STATS,
        changed_paths=changed,
        suppression_policy=policy,
        date=DATE,
        waivers=waivers,
    )
    return build_report(ruleset, config, audit)


def assert_same(got: Report, want: Report) -> None:
    for field in fields(Report):
        assert getattr(got, field.name) == getattr(want, field.name), field.name


def refuse_stop_ship_in_even_paths(path: str, suppression: Suppression, finding: Finding) -> bool:
    return not finding.stop_ship or len(path) % 2 == 1


def edit(rng: random.Random, tree: dict[str, str], pool: dict[str, str], step: int) -> set[str]:
    """One random change to `tree`; returns the paths it touched."""
    paths = sorted(tree)
    path = rng.choice(paths)
    marker = "--" if path.endswith(".sql") else "#"
    action = rng.choice(["prepend", "append", "replace", "add", "remove", "rename", "toggle"])
    if action == "prepend":  # every line moves: facts and findings change lines
        tree[path] = f"{marker} edit {step}\n" + tree[path]
    elif action == "append":
        tree[path] = tree[path] + f"\n{marker} edit {step}\n"
    elif action == "replace":
        suffix = path.rsplit(".", 1)[-1]
        same_kind = [p for p in pool if p.endswith("." + suffix)] or list(pool)
        tree[path] = pool[rng.choice(same_kind)]
    elif action == "add":
        source = rng.choice(sorted(pool))
        path = f"extra{step}/{source}"
        tree[path] = pool[source]
    elif action == "remove" and len(tree) > 5:
        del tree[path]
    elif action == "rename":
        new = f"moved{step}/{path}"
        tree[new] = tree.pop(path)
        return {path, new}
    else:  # an inline suppression appears or goes
        target = "svc/app/admin.py"
        tree[target] = SUPPRESSED if tree.get(target) != SUPPRESSED else INJECTION
        return {target}
    return {path}


def choose_waivers(rng: random.Random, report: Report) -> dict[str, Waiver]:
    everything = report.findings + report.suppressed
    chosen = rng.sample(everything, min(len(everything), rng.randint(0, 6)))
    waivers = {f.fingerprint: Waiver(f.fingerprint, "accepted", "octocat") for f in chosen}
    waivers["0" * 40] = Waiver("0" * 40, "a finding that is gone", "octocat", "2031-01-01")
    return waivers


@pytest.mark.parametrize("config_name", sorted(CONFIGS))
def test_a_state_kept_file_by_file_gives_the_report_of_a_full_build(
    ruleset: Ruleset, analyzer: Analyzer, config_name: str
) -> None:
    config = CONFIGS[config_name]
    rng = random.Random(config_name)
    pool = corpus_files()
    services = sorted({p.split("/", 1)[0] for p in pool})
    tree = {p: t for p, t in pool.items() if p.split("/", 1)[0] in services[:6]} | EXTRA
    files = Files(analyzer)
    results = files.results(tree)
    state = ReportState.build(ruleset, config, results)
    for step in range(30):
        touched: set[str] = set()
        for _ in range(rng.randint(1, 4)):
            touched |= edit(rng, tree, pool, step)
        results = files.results(tree)
        state = state.updated(results, touched)
        plain = full(ruleset, config, results, {}, None, None)
        waivers = choose_waivers(rng, plain)
        policy = rng.choice([None, refuse_stop_ship_in_even_paths])
        changed = rng.choice([None, set(rng.sample(sorted(tree), 5)) | {"gone.py"}])
        want = full(ruleset, config, results, waivers, policy, changed)
        got = state.report("octo/shop", STATS, waivers, policy, changed, DATE)
        assert_same(got, want)
        assert_same(state.report("octo/shop", STATS, date=DATE), plain)
    # and the state built at once from the last results is the same
    assert_same(ReportState.build(ruleset, config, results).report("octo/shop", STATS, date=DATE),
                full(ruleset, config, results, {}, None, None))  # fmt: skip


def test_the_cross_file_cases_are_exercised(ruleset: Ruleset, analyzer: Analyzer) -> None:
    """The sample is worth comparing on: it has an inline suppression, a hit resolved by
    another file's facts, repository findings with and without a path, and a payment path."""
    results = Files(analyzer).results(EXTRA)
    report = full(ruleset, CONFIGS["paid"], results, {}, None, None)
    assert any(f.suppressed_by for f in report.suppressed)
    assert {f.path for f in report.findings if f.rule == "SEC002"} == {"payments/charge.py"}
    assert not [f for f in report.findings if f.path == "db/migrations/0003_not_null.sql"]
    without_check = {p: r for p, r in results.items() if "0001" not in p}
    unresolved = full(ruleset, CONFIGS["paid"], without_check, {}, None, None)
    assert [f for f in unresolved.findings if f.path == "db/migrations/0003_not_null.sql"]
    assert any(f.path is None for f in report.findings)
    assert any(f.path == ".env" for f in report.findings)


def test_a_config_change_is_a_new_state(ruleset: Ruleset, analyzer: Analyzer) -> None:
    """States are per config: the state built under the new config after a push equals the full
    build, and differs from the old config's."""
    files = Files(analyzer)
    tree = dict(EXTRA)
    before = ReportState.build(ruleset, CONFIGS["default"], files.results(tree))
    tree["svc/app/new.py"] = INJECTION
    results = files.results(tree)
    after = ReportState.build(ruleset, CONFIGS["paid"], results)
    assert_same(
        after.report("r", date=DATE),
        build_report(
            ruleset, CONFIGS["paid"], AuditInput("r", sorted(results), results, date=DATE)
        ),
    )
    assert before.updated(results, {"svc/app/new.py"}).report("r", date=DATE) != after.report(
        "r", date=DATE
    )


def test_an_update_with_nothing_changed_is_the_same_state(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    results = Files(analyzer).results(EXTRA)
    state = ReportState.build(ruleset, StopshipConfig(), results)
    assert state.updated(dict(results), set(results)) is state


def test_a_finding_resolved_by_another_files_facts_follows_that_file(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    """SET NOT NULL is safe after a validated CHECK in an earlier migration: removing that
    migration brings the finding back in the unchanged file, restoring it takes it away."""
    files = Files(analyzer)
    tree = dict(EXTRA)
    state = ReportState.build(ruleset, StopshipConfig(), files.results(tree))
    check = tree.pop("db/migrations/0001_check.sql")
    state = state.updated(files.results(tree), {"db/migrations/0001_check.sql"})
    paths = {f.path for f in state.report("r", date=DATE).findings}
    assert "db/migrations/0003_not_null.sql" in paths
    tree["db/migrations/0001_check.sql"] = check
    state = state.updated(files.results(tree), {"db/migrations/0001_check.sql"})
    paths = {f.path for f in state.report("r", date=DATE).findings}
    assert "db/migrations/0003_not_null.sql" not in paths


def test_repository_findings_of_one_place_keep_their_rules_order(ruleset: Ruleset) -> None:
    """Two repository rules that report at the same place (the first Gin engine) in the same
    severity and category: a finding that appears for the first rule goes before the second's,
    as build_report lists them."""
    gin = ruleset.by_id["DEP014"]
    first = gin.model_copy(update={"id": "DEP901", "name": "gin-first"})
    options = {**gin.matcher.repo.options, "unless": ["no-such-fact"]}  # type: ignore[union-attr]
    matcher = gin.matcher.model_copy(
        update={"repo": gin.matcher.repo.model_copy(update={"options": options})}  # type: ignore[union-attr]
    )
    second = gin.model_copy(update={"id": "DEP902", "name": "gin-second", "matcher": matcher})
    rules = Ruleset([*ruleset.rules, first, second], ruleset.facts, "test")
    files = Files(Analyzer(rules))
    tree = {
        "main.go": 'package main\nimport "github.com/gin-gonic/gin"\n'
        "func main() {\n    r := gin.Default()\n    r.Run()\n}\n",
        "Dockerfile": "FROM scratch\nENV GIN_MODE=release\n",
    }
    state = ReportState.build(rules, StopshipConfig(), files.results(tree))
    assert [f.rule for f in state.report("r", date=DATE).findings if f.rule[:4] == "DEP9"] == [
        "DEP902"
    ]
    tree["Dockerfile"] = "FROM scratch\n"
    results = files.results(tree)
    state = state.updated(results, {"Dockerfile"})
    got = state.report("r", date=DATE)
    assert [f.rule for f in got.findings if f.rule[:4] == "DEP9"] == ["DEP901", "DEP902"]
    audit = AuditInput("r", sorted(results), results, date=DATE)
    assert_same(got, build_report(rules, StopshipConfig(), audit))
