"""The tree's folder filter gives the same answer as matching DEFAULT_IGNORED's globs."""

from __future__ import annotations

import pytest

from app.engine.paths import matches_any
from app.github.tree_listing import DEFAULT_IGNORED, in_ignored_folder


@pytest.mark.parametrize(
    "path",
    [
        "node_modules/x/index.js",
        "web/node_modules/x/index.js",
        "app/main.py",
        "vendor.py",
        "src/vendor/lib.go",
        "build",
        "build/out.js",
        "a/b/__pycache__/m.pyc",
        "my_venv/x.py",
        ".venv/lib/site.py",
        "dist",
        "docs/dist.md",
    ],
)
def test_the_folder_filter_agrees_with_the_globs(path: str) -> None:
    assert in_ignored_folder(path) == matches_any(path, DEFAULT_IGNORED)
