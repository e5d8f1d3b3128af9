"""Known vulnerabilities from OSV: each lock format against a fake OSV on 127.0.0.1, the day's
cache, and an unreachable OSV (a notice, never a failure)."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from app.checkout.osv import check_vulnerabilities
from tests.checkout.fake_osv import fake_osv, record

CRITICAL_VECTOR = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"  # 9.8

# (lock file, its text, ecosystem, name as OSV spells it, pinned version, line of the pin)
LOCKS = [
    (
        "requirements.txt",
        "flask==2.0.0\nDjango==3.2.0\n",
        "PyPI",
        "Django",
        "3.2.0",
        2,
    ),
    (
        "poetry.lock",
        '[[package]]\nname = "django"\nversion = "3.2.0"\n',
        "PyPI",
        "Django",
        "3.2.0",
        2,
    ),
    (
        "uv.lock",
        'version = 1\n\n[[package]]\nname = "django"\nversion = "3.2.0"\n',
        "PyPI",
        "Django",
        "3.2.0",
        4,
    ),
    (
        "Pipfile.lock",
        '{"default": {\n"django": {"version": "==3.2.0"}}}',
        "PyPI",
        "Django",
        "3.2.0",
        2,
    ),
    (
        "package-lock.json",
        '{"lockfileVersion": 3, "packages": {\n"node_modules/lodash": {"version": "4.17.15"}}}',
        "npm",
        "lodash",
        "4.17.15",
        2,
    ),
    (
        "pnpm-lock.yaml",
        "lockfileVersion: '9.0'\npackages:\n  lodash@4.17.15:\n    resolution: {}\n",
        "npm",
        "lodash",
        "4.17.15",
        3,
    ),
    (
        "yarn.lock",
        'lodash@^4.17.0:\n  version "4.17.15"\n',
        "npm",
        "lodash",
        "4.17.15",
        1,
    ),
    (
        "go.mod",
        "module x\n\nrequire golang.org/x/net v0.7.0\n",
        "Go",
        "golang.org/x/net",
        "0.7.0",
        3,
    ),
    (
        "gradle.lockfile",
        "org.apache.logging.log4j:log4j-core:2.14.1=runtimeClasspath\n",
        "Maven",
        "org.apache.logging.log4j:log4j-core",
        "2.14.1",
        1,
    ),
]


@pytest.mark.parametrize(("name", "text", "ecosystem", "package", "version", "line"), LOCKS)
def test_each_lock_format_is_checked_against_osv(
    tmp_path: Path, name: str, text: str, ecosystem: str, package: str, version: str, line: int
) -> None:
    (tmp_path / name).write_text(text)
    records = [
        record(
            "GHSA-aaaa-bbbb-cccc",
            ecosystem,
            package,
            [version],
            severity="HIGH",
            fixed="9.9.9",
            aliases=("CVE-2024-0001",),
        ),
        record("GHSA-low0-low0-low0", ecosystem, package, [version], severity="LOW"),
    ]
    with fake_osv(records) as osv:
        check = check_vulnerabilities(tmp_path, [name], None, base_url=osv.url)
    [hit] = check.hits[name]
    assert (hit.rule, hit.line) == ("SEC028", line)
    assert "GHSA-aaaa-bbbb-cccc / CVE-2024-0001" in hit.detail and "fixed in 9.9.9" in hit.detail
    assert version in hit.detail and "GHSA-low0" not in hit.detail
    assert "1 with a high or critical advisory" in check.notices[-1]


def test_a_cvss_vector_decides_when_no_label_is_given(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("pyyaml==5.3.1\n")
    records = [record("PYSEC-2021-142", "PyPI", "PyYAML", ["5.3.1"], cvss=CRITICAL_VECTOR)]
    with fake_osv(records) as osv:
        check = check_vulnerabilities(tmp_path, ["requirements.txt"], None, base_url=osv.url)
    [hit] = check.hits["requirements.txt"]
    assert hit.rule == "SEC029"
    assert "no fixed version published" in hit.detail


def test_answers_are_kept_for_a_day(tmp_path: Path) -> None:
    (tmp_path / "requirements.txt").write_text("django==3.2.0\nflask==2.0.0\n")
    records = [record("GHSA-aaaa-bbbb-cccc", "PyPI", "django", ["3.2.0"], severity="CRITICAL")]
    cache = tmp_path.parent / (tmp_path.name + "-cache")
    with fake_osv(records) as osv:
        first = check_vulnerabilities(tmp_path, ["requirements.txt"], cache, base_url=osv.url)
        asked = len(osv.requests)
        second = check_vulnerabilities(tmp_path, ["requirements.txt"], cache, base_url=osv.url)
        assert len(osv.requests) == asked == 2  # one batch, one record; none the second time
    assert first.hits == second.hits and second.hits["requirements.txt"][0].rule == "SEC029"


def test_an_unreachable_osv_is_a_notice(tmp_path: Path) -> None:
    (tmp_path / "package-lock.json").write_text(
        '{"lockfileVersion": 3, "packages": {"node_modules/a": {"version": "1.0.0"}}}'
    )
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    check = check_vulnerabilities(
        tmp_path, ["package-lock.json"], None, base_url=f"http://127.0.0.1:{port}"
    )
    assert check.hits == {}
    [notice] = check.notices
    assert notice.startswith("Dependencies not checked for vulnerabilities: OSV unreachable (")


def test_no_lock_file_asks_nothing(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print(1)\n")
    with fake_osv([]) as osv:
        check = check_vulnerabilities(tmp_path, ["app.py"], None, base_url=osv.url)
        assert osv.requests == []
    assert check.hits == {} and check.notices == []
