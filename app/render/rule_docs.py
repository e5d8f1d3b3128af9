"""Rule documentation in the manner of ruff's rule pages: why, example, use instead. As text for
`stopship rules ID`, and as the Markdown pages of docs/rules/ (scripts/generate_rule_docs.py)
that SARIF's helpUri and the check run's annotations link to."""

from __future__ import annotations

import re
from pathlib import PurePosixPath

from app.engine.model import CATEGORIES, CATEGORY_BY_ID
from app.engine.ruleset import Rule, Ruleset

DOCS_URL = "https://github.com/stopship/stopship/blob/main/docs/rules/"
INDEX = "README.md"
_GENERATED = "<!-- generated from rules/*.yml by scripts/generate_rule_docs.py: do not edit -->"
# the info string of a fenced example, by file suffix or name (GitHub's highlighter names)
_FENCE_LANGUAGE = {
    ".py": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
    ".ts": "typescript",
    ".tsx": "tsx",
    ".go": "go",
    ".java": "java",
    ".kt": "kotlin",
    ".yml": "yaml",
    ".yaml": "yaml",
    ".json": "json",
    ".toml": "toml",
    ".sql": "sql",
    ".sh": "shell",
    ".properties": "properties",
    ".xml": "xml",
    ".gradle": "groovy",
    ".tf": "hcl",
    ".md": "markdown",
    ".env": "dotenv",
    "dockerfile": "dockerfile",
}


def doc_url(rule_id: str) -> str:
    """The address of a rule's page in stopship's repository (docs/rules/ID.md)."""
    return f"{DOCS_URL}{rule_id}.md"


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


def _fence_language(path: str) -> str:
    name = PurePosixPath(path).name.lower()
    if name.startswith("dockerfile") or name.endswith(".dockerfile"):
        return "dockerfile"
    if name.startswith(".env"):
        return "dotenv"
    return _FENCE_LANGUAGE.get(PurePosixPath(name).suffix, "")


def _example_markdown(files: dict[str, str], note: str) -> list[str]:
    out = [f"_{note.strip()}_", ""] if note.strip() else []
    for path, content in files.items():
        runs = [len(m) for m in re.findall(r"`{3,}", content)]
        fence = "`" * max([3, *(n + 1 for n in runs)])
        out += [f"`{path}`:", "", f"{fence}{_fence_language(path)}", content.rstrip(), fence, ""]
    return out


def rule_markdown(rule: Rule) -> str:
    """A rule's page of docs/rules/: what it finds, why it matters, a bad example and the good
    one, the fix and how to silence one place."""
    category = CATEGORY_BY_ID[rule.category].name
    facts = [category, f"severity {rule.severity.value}"]
    if rule.stop_ship:
        facts.append("**stop-ship**")
    cap = f" (at most {rule.max_points} per category)" if rule.max_points else ""
    facts += [f"{rule.points} points{cap}", f"{rule.status} since {rule.since}"]
    bad, good = rule.examples.bad[0], rule.examples.good[0]
    lines = [
        f"# {rule.id}: {rule.name}",
        "",
        _GENERATED,
        "",
        " · ".join(facts),
        "",
        "## What it does",
        "",
        f"Reports: {rule.message}.",
        "",
        "## Why is this bad?",
        "",
        rule.why.strip(),
        "",
        "## Example",
        "",
        *_example_markdown(bad.files, bad.note),
        "## Use instead",
        "",
        *_example_markdown(good.files, good.note),
        "## Fix",
        "",
        rule.fix.strip(),
        "",
        "## Silencing one place",
        "",
        f"`# stopship: ignore[{rule.id}] why it is safe`, in the comment syntax of the file's "
        "language, on the line or alone on the line above it (in the first five lines for a "
        "finding about the whole file).",
        "",
        f"[All rules]({INDEX})",
    ]
    return "\n".join(lines) + "\n"


def index_markdown(ruleset: Ruleset) -> str:
    """docs/rules/README.md: every rule by category, linked to its page."""
    lines = ["# stopship rules", "", _GENERATED, ""]
    lines.append(
        f"{len(ruleset.rules)} rules. `stopship rules` lists them in a terminal and "
        "`stopship rules ID` prints one page."
    )
    for category in CATEGORIES:
        rules = sorted((r for r in ruleset.rules if r.category == category.id), key=lambda r: r.id)
        if not rules:
            continue
        lines += [
            "",
            f"## {category.name}",
            "",
            "| Rule | Name | Severity | Stop-ship | Points | Status |",
            "| --- | --- | --- | --- | --- | --- |",
        ]
        lines += [
            f"| [{r.id}]({r.id}.md) | {r.name} | {r.severity.value} | "
            f"{'yes' if r.stop_ship else ''} | {r.points} | {r.status} |"
            for r in rules
        ]
    return "\n".join(lines) + "\n"


def rule_doc_files(ruleset: Ruleset) -> dict[str, str]:
    """The files of docs/rules/ by name: one page per rule and the index."""
    files = {f"{r.id}.md": rule_markdown(r) for r in sorted(ruleset.rules, key=lambda r: r.id)}
    files[INDEX] = index_markdown(ruleset)
    return files
