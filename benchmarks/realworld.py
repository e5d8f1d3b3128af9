"""Accuracy on real repositories: audit checkouts of the development set and compare with its
hand-judged labels.

    python benchmarks/realworld.py DIR... [--labels FILE] [--stop-ships] [--json-only]

Each DIR is a checkout of a repository named in the labels file (`repositories[].repo` at
`repositories[].commit`; see ../shared/realworld/README.md for fetching them); it is recognised
by its HEAD commit, else by its folder's name. Each is audited as `stopship check DIR` would
(default config unless the repository has one, release baseline from its tags, no cache), and
the labels decide:

- per repository: score, grade, verdict, findings by severity, stop-ships by rule, seconds;
- labelled false positives still reported (and as what: rule, severity, stop-ship);
- labelled true positives lost, apart from those in migrations up to the release baseline
  (applied history, reported as such: not a loss);
- the misses the labels list (`misses_to_find`): found or not;
- for the production services (`mature`): NOT READY without any stop-ship, or a score under 70.

Prints a table, the lists above, and one JSON line (the last line) with the figures. With
--stop-ships it also lists every stop-ship reported, to be opened and judged by hand.
Not run in CI: it needs the checkouts (tests/benchmarks/test_realworld.py runs it on a tiny
repository built in the test).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.checkout.audit_local import audit_checkout  # noqa: E402
from app.checkout.git import release_baseline  # noqa: E402
from app.engine.config import CONFIG_PATH, parse_config  # noqa: E402
from app.engine.model import Finding  # noqa: E402
from app.engine.release import NO_BASELINE, ReleaseBaseline  # noqa: E402
from app.engine.report import Report  # noqa: E402

DEFAULT_LABELS = ROOT.parent / "shared" / "realworld" / "labels.json"
NEAR = 3  # lines: a label matches a finding this close (peers report statements elsewhere)
MATURE_FLOOR = 70


@dataclass
class Outcome:
    repo: str
    path: Path
    report: Report
    release: ReleaseBaseline
    seconds: float
    fp_still: list[dict[str, Any]] = field(default_factory=list)
    tp_lost: list[dict[str, Any]] = field(default_factory=list)
    tp_history: list[dict[str, Any]] = field(default_factory=list)
    tp_kept: int = 0
    fp_gone: int = 0
    misses: list[tuple[dict[str, Any], bool]] = field(default_factory=list)


def head_of(path: Path) -> str:
    done = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=path, capture_output=True, text=True, check=False
    )
    return done.stdout.strip() if done.returncode == 0 else ""


def identify(path: Path, labels: dict[str, Any]) -> str | None:
    """The labelled repository a checkout is: by HEAD commit, else by folder name."""
    head = head_of(path)
    for entry in labels["repositories"]:
        if head and entry["commit"] == head:
            return str(entry["repo"])
    for entry in labels["repositories"]:
        if entry["repo"].split("/")[-1].lower() == path.name.lower():
            return str(entry["repo"])
    return None


def matching(label: dict[str, Any], findings: list[Finding]) -> Finding | None:
    """The finding a label is about: same path, near its line, same rule (else same category:
    a finding moved to a lower-severity rule of its category is still reported)."""
    near = [
        f
        for f in findings
        if f.path == label["path"]
        and (label["line"] is None or f.line is None or abs(f.line - label["line"]) <= NEAR)
    ]
    same = [f for f in near if f.rule == label["rule"]]
    if same:
        return same[0]
    category = label["rule"][:3]
    related = [f for f in near if f.rule[:3] == category]
    return related[0] if related else None


def release_of(path: Path) -> ReleaseBaseline:
    """The baseline the audit used (the CLI's own resolution, asked again for the labels)."""
    config_file = path / CONFIG_PATH
    try:
        config = parse_config(config_file.read_bytes() if config_file.is_file() else None)
        return release_baseline(path, config.baseline, "baseline", config.release_tags)
    except Exception:  # noqa: BLE001 - a benchmark: an unreadable config means no baseline
        return NO_BASELINE


def judge(repo: str, path: Path, labels: dict[str, Any]) -> Outcome:
    started = time.perf_counter()
    report, _ = audit_checkout(path, use_cache=False)
    outcome = Outcome(repo, path, report, release_of(path), time.perf_counter() - started)
    for label in labels["sample_judged_by_hand"]:
        if label["repo"] != repo or label["path"] in (None, "None"):
            continue
        found = matching(label, report.findings)
        if label["verdict"] == "FP":
            if found is None:
                outcome.fp_gone += 1
            else:
                outcome.fp_still.append(
                    dict(label, now=f"{found.rule} {found.severity}", now_stop=found.stop_ship)
                )
        elif label["verdict"] == "TP":
            if found is not None:
                outcome.tp_kept += 1
            elif outcome.release.applied(label["path"]):
                outcome.tp_history.append(label)
            else:
                outcome.tp_lost.append(label)
    for miss in labels.get("misses_to_find", []):
        if miss["repo"] != repo:
            continue
        if miss.get("text_in_stack"):
            stack = json.dumps(report.stack.as_dict()).lower()
            outcome.misses.append((miss, miss["text_in_stack"] in stack))
        else:
            outcome.misses.append((miss, matching(miss, report.findings) is not None))
    return outcome


def table(outcomes: list[Outcome], mature: set[str]) -> list[str]:
    rows = [
        f"{'repository':42} {'score':>5} grade {'verdict':22} {'findings':>8} {'stop':>5} "
        f"{'crit':>4} {'high':>4} {'med':>4} {'low':>4} {'s':>6}  stop-ships by rule"
    ]
    for o in outcomes:
        r = o.report
        counts = r.counts()
        by_rule = Counter(f.rule for f in r.stop_ship)
        flag = " *" if o.repo in mature else ""
        rows.append(
            f"{o.repo + flag:42} {r.score:>5} {r.grade:^5} {r.verdict:22} {len(r.findings):>8} "
            f"{counts['stop_ship']:>5} {counts['critical']:>4} {counts['high']:>4} "
            f"{counts['medium']:>4} {counts['low']:>4} {o.seconds:>6.1f}  "
            + (", ".join(f"{k} {v}" for k, v in by_rule.most_common()) or "-")
        )
    rows.append("(* a production service of the set)")
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("dirs", nargs="+", type=Path, help="checkouts of the labelled repos")
    parser.add_argument("--labels", type=Path, default=Path(
        os.environ.get("STOPSHIP_REALWORLD_LABELS", DEFAULT_LABELS)))  # fmt: skip
    parser.add_argument("--stop-ships", action="store_true", help="list every stop-ship")
    parser.add_argument("--json-only", action="store_true", help="print only the JSON line")
    args = parser.parse_args(argv)
    if not args.labels.is_file():
        parser.error(f"--labels {args.labels}: no such file")
    labels = json.loads(args.labels.read_text())
    mature = set(labels.get("mature", []))
    outcomes: list[Outcome] = []
    for path in args.dirs:
        repo = identify(path, labels)
        if repo is None:
            parser.error(f"{path}: not a checkout of a labelled repository (HEAD or folder name)")
        outcomes.append(judge(repo, path, labels))

    lines = table(outcomes, mature)
    fp_still = [(o.repo, x) for o in outcomes for x in o.fp_still]
    fp_stop = [(repo, x) for repo, x in fp_still if x["now_stop"]]
    tp_lost = [(o.repo, x) for o in outcomes for x in o.tp_lost]
    history = [(o.repo, x) for o in outcomes for x in o.tp_history]
    misses = [(o.repo, m, found) for o in outcomes for m, found in o.misses]
    mature_bad = [
        o.repo
        for o in outcomes
        if o.repo in mature and (o.report.score < MATURE_FLOOR or o.report.verdict == "NOT READY")
    ]
    lines += ["", f"Labelled false positives still reported: {len(fp_still)} "
              f"({len(fp_stop)} as stop-ship)"]  # fmt: skip
    lines += [
        f"  {repo} {x['rule']} {x['path']}:{x['line']} -> {x['now']}"
        f"{' STOP-SHIP' if x['now_stop'] else ''} ({x['why']})"
        for repo, x in fp_still
    ]
    lines += ["", f"Labelled true positives lost: {len(tp_lost)}"]
    lines += [f"  {repo} {x['rule']} {x['path']}:{x['line']} ({x['why']})" for repo, x in tp_lost]
    lines += [
        "",
        f"Labelled true positives in migrations up to the release baseline (history): "
        f"{len(history)}",
    ]
    lines += [
        f"  {repo} {x['rule']} {x['path']}:{x['line']} (baseline {o.release.ref})"
        for o in outcomes
        for repo, x in [(o.repo, y) for y in o.tp_history]
    ]
    lines += ["", f"Misses to find: {sum(f for _, _, f in misses)} of {len(misses)} found"]
    lines += [
        f"  {'found' if found else 'MISSED'} {repo} {m.get('rule') or 'stack'} "
        f"{m.get('path') or ''}{':' + str(m['line']) if m.get('line') else ''} ({m['what']})"
        for repo, m, found in misses
    ]
    lines += [
        "",
        "Production services NOT READY or under "
        f"{MATURE_FLOOR}: {', '.join(mature_bad) if mature_bad else 'none'}",
    ]
    for o in outcomes:
        if o.report.migrations is not None and o.report.migrations.describe():
            lines.append(f"  {o.repo}: {o.report.migrations.describe()}")
    if args.stop_ships:
        lines += ["", "Every stop-ship reported (open each and judge it):"]
        for o in outcomes:
            for f in o.report.stop_ship:
                lines.append(f"  {o.repo} {f.rule} {f.path}:{f.line} {f.message}")
    stop_ships = sum(len(o.report.stop_ship) for o in outcomes)
    summary = {
        "repositories": {
            o.repo: {
                "score": o.report.score,
                "grade": o.report.grade,
                "verdict": o.report.verdict,
                "findings": len(o.report.findings),
                "stop_ship": len(o.report.stop_ship),
                "by_severity": {k: v for k, v in o.report.counts().items() if k != "stop_ship"},
                "stop_ship_by_rule": dict(Counter(f.rule for f in o.report.stop_ship)),
                "findings_by_rule": dict(Counter(f.rule for f in o.report.findings)),
                "migrations": o.report.migrations.describe() if o.report.migrations else "",
                "seconds": round(o.seconds, 2),
            }
            for o in outcomes
        },
        "stop_ships": stop_ships,
        "labelled_fp_still_reported": len(fp_still),
        "labelled_fp_still_stop_ship": len(fp_stop),
        "labelled_fp_gone": sum(o.fp_gone for o in outcomes),
        "labelled_tp_kept": sum(o.tp_kept for o in outcomes),
        "labelled_tp_lost": len(tp_lost),
        "labelled_tp_in_history": len(history),
        "misses_found": sum(1 for _, _, f in misses if f),
        "misses": len(misses),
        "mature_not_ready_or_under_70": mature_bad,
        "seconds": round(sum(o.seconds for o in outcomes), 2),
    }
    if not args.json_only:
        print("\n".join(lines))
    print(json.dumps(summary, separators=(",", ":")))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
