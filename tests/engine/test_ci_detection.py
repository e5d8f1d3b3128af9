"""CI detection (DEP011 tests, DEP019 lint and type checks) on the shapes real pipelines have:
tests run through `manage.py test`, containers, package scripts and repository scripts; CI
systems other than GitHub Actions, and steps limited to tags or schedules."""

from __future__ import annotations

import pytest

from app.engine.analyze import Analyzer
from app.engine.detectors.ci_commands import gates_of, invocations
from app.engine.memory import audit_files
from app.engine.ruleset import Ruleset

APP = {"app/main.py": "import os\n"}


def ci_findings(files: dict[str, str], ruleset: Ruleset, analyzer: Analyzer) -> dict[str, str]:
    report = audit_files({**APP, **files}, ruleset, analyzer=analyzer)
    return {f.rule: f.message for f in report.findings if f.rule in {"DEP011", "DEP019"}}


def on_push(*steps: str) -> str:
    runs = "".join(f"      - run: {step}\n" for step in steps)
    return "on: [push, pull_request]\njobs:\n  ci:\n    runs-on: ubuntu-latest\n    steps:\n" + runs


@pytest.mark.parametrize(
    ("command", "gates"),
    [
        ("python netbox/manage.py test netbox/ --parallel", {"ci-tests"}),
        ("coverage run src/manage.py test", {"ci-tests"}),
        ("docker compose run django py.test", {"ci-tests"}),
        ("docker-compose exec -T web python -m pytest -q", {"ci-tests"}),
        ("docker compose run --rm api tests --cov=api --junitxml=out.xml", {"ci-tests"}),
        ("cargo clippy --workspace -- -D warnings", {"ci-lint", "ci-typecheck"}),
        ("cargo test --workspace || cargo test --workspace", {"ci-tests", "ci-typecheck"}),
        ("just test", {"ci-tests"}),
        ("pip install ruff mypy pytest", set()),
        ("npm ci && npm install -g jest", set()),
        ('echo "now run pytest"', set()),
        ("prettier -c . && govendor fmt +l", {"ci-lint"}),
    ],
)
def test_gates_of_a_command(command: str, gates: set[str]) -> None:
    assert gates_of([command]) == gates


@pytest.mark.parametrize(
    ("command", "scripts", "files"),
    [
        ("yarn --cwd web/static validate", {"validate"}, set()),
        ("pnpm --filter @acme/viz test", {"test"}, set()),
        ("npm run with:env -- npm run db:seed -w @acme/db", {"with:env", "db:seed"}, set()),
        ("npx turbo run build --filter=web && turbo run test:e2e", {"build", "test:e2e"}, set()),
        ("nx run-many -t lint test", {"lint"}, set()),
        ("nx affected --targets=lint,typecheck", {"lint", "typecheck"}, set()),
        ("run-s type-check jest", {"type-check", "jest"}, set()),
        ("yarn install --frozen-lockfile", set(), set()),
        ("./scripts/test.sh crate_a", set(), {"scripts/test.sh"}),
        ("docker compose exec -T backend bash /app/scripts/lint.sh", set(), {"lint.sh"}),
        ('bash -c "cd api && ../tools/check.sh"', set(), {"tools/check.sh"}),
    ],
)
def test_invocations(command: str, scripts: set[str], files: set[str]) -> None:
    assert invocations(command) == (scripts, files)


def test_django_tests_in_a_container_and_a_typescript_check_two_scripts_down(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        "web/static/src/index.ts": "export const mode = 'dark';\n",
        "web/static/package.json": (
            '{"scripts": {"validate": "yarn validate:types && yarn validate:lint",'
            ' "validate:types": "tsc --noEmit", "validate:lint": "eslint ./src"}}'
        ),
        ".github/workflows/ci.yml": on_push(
            "docker compose run --rm web python manage.py test", "yarn --cwd web/static validate"
        ),
    }
    assert ci_findings(files, ruleset, analyzer) == {}


