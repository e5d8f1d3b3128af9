"""OBS005 on real shapes: a program's output (CLI modules, scripts, files package scripts run,
data migrations) is not the service's logging; prints in the service still are."""

from __future__ import annotations

from app.engine.analyze import Analyzer
from app.engine.memory import audit_files
from app.engine.ruleset import Ruleset


def printed(files: dict[str, str], ruleset: Ruleset, analyzer: Analyzer) -> set[tuple[str, int]]:
    report = audit_files(files, ruleset, analyzer=analyzer)
    return {(f.path, f.line or 0) for f in report.findings if f.rule == "OBS005"}


def test_prints_of_a_flask_cli_module_and_a_shebang_script_are_output(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        "app/cli/users.py": (
            "from click import argument\nfrom flask.cli import AppGroup\n\n"
            "manager = AppGroup()\n\n"
            "def show(user):\n    print(user.email)\n"
        ),
        "app/make_key.py": "#!/usr/bin/env python3\nimport secrets\nprint(secrets.token_hex())\n",
        "app/alembic/versions/9e8c_fix.py": "def upgrade():\n    print('fixing hashes')\n",
    }
    assert printed(files, ruleset, analyzer) == set()


def test_a_print_in_the_service_is_still_reported(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {
        "app/settings.py": "import os\nif os.environ.get('OLD'):\n    print('DEPRECATED')\n",
        "app/runner.py": "import argparse_helpers\ndef run(q):\n    print(q)\n",
        "app/export.py": "import sys\ndef dump(rows):\n    print(rows, file=sys.stderr)\n",
        # a web app whose module starts the development server is the service, not a script
        "app/web.py": (
            "from flask import Flask\napp = Flask(__name__)\n\n"
            "def delete(user_id):\n    print('deleted', user_id)\n\n"
            "if __name__ == '__main__':\n    app.run(debug=True)\n"
        ),
    }
    assert printed(files, ruleset, analyzer) == {
        ("app/settings.py", 3),
        ("app/runner.py", 3),
        ("app/export.py", 3),
        ("app/web.py", 5),
    }


def test_files_that_package_scripts_run_are_programs(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {
        "db/package.json": '{"prisma": {"seed": "tsx ./seed-database.ts"}}',
        "db/seed-database.ts": "console.log('[SEEDING]: done');\n",
        "web/package.json": '{"scripts": {"bundle": "node bundle.cjs --styles"}}',
        "web/bundle.cjs": "console.log('bundled');\n",
        # the same name elsewhere is not what the script runs
        "api/bundle.cjs": "console.log('bundled');\n",
        "api/server.ts": "export function start() { console.log('listening'); }\n",
    }
    assert printed(files, ruleset, analyzer) == {("api/bundle.cjs", 1), ("api/server.ts", 1)}


def test_a_node_script_guarded_by_require_main(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {
        "db/seed/large-team.ts": (
            "export async function seed() { console.log('[SEEDING]: team'); }\n"
            "if (require.main === module) { void seed(); }\n"
        ),
    }
    assert printed(files, ruleset, analyzer) == set()
