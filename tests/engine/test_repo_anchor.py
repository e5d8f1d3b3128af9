from __future__ import annotations

import pytest

from app.engine.repo_anchor import repo_anchor


@pytest.mark.parametrize(
    ("paths", "anchor"),
    [
        (["src/app.py", "pyproject.toml", "README.md"], "README.md"),
        (["Readme.rst", "go.mod"], "Readme.rst"),
        (["docs/README.md", "package.json", "src/index.ts"], "package.json"),
        (["Makefile", "src/main.go"], "Makefile"),
        (["services/api/main.py", "services/api/util.py"], "services/api/main.py"),
        ([], None),
    ],
)
def test_the_readme_or_a_manifest_stands_for_the_repository(
    paths: list[str], anchor: str | None
) -> None:
    assert repo_anchor(paths) == anchor
