"""Lock-file readers: each format's pins, with the line that names them."""

from __future__ import annotations

import pytest

from app.engine.lockfiles import LockedPackage, LockFileError, is_lock_file, locked_packages

CASES = {
    "requirements.txt": (
        "# pinned\n"
        "Django==3.2.0 \\\n"
        "    --hash=sha256:abc\n"
        "requests>=2\n"
        "-r base.txt\n"
        "PyYAML===5.3.1  # yes\n",
        [("PyPI", "django", "3.2.0", 2), ("PyPI", "pyyaml", "5.3.1", 6)],
    ),
    "poetry.lock": (
        '[[package]]\nname = "Jinja2"\nversion = "2.10"\n\n'
        '[[package]]\nname = "mylib"\nversion = "0.1.0"\n\n'
        '[package.source]\ntype = "directory"\nurl = "../mylib"\n',
        [("PyPI", "jinja2", "2.10", 2)],
    ),
    "uv.lock": (
        'version = 1\n\n[[package]]\nname = "app"\nversion = "0.1.0"\n'
        'source = { editable = "." }\n\n'
        '[[package]]\nname = "urllib3"\nversion = "1.26.4"\n'
        'source = { registry = "https://pypi.org/simple" }\n',
        [("PyPI", "urllib3", "1.26.4", 9)],
    ),
    "Pipfile.lock": (
        '{\n  "_meta": {},\n  "default": {\n    "flask": {\n      "version": "==0.12"\n    }\n'
        '  },\n  "develop": {\n    "pytest": {"version": "==7.0.0"}\n  }\n}\n',
        [("PyPI", "flask", "0.12", 4), ("PyPI", "pytest", "7.0.0", 9)],
    ),
    "package-lock.json": (
        '{\n  "lockfileVersion": 3,\n  "packages": {\n    "": {"name": "app"},\n'
        '    "node_modules/lodash": {\n      "version": "4.17.15"\n    },\n'
        '    "node_modules/a/node_modules/@scope/b": {"version": "1.0.0"},\n'
        '    "node_modules/mine": {"resolved": "../mine", "link": true}\n  }\n}\n',
        [("npm", "lodash", "4.17.15", 5), ("npm", "@scope/b", "1.0.0", 8)],
    ),
    "npm-shrinkwrap.json": (
        '{\n  "lockfileVersion": 1,\n  "dependencies": {\n    "minimist": {\n'
        '      "version": "0.0.8",\n      "dependencies": {\n'
        '        "x": {"version": "1.0.0"}\n      }\n    }\n  }\n}\n',
        [("npm", "minimist", "0.0.8", 4), ("npm", "x", "1.0.0", 7)],
    ),
    "pnpm-lock.yaml": (
        "lockfileVersion: '9.0'\n\npackages:\n\n  lodash@4.17.15:\n    resolution: {}\n\n"
        "  '@babel/core@7.0.0':\n    resolution: {}\n\n  react-dom@18.0.0(react@18.0.0):\n"
        "    resolution: {}\n",
        [("npm", "lodash", "4.17.15", 5), ("npm", "@babel/core", "7.0.0", 8),
         ("npm", "react-dom", "18.0.0", 11)],
    ),
    "yarn.lock": (
        "# yarn lockfile v1\n\n\n"
        'lodash@^4.17.0, lodash@^4.17.15:\n  version "4.17.15"\n  resolved "x"\n\n'
        '"@scope/pkg@^1.0.0":\n  version "1.0.1"\n',
        [("npm", "lodash", "4.17.15", 4), ("npm", "@scope/pkg", "1.0.1", 8)],
    ),
    "go.mod": (
        "module example.com/app\n\ngo 1.21\n\nrequire golang.org/x/net v0.7.0\n\n"
        "require (\n\tgithub.com/gin-gonic/gin v1.6.0 // indirect\n)\n",
        [("Go", "golang.org/x/net", "0.7.0", 5), ("Go", "github.com/gin-gonic/gin", "1.6.0", 8)],
    ),
    "gradle.lockfile": (
        "# This is a Gradle generated file\n"
        "org.apache.logging.log4j:log4j-core:2.14.1=compileClasspath,runtimeClasspath\n"
        "empty=\n",
        [("Maven", "org.apache.logging.log4j:log4j-core", "2.14.1", 2)],
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_each_lock_format_gives_its_pins_and_lines(name: str) -> None:
    text, expected = CASES[name]
    found = [(p.ecosystem, p.name, p.version, p.line) for p in locked_packages(name, text)]
    assert found == expected


def test_yarn_berry_reads_npm_descriptors_and_skips_workspaces() -> None:
    text = (
        '__metadata:\n  version: 6\n\n"app@workspace:.":\n  version: 0.0.0-use.local\n\n'
        '"lodash@npm:^4.17.0":\n  version: 4.17.15\n  resolution: "lodash@npm:4.17.15"\n'
    )
    assert locked_packages("web/yarn.lock", text) == [LockedPackage("npm", "lodash", "4.17.15", 7)]


def test_pnpm_v5_keys_with_slashes() -> None:
    text = "lockfileVersion: 5.4\npackages:\n  /lodash/4.17.15:\n    dev: false\n"
    found = [p.key for p in locked_packages("pnpm-lock.yaml", text)]
    assert found == [("npm", "lodash", "4.17.15")]


def test_a_damaged_lock_file_is_an_error_that_names_it() -> None:
    with pytest.raises(LockFileError, match=r"package-lock\.json: not a lock file"):
        locked_packages("package-lock.json", "{not json")


def test_lock_files_in_tests_and_vendored_code_are_not_read() -> None:
    assert is_lock_file("api/poetry.lock") and is_lock_file("requirements-prod.txt")
    assert not is_lock_file("tests/fixtures/poetry.lock")
    assert not is_lock_file("node_modules/x/package-lock.json")
    assert not is_lock_file("setup.py")
