"""Launch context -> strictness, exactly as CHECKS.md: which findings are stop-ship and the minimum
score (and, for High, the security minimum) per profile."""

from __future__ import annotations

import pytest

from app.engine.config import parse_config
from app.engine.memory import audit_files
from app.engine.ruleset import Ruleset

# One file with: a critical security stop-ship (SQL injection), a high security finding (TLS off),
# a high non-security stop-ship (migration NOT NULL), and a medium error-handling finding in a
# payment path (database client without timeouts).
FILES = {
    "app/users.py": (
        "import requests\n"
        "def find(cursor, name):\n"
        "    cursor.execute(f\"SELECT id FROM users WHERE name = '{name}'\")\n"
        '    requests.get("https://partner.example.com", timeout=5, verify=False)\n'
    ),
    "migrations/0009_orders_status.sql": (
        "SET lock_timeout = '5s';\nALTER TABLE orders ADD COLUMN status text NOT NULL;\n"
    ),
    "app/payments/cache.py": "import redis\ncache = redis.Redis(host='cache', port=6379)\n",
    ".gitignore": ".env\n",
}


def stop_ships(ruleset: Ruleset, config: str) -> set[str]:
    report = audit_files(FILES, ruleset, parse_config(config.encode()))
    return {f.rule for f in report.findings if f.stop_ship}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ("launch: {stage: internal}", {"SEC002"}),
        ("launch: {stage: beta}", {"SEC002", "DEP008"}),
        ("launch: {stage: public}", {"SEC002", "DEP008", "SEC010"}),
        ("launch: {stage: paid}", {"SEC002", "DEP008", "SEC010", "ERR003"}),
        ("launch: {stage: beta, payments: true}", {"SEC002", "DEP008", "SEC010", "ERR003"}),
    ],
)
def test_stop_ship_set_per_launch_context(
    ruleset: Ruleset, config: str, expected: set[str]
) -> None:
    assert stop_ships(ruleset, config) == expected


@pytest.mark.parametrize(
    ("config", "minimum", "security_minimum"),
    [
        ("launch: {stage: internal}", 50, None),
        ("launch: {stage: beta}", 70, None),
        ("launch: {stage: public}", 80, 90),
        ("launch: {stage: paid}", 80, 90),
    ],
)
def test_minimum_scores(config: str, minimum: int, security_minimum: int | None) -> None:
    strictness = parse_config(config.encode()).strictness
    assert (strictness.min_score, strictness.security_min) == (minimum, security_minimum)


def test_public_launch_is_not_ready_when_security_is_under_90(ruleset: Ruleset) -> None:
    # TLS verification off twice: no stop-ship under beta, security 84 -> conditions;
    # under public those highs are stop-ship anyway, and security < 90 alone is NOT READY.
    files = {
        "app/a.py": "import requests\nrequests.get('https://x.example', timeout=5, verify=False)\n"
    }
    beta = audit_files(files, ruleset, parse_config(b"launch: {stage: beta}"))
    assert beta.verdict == "READY WITH CONDITIONS"
    public = audit_files(files, ruleset, parse_config(b"launch: {stage: public}"))
    assert public.verdict == "NOT READY"
