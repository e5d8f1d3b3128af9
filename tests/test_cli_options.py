"""The command line's habits (ruff's, semgrep's): --quiet, --select / --ignore, --statistics,
--launch / --user-data / --payments, shell completion, `stopship init`, help at 80 columns; and
the config file's JSON Schema and README reference kept in step with the pydantic model."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import typer.main
from pydantic import BaseModel
from typer.testing import CliRunner

from app.cli import cli
from app.engine.config import CONFIG_PATH, StopshipConfig, parse_config
from app.engine.config_schema import SCHEMA_FILE, config_schema, schema_text
from app.engine.config_template import SCHEMA_URL
from tests.test_cli import BAD, GOOD, check

ROOT = Path(__file__).resolve().parents[1]
runner = CliRunner()
FINDING_LINE = re.compile(r"^(\S+|repository): [A-Z]{2,5}\d{3} (critical|high|medium|low)( |$)")


def test_quiet_prints_one_line_per_finding_and_the_gate_only_when_it_fails() -> None:
    _, full, _ = check(str(BAD), "--format", "json")
    code, out, err = check(str(BAD), "--quiet")
    lines = out.splitlines()
    assert code == 1
    assert len(lines) == len(json.loads(full)["findings"])
    assert all(FINDING_LINE.match(line) for line in lines), lines
    assert "STOP-SHIP" in out
    assert err.startswith("stopship: gate fails:")
    code, out, err = check(str(GOOD), "-q", "--format", "json")
    assert code == 0 and json.loads(out)["score"] and err == ""


def test_select_and_ignore_take_rule_ids_and_prefixes() -> None:
    _, out, _ = check(str(BAD), "--format", "json", "--select", "SEC")
    rules = {f["rule"] for f in json.loads(out)["findings"]}
    assert rules and all(r.startswith("SEC") for r in rules)
    _, out, _ = check(str(BAD), "--format", "json", "--select", "SEC002,SEC011", "--select", "OBS")
    rules = {f["rule"] for f in json.loads(out)["findings"]}
    assert {"SEC002", "SEC011"} <= rules
    assert rules <= {"SEC002", "SEC011"} | {r for r in rules if r.startswith("OBS")}
    _, out, _ = check(str(BAD), "--format", "json", "--ignore", "sec002")
    assert "SEC002" not in {f["rule"] for f in json.loads(out)["findings"]}


def test_unknown_rule_ids_are_a_usage_error_naming_them() -> None:
    code, out, err = check(str(BAD), "--select", "SEC002,NOPE001", "--ignore", "XYZ")
    assert code == 2 and out == ""
    assert "unknown rule ids: NOPE001 (--select), XYZ (--ignore)" in err


def test_statistics_count_the_findings_per_rule() -> None:
    _, full, _ = check(str(BAD), "--format", "json")
    expected = Counter(f["rule"] for f in json.loads(full)["findings"])
    code, out, _ = check(str(BAD), "--statistics", "--format", "json")
    assert code == 1
    rows = json.loads(out)
    assert {r["rule"]: r["count"] for r in rows} == dict(expected)
    assert [r["count"] for r in rows] == sorted(expected.values(), reverse=True)
    _, text, _ = check(str(BAD), "--statistics")
    first = text.splitlines()[0].split()
    assert (int(first[0]), first[1]) == (rows[0]["count"], rows[0]["rule"])
    code, _, err = check(str(BAD), "--statistics", "--format", "sarif")
    assert code == 2 and "--statistics" in err


def test_launch_options_set_the_strictness_without_and_over_a_config_file(tmp_path: Path) -> None:
    _, out, _ = check(str(GOOD), "--format", "json", "--launch", "paid", "--payments")
    report = json.loads(out)
    assert (report["strictness"], report["min_score"]) == ("High (paid launch, payments)", 80)
    _, out, _ = check(str(GOOD), "--format", "json", "--launch", "internal")
    assert json.loads(out)["min_score"] == 50
    config = tmp_path / "stopship.yml"
    config.write_text("launch: {stage: internal, user_data: true}\n")
    _, out, _ = check(str(GOOD), "--format", "json", "--config", str(config), "--launch", "public")
    assert json.loads(out)["strictness"] == "High (public launch, user data)"
    _, out, _ = check(str(GOOD), "--format", "json", "--config", str(config), "--no-user-data")
    assert json.loads(out)["strictness"] == "Low (internal launch)"


def test_shell_completion_is_offered_and_completes_options() -> None:
    result = runner.invoke(cli, ["--show-completion", "bash"], prog_name="stopship")
    assert result.exit_code == 0 and "_STOPSHIP_COMPLETE=complete_bash" in result.stdout
    stopship = Path(sys.executable).with_name("stopship")
    env = {
        **os.environ,
        "_STOPSHIP_COMPLETE": "complete_bash",
        "COMP_WORDS": "stopship check --sta",
        "COMP_CWORD": "2",
    }
    done = subprocess.run(
        [str(stopship)], env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert {"--staged", "--statistics"} <= set(done.stdout.split())


def test_init_writes_a_commented_config_that_parses_and_names_its_schema(tmp_path: Path) -> None:
    result = runner.invoke(cli, ["init", str(tmp_path), "--launch", "public", "--payments"])
    assert result.exit_code == 0, result.output
    written = tmp_path / CONFIG_PATH
    text = written.read_text()
    assert text.splitlines()[0] == f"# yaml-language-server: $schema={SCHEMA_URL}"
    config = parse_config(text.encode())
    assert config.launch.stage == "public" and config.launch.payments
    assert config.strictness.level == "High"
    jsonschema.validate(json.loads(json.dumps(_yaml(text))), config_schema())
    for key in StopshipConfig.model_fields:  # every key is there, set or commented out
        assert re.search(rf"^#? ?{key}:", text, re.M), key
    again = runner.invoke(cli, ["init", str(tmp_path)])
    assert again.exit_code == 2 and "--force" in again.stderr
    assert written.read_text() == text
    forced = runner.invoke(cli, ["init", str(tmp_path), "--force"])
    assert forced.exit_code == 0 and parse_config(written.read_bytes()).launch.stage == "beta"


def _yaml(text: str) -> Any:
    import yaml

    return yaml.safe_load(text)


def test_the_published_schema_is_the_one_the_model_generates() -> None:
    on_disk = (ROOT / SCHEMA_FILE).read_text()
    assert on_disk == schema_text(), "run: python scripts/write_config_schema.py"
    schema = json.loads(on_disk)
    jsonschema.Draft202012Validator.check_schema(schema)
    validator = jsonschema.Draft202012Validator(schema)
    assert not list(validator.iter_errors({"launch": {"stage": "paid"}, "min_score": 90}))
    assert list(validator.iter_errors({"launch": {"stage": "gamma"}}))
    assert list(validator.iter_errors({"relase_branches": ["main"]}))


def _keys(model: type[BaseModel], prefix: str = "") -> list[str]:
    out = []
    for name, field in model.model_fields.items():
        out.append(prefix + name)
        inner = field.annotation
        if isinstance(inner, type) and issubclass(inner, BaseModel):
            out += _keys(inner, f"{prefix}{name}.")
    return out


def test_the_readme_documents_every_key_with_an_example_that_is_valid() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Configuration: `.github/stopship.yml`", 1)[1].split("\n## ", 1)[0]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    parsed = parse_config(example.encode())  # the example is a valid config...
    jsonschema.validate(_yaml(example), config_schema())  # ...for editors too
    assert parsed != StopshipConfig()
    for key in _keys(StopshipConfig):
        leaf = key.rpartition(".")[2]
        assert re.search(rf"^\s*{leaf}:", example, re.M), f"{key} has no example"
        assert f"`{key}`" in section, f"{key} is not described"


def test_check_help_fits_80_columns_whole() -> None:
    result = runner.invoke(cli, ["check", "--help"], env={"COLUMNS": "80"})
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert max(len(line) for line in lines) <= 80
    assert "…" not in result.stdout  # nothing cut short
    check_command = getattr(typer.main.get_command(cli), "commands")["check"]
    flat = "".join(result.stdout.split())
    for param in check_command.params:
        help_text = getattr(param, "help", None)
        if help_text:
            assert "".join(help_text.split()) in flat, param.name
    for choice in ("text|json|markdown|sarif|github", "internal|beta|public|paid"):
        assert choice in flat


@pytest.mark.parametrize("command", ["check", "init", "rules"])
def test_every_help_fits_80_columns(command: str) -> None:
    result = runner.invoke(cli, [command, "--help"], env={"COLUMNS": "80"})
    assert max(len(line) for line in result.stdout.splitlines()) <= 80
