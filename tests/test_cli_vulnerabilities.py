"""`stopship check --vulnerabilities`: OSV's advisories become findings at the lock file's line;
an unreachable OSV is one line of the report and leaves the gate as it was."""

from __future__ import annotations

import json
import shutil
import socket
from pathlib import Path

import pytest
from typer.testing import CliRunner

from app.cli import cli
from tests.checkout.fake_osv import fake_osv, record

GOOD = Path(__file__).parent / "corpus" / "fastapi-good"
runner = CliRunner()


def _service(tmp_path: Path) -> Path:
    root = tmp_path / "service"
    shutil.copytree(GOOD, root)
    (root / "requirements.txt").write_text("fastapi==0.110.0\nrequests==2.19.0\n")
    return root


def _check(root: Path, *args: str) -> tuple[int, dict]:
    result = runner.invoke(
        cli, ["check", str(root), "--format", "json", "--no-cache", "--jobs", "1", *args]
    )
    return result.exit_code, json.loads(result.stdout)


def test_a_critical_advisory_is_a_finding_at_the_pin_and_stops_a_public_launch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _service(tmp_path)
    records = [
        record(
            "GHSA-x84v-xcm2-53pg",
            "PyPI",
            "requests",
            ["2.19.0"],
            severity="CRITICAL",
            fixed="2.20.0",
            aliases=("CVE-2018-18074",),
        )
    ]
    with fake_osv(records) as osv:
        monkeypatch.setenv("STOPSHIP_OSV_URL", osv.url)
        code, report = _check(root, "--vulnerabilities", "--launch", "public")
    [finding] = [f for f in report["findings"] if f["rule"].startswith("SEC02")]
    assert (finding["rule"], finding["path"], finding["line"]) == ("SEC029", "requirements.txt", 2)
    assert "requests 2.19.0" in finding["message"] and "CVE-2018-18074" in finding["message"]
    assert "fixed in 2.20.0" in finding["message"]
    assert finding["fix"].startswith("Upgrade requests to 2.20.0 or later")
    assert finding["stop_ship"] and code == 1
    assert any(n.startswith("Dependencies checked for vulnerabilities") for n in report["notices"])


def test_without_the_option_osv_is_not_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _service(tmp_path)
    with fake_osv([]) as osv:
        monkeypatch.setenv("STOPSHIP_OSV_URL", osv.url)
        _, report = _check(root)
        assert osv.requests == []
    assert report["notices"] == []


def test_offline_the_report_says_so_and_the_gate_is_unaffected(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _service(tmp_path)
    (root / ".github").mkdir(exist_ok=True)
    (root / ".github" / "stopship.yml").write_text("vulnerabilities: true\n")
    with socket.socket() as sock:  # a port nothing listens on
        sock.bind(("127.0.0.1", 0))
        monkeypatch.setenv("STOPSHIP_OSV_URL", f"http://127.0.0.1:{sock.getsockname()[1]}")
    offline_code, offline = _check(root)
    plain_code, plain = _check(root, "--no-vulnerabilities")
    assert offline_code == plain_code == 0
    assert offline["score"] == plain["score"]
    [notice] = offline["notices"]
    assert notice.startswith("Dependencies not checked for vulnerabilities: OSV unreachable (")
    text = runner.invoke(cli, ["check", str(root), "--no-cache", "--jobs", "1"]).stdout
    assert "Dependencies not checked for vulnerabilities: OSV unreachable" in text
