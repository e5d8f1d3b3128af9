"""Scan throughput and memory: a cold scan and a warm re-scan of a synthetic tree, side by side.

    python benchmarks/scan.py [--files 6000] [--keep DIR]

Builds a tree of mixed-language source files (Python, TypeScript, Go, Java, SQL migrations,
Dockerfiles, compose and Kubernetes YAML) from the sample services in tests/corpus: 95% from the
well-built services and 5% from the ones with planted defects (real repositories have a few
findings per hundred files, not several per file), each file made unique and grown to 2-12 KB;
then audits it twice with the CLI's code path: cold (empty result cache, every file
analysed, all cores) and warm (every file a cache hit). Each run is a fresh process so its peak
memory is its own. Prints files/s, MB/s, peak RSS and the warm/cold speed-up, and exits 1 when a
target is missed (cold >= 8 MB/s, warm >= 20x faster than cold, peak < 500 MB).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "corpus"
TARGET_MB_S = 8.0
TARGET_SPEEDUP = 20.0
TARGET_PEAK_MB = 500.0

_SUFFIXES = {".py", ".ts", ".go", ".java", ".sql", ".yml", ".yaml"}


BAD_SHARE = 0.05


def _templates(kind: str) -> list[tuple[str, str]]:
    out = []
    for path in sorted(CORPUS.glob(f"*-{kind}/**/*")):
        if path.is_file() and (path.suffix in _SUFFIXES or path.name == "Dockerfile"):
            out.append((path.relative_to(CORPUS).as_posix(), path.read_text()))
    return out


def _variant(rel: str, text: str, n: int, rng: random.Random) -> tuple[str, str]:
    """A unique, still-parseable file derived from a template."""
    folder, _, name = rel.rpartition("/")
    stem, dot, suffix = name.partition(".")
    body = text
    # grow files to a realistic size (2-12 KB) with more of the same code
    repeat = rng.randint(2, 8)
    if suffix in {"py", "ts", "go", "java"}:
        body = "\n".join([text] + [text.split("\n", 3)[-1]] * (repeat - 1))
        marker = {"py": "#", "ts": "//", "go": "//", "java": "//"}[suffix]
        body = f"{marker} variant {n}\n{body}"
    elif suffix == "sql" or suffix in {"yml", "yaml"} or name == "Dockerfile":
        body = f"# variant {n}\n{text}" if suffix != "sql" else f"-- variant {n}\n{text}"
    new_name = f"{stem}_{n}{dot}{suffix}" if name != "Dockerfile" else "Dockerfile"
    return f"svc{n // 40:03d}/{folder}/{new_name}".replace("//", "/"), body


def build_tree(target: Path, files: int, seed: int = 7) -> tuple[int, int]:
    rng = random.Random(seed)
    good, bad = _templates("good"), _templates("bad")
    total = 0
    written = 0
    while written < files:
        templates = bad if rng.random() < BAD_SHARE else good
        rel, text = templates[rng.randrange(len(templates))]
        path, body = _variant(rel, text, written, rng)
        full = target / path
        full.parent.mkdir(parents=True, exist_ok=True)
        if full.exists():  # a second Dockerfile in the same service folder
            full = full.with_name(f"Dockerfile.{written}")
        data = body.encode()
        full.write_bytes(data)
        total += len(data)
        written += 1
    return written, total


def measure(tree: Path, cache_dir: Path) -> dict[str, float]:
    """One audit of `tree` in this process (called in a child process)."""
    os.environ["STOPSHIP_CACHE_DIR"] = str(cache_dir)
    from app.checkout.audit_local import audit_checkout

    def cpu() -> float:
        own = resource.getrusage(resource.RUSAGE_SELF)
        children = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime

    cpu_start = cpu()
    start = time.perf_counter()
    report, _ = audit_checkout(tree, use_cache=True)
    seconds = time.perf_counter() - start
    cpu_seconds = cpu() - cpu_start
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return {
        "seconds": seconds,
        # CPU of this process and its workers during the audit: on a shared machine wall-clock
        # varies with the load, this much less
        "cpu_seconds": cpu_seconds,
        "files": report.stats.files_analyzed + report.stats.cache_hits,
        "analysed": report.stats.files_analyzed,
        "cached": report.stats.cache_hits,
        "findings": len(report.findings),
        "peak_mb": max(own, children),
        "peak_parent_mb": own,
        "peak_worker_mb": children,
    }


def _run_child(tree: Path, cache_dir: Path) -> dict[str, float]:
    out = subprocess.run(
        [sys.executable, __file__, "--measure", str(tree), "--cache", str(cache_dir)],
        check=True,
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=6000)
    parser.add_argument("--keep", type=Path, help="build the tree here and keep it")
    parser.add_argument("--measure", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--cache", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, args.cache)))
        return 0

    work = Path(tempfile.mkdtemp(prefix="stopship-bench-"))
    tree = args.keep or work / "tree"
    try:
        tree.mkdir(parents=True, exist_ok=True)
        files, size = build_tree(tree, args.files)
        mb = size / 1_000_000
        print(f"tree: {files} files, {mb:.1f} MB, {os.cpu_count()} cores")
        cache = work / "cache"
        cold = _run_child(tree, cache)
        warm = _run_child(tree, cache)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = [("cold", cold), ("warm", warm)]
    print(
        f"{'run':<6}{'seconds':>9}{'files/s':>10}{'MB/s':>9}{'analysed':>10}{'cached':>8}"
        f"{'peak MB':>9}{'cpu s':>8}"
    )
    for name, r in rows:
        print(
            f"{name:<6}{r['seconds']:>9.2f}{files / r['seconds']:>10.0f}{mb / r['seconds']:>9.1f}"
            f"{r['analysed']:>10.0f}{r['cached']:>8.0f}{r['peak_mb']:>9.0f}"
            f"{r['cpu_seconds']:>8.2f}"
        )
    speedup = cold["seconds"] / warm["seconds"]
    cold_mb_s = mb / cold["seconds"]
    peak = max(cold["peak_mb"], warm["peak_mb"])
    checks = [
        (f"cold scan {cold_mb_s:.1f} MB/s (target >= {TARGET_MB_S})", cold_mb_s >= TARGET_MB_S),
        (
            f"warm re-scan {speedup:.1f}x faster than cold (target >= {TARGET_SPEEDUP})",
            speedup >= TARGET_SPEEDUP,
        ),
        (f"peak memory {peak:.0f} MB (target < {TARGET_PEAK_MB:.0f})", peak < TARGET_PEAK_MB),
        ("warm run analysed nothing", warm["analysed"] == 0),
    ]
    for label, ok in checks:
        print(f"{'ok  ' if ok else 'MISS'} {label}")
    return 0 if all(ok for _, ok in checks) else 1


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    raise SystemExit(main())
