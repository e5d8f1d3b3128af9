"""Path kinds: roles worked out per folder and per name, and the literal parts of globs that
let most paths skip the glob regexes."""

from __future__ import annotations

import pytest

from app.engine.paths import glob_literals, glob_regex, language_of, matches_any, roles_of

PATHS = [
    "settings/dev.py",
    "svc/settings/dev.py",
    "svc/settings/test_ci.py",
    "vite.config.ts",
    "web/vite.config.js",
    ".devcontainer/Dockerfile",
    "a/.devcontainer/b/Dockerfile",
    "requirements-dev.txt",
    "api/requirements.txt",
    "docs",
    "docs/index.md",
    "src/app.py",
    "xzy.py",
    "m/xay.py",
]
GLOBS = [
    ("**/settings/dev.py", "**/settings/test*.py", "**/vite.config.*", "**/.devcontainer/**"),
    ("**/package.json", "**/requirements*.txt"),
    ("docs/**",),
    ("**/x?y.py",),
]


@pytest.mark.parametrize("globs", GLOBS)
def test_a_matched_path_contains_a_literal_part_of_the_globs(globs: tuple[str, ...]) -> None:
    literals = glob_literals(globs)
    assert literals is not None
    matched = [p for p in PATHS if glob_regex(globs).match(p)]
    assert matched
    for path in matched:
        assert any(literal in path for literal in literals), (path, literals)


def test_globs_without_literal_parts_have_no_shortcut() -> None:
    assert glob_literals(("*",)) is None
    assert glob_literals(("a/[bc]/*.py",)) is None


@pytest.mark.parametrize(
    ("path", "roles"),
    [
        ("app/main.py", set()),
        ("tests/test_api.py", {"test"}),
        ("src/main/java/com/example/App.java", set()),
        ("examples/src/main/java/App.java", {"test"}),
        ("db/migrations/0001_init.py", {"migration"}),
        ("sql/0002_add.up.sql", {"migration"}),
        ("scripts/seed.py", {"cli"}),
        ("cli.py", {"cli"}),
        ("web/package-lock.json", {"lockfile"}),
        ("tests/scripts/0003_x.sql", {"test", "cli", "migration"}),
        # test code and configuration outside tests/
        ("api_tests/src/shared.ts", {"test"}),
        ("acceptance/support/s3.ts", {"test"}),
        ("blog/tests.py", {"test"}),
        ("config/django/test.py", {"test"}),
        ("netbox/configuration_testing.py", {"test"}),
        ("app/ab_test/views.py", set()),
        ("src/latest/app.py", set()),
        # templates to copy
        (".env.example", {"test"}),
        (".env.test.sample", {"test"}),
        ("config.sample.yml", {"test"}),
        ("netbox/configuration_example.py", {"test"}),
        ("app/counterexample.py", set()),
        ("README.md", {"documentation"}),
        ("docs/index.rst", {"test", "documentation"}),
    ],
)
def test_roles(path: str, roles: set[str]) -> None:
    assert roles_of(path) == roles
    assert matches_any(path, ("**",)) is True


def test_an_npmrc_is_its_own_file_kind() -> None:
    assert language_of(".npmrc") == "npmrc"
    assert language_of("web/.npmrc") == "npmrc"
@pytest.mark.parametrize(
    ("path", "runtime"),
    [
        ("client/app/services/query.js", "browser"),
        ("frontend/src/api/orders.ts", "browser"),
        ("netbox/project-static/src/util.ts", "browser"),
        ("client/server/render.js", "server"),
        ("app/entry.server.tsx", "server"),
        ("src/routes/+page.server.ts", "server"),
        ("web/src/app/api/orders/route.ts", "server"),
        ("src/pages/api/orders.ts", "server"),
        ("api/hello.js", "server"),
        ("src/app/page.tsx", None),
        ("web/client/src/api.js", "browser"),
        ("packages/lib/jobs/client/local.ts", None),  # a job client, on the server
        ("client/app/orders.py", None),  # only scripts get a runtime role
    ],
)
def test_scripts_get_the_runtime_their_path_names(path: str, runtime: str | None) -> None:
    roles = roles_of(path) & {"browser", "server"}
    assert roles == ({runtime} if runtime else set())


def test_semgrep_rule_tests_are_tests() -> None:
    assert "test" in roles_of(".semgrep/security/requests/no-requests.py")
