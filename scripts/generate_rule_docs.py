"""Write docs/rules/ (one page per rule and an index) from rules/*.yml; pages of rules that no
longer exist are removed. tests/render/test_rule_docs.py fails while the checked-in pages differ.

    python scripts/generate_rule_docs.py [--out docs/rules]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the checkout's app/, also when stopship is not installed editable

from app.engine.ruleset import load_ruleset  # noqa: E402
from app.render.rule_docs import rule_doc_files  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "rules")
    args = parser.parse_args()
    out: Path = args.out
    files = rule_doc_files(load_ruleset(ROOT / "rules"))
    out.mkdir(parents=True, exist_ok=True)
    for stale in out.glob("*.md"):
        if stale.name not in files:
            stale.unlink()
    for name, text in files.items():
        (out / name).write_text(text, encoding="utf-8")
    print(f"wrote {len(files)} files to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