def test_run_s_and_pre_scripts_are_followed(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {
        "client/app.ts": "export const x = 1;\n",
        "package.json": (
            '{"scripts": {"test": "run-s jest", "jest": "jest", "pretest": "tsc -p client",'
            ' "lint:ci": "pnpm run lint:base --max-warnings 0", "lint:base": "eslint client"}}'
        ),
        ".github/workflows/ci.yml": on_push("pnpm run lint:ci", "pnpm run test"),
    }
    assert ci_findings(files, ruleset, analyzer) == {}


def test_a_turbo_pipeline_is_followed_into_the_workspace_packages(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        "apps/web/main.ts": "export const port = 3000;\n",
        "package.json": '{"scripts": {"ci": "turbo run build && turbo run test:e2e"}}',
        "packages/web-e2e/package.json": (
            '{"scripts": {"test:e2e": "start-server-and-test \\"npm start\\" :3000'
            ' \\"playwright test\\""}}'
        ),
        ".github/workflows/e2e.yml": on_push("npm run ci"),
    }
    found = ci_findings(files, ruleset, analyzer)
    assert "DEP011" not in found
    assert found["DEP019"].endswith("CI does not run lint, type checks")


def test_a_task_named_for_its_gate_counts_where_its_package_is_test_code(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        "apps/web/main.ts": "export const port = 3000;\n",
        "package.json": '{"scripts": {"ci": "turbo run lint typecheck && turbo run test:e2e"}}',
        "e2e/package.json": '{"scripts": {"test:e2e": "playwright test"}}',
        ".github/workflows/e2e.yml": on_push("npm run ci"),
    }
    assert ci_findings(files, ruleset, analyzer) == {}


def test_scripts_run_by_scripts_and_container_paths(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {
        "backend/scripts/lint.sh": "#!/usr/bin/env bash\nset -e\nmypy app\nruff check app\n",
        "backend/scripts/test.sh": "#!/usr/bin/env bash\ncoverage run -m pytest\n",
        "backend/tests-start.sh": '#! /usr/bin/env bash\nset -e\nbash scripts/test.sh "$@"\n',
        ".github/workflows/test.yml": on_push(
            "docker compose exec -T backend bash /app/scripts/lint.sh",
            "docker compose exec -T backend bash /app/tests-start.sh",
        ),
    }
    assert ci_findings(files, ruleset, analyzer) == {}


def test_a_script_that_only_prints_is_no_gate(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {
        "scripts/test.sh": "#!/bin/sh\necho 'tests are run by the maintainers'\n",
        ".github/workflows/ci.yml": on_push("./scripts/test.sh", "ruff check .", "mypy ."),
    }
    assert set(ci_findings(files, ruleset, analyzer)) == {"DEP011"}


WOODPECKER = """\
variables:
  - &on_changes
    - event: pull_request
      path: {include: ["src/**"]}
steps:
  fmt:
    image: rust
    commands: [cargo fmt -- --check]
    when:
      - event: pull_request
  test:
    image: rust
    commands:
      - cargo test --workspace
    when: *on_changes
  publish:
    image: plugins/docker
    commands: [./publish.sh]
    when:
      - event: [tag, cron]
"""


def test_woodpecker_steps_on_pull_requests_count(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {"src/types.ts": "export type Id = string;\n", ".woodpecker.yml": WOODPECKER}
    assert ci_findings(files, ruleset, analyzer) == {}


def test_woodpecker_steps_only_for_tags_do_not(ruleset: Ruleset, analyzer: Analyzer) -> None:
    tags_only = WOODPECKER.replace("- event: pull_request\n", "- event: tag\n")
    files = {".woodpecker/test.yml": tags_only}
    assert ci_findings(files, ruleset, analyzer)["DEP011"].endswith("CI does not run tests")


@pytest.mark.parametrize(
    ("path", "config"),
    [
        (".gitlab-ci.yml", "test:\n  script:\n    - ruff check .\n    - mypy .\n    - pytest\n"),
        (
            ".drone.yml",
            "kind: pipeline\nsteps:\n  - name: test\n"
            "    commands: [ruff check ., mypy ., pytest]\n",
        ),
        (
            ".circleci/config.yml",
            "jobs:\n  test:\n    steps:\n      - run: ruff check . && mypy .\n"
            "      - run: {name: tests, command: pytest}\n",
        ),
        (
            "azure-pipelines.yml",
            "trigger: [main]\nsteps:\n  - script: ruff check . && mypy . && pytest\n",
        ),
        (".buildkite/pipeline.yml", "steps:\n  - command: ruff check . && mypy . && pytest\n"),
        (
            "bitbucket-pipelines.yml",
            "pipelines:\n  default:\n    - step:\n        script: [ruff check ., mypy ., pytest]\n",
        ),
        (
            "Jenkinsfile",
            "pipeline { stages { stage('t') {\n"
            "  steps { sh 'ruff check . && mypy . && pytest' }\n} } }\n",
        ),
    ],
)
def test_other_ci_systems(path: str, config: str, ruleset: Ruleset, analyzer: Analyzer) -> None:
    assert ci_findings({path: config}, ruleset, analyzer) == {}


@pytest.mark.parametrize(
    ("path", "config"),
    [
        (".gitlab-ci.yml", "test:\n  only: [schedules]\n  script: [pytest]\n"),
        (
            ".drone.yml",
            "kind: pipeline\ntrigger:\n  event: [tag]\n"
            "steps:\n  - name: t\n    commands: [pytest]\n",
        ),
        ("azure-pipelines.yml", "trigger: none\npr: none\nsteps:\n  - script: pytest\n"),
        (
            "bitbucket-pipelines.yml",
            "pipelines:\n  default:\n    - step:\n        script: [ruff check .]\n"
            "  custom:\n    nightly:\n      - step:\n          script: [pytest]\n",
        ),
    ],
)
def test_pipelines_that_run_tests_only_off_change_events(
    path: str, config: str, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    assert "DEP011" in ci_findings({path: config}, ruleset, analyzer)


def test_a_maven_build_runs_the_lint_plugins_the_pom_binds(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        "src/main/java/com/acme/App.java": "class App {}\n",
        "pom.xml": "<project><build><plugins><plugin>"
        "<artifactId>maven-checkstyle-plugin</artifactId>"
        "</plugin></plugins></build></project>\n",
        ".github/workflows/build.yml": on_push("./mvnw -B verify"),
    }
    assert ci_findings(files, ruleset, analyzer) == {}
    without_plugin = {**files, "pom.xml": "<project></project>\n"}
    assert set(ci_findings(without_plugin, ruleset, analyzer)) == {"DEP019"}


def test_the_ci_gate_asks_for_tests_not_for_lint(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {**APP, ".github/workflows/ci.yml": on_push("pytest")}
    report = audit_files(files, ruleset, analyzer=analyzer)
    [gate] = [g for g in report.gates if g.name == "CI with tests present"]
    assert gate.passed
    assert "DEP019" in {f.rule for f in report.findings}
