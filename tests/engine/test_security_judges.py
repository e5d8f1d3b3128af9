"""What the security judges keep, demote or drop: SQL text (SEC002 / SEC025), code evaluation
(SEC003 / SEC026), shell commands (SEC004), unverified JWTs (SEC011 / SEC027)."""

from __future__ import annotations

import pytest

from app.engine.memory import audit_files
from app.engine.ruleset import load_ruleset

RULESET = load_ruleset()
JUDGED = {"SEC002", "SEC025", "SEC003", "SEC026", "SEC004", "SEC011", "SEC027"}


def judged(path: str, source: str) -> list[tuple[str, bool, str]]:
    report = audit_files({path: source}, RULESET)
    return sorted(
        (f.rule, f.stop_ship, f.message.split(": ", 1)[-1])
        for f in report.findings
        if f.rule in JUDGED
    )


CASES = [
    # -- SQL ------------------------------------------------------------------------------
    pytest.param(
        "shop/views.py",
        "def search(request):\n"
        "    cursor.execute(f\"SELECT id FROM posts WHERE title LIKE '%{request.GET['q']}%'\")\n",
        [("SEC002", True, "request data `request.GET['q']`")],
        id="sql-request-data",
    ),
    pytest.param(
        "shop/views.py",
        "def post(request, slug):\n"
        "    cursor.execute(f\"SELECT id FROM posts WHERE slug = '{slug}'\")\n",
        [("SEC002", True, "request data `slug`")],
        id="sql-django-url-parameter",
    ),
    pytest.param(
        "runners/base.py",
        "class Runner:\n"
        "    def table_sizes(self, tables):\n"
        "        for name in tables:\n"
        '            self.run("SELECT count(*) AS n FROM %s" % name)\n',
        [("SEC025", False, "parameter `tables`")],
        id="sql-identifier-from-a-parameter-is-reported-lower",
    ),
    pytest.param(
        "runners/schema.py",
        "class Runner:\n"
        "    def schema(self):\n"
        "        catalog = self.configuration.get('catalog')\n"
        '        self.run(f"SELECT table_name FROM {catalog}.information_schema.columns")\n',
        [],
        id="sql-object-state-is-not-a-finding",
    ),
    pytest.param(
        "src/store.ts",
        "export class Store {\n"
        "  constructor(private readonly jobTable: string) {}\n"
        "  list(db: Db, name: string) {\n"
        "    return db.query({ text: `SELECT * FROM ${this.jobTable} WHERE name = $1`, "
        "values: [name] })\n"
        "  }\n}\n",
        [],
        id="sql-internal-table-name-and-placeholder",
    ),
    # -- code evaluation -------------------------------------------------------------------
    pytest.param(
        "app/api.py",
        "def run(request):\n    return eval(request.POST['expr'])\n",
        [("SEC003", True, "request data `request.POST['expr']` evaluated as code")],
        id="eval-request-data",
    ),
    pytest.param(
        "app/management/commands/console.py",
        "from django.core.management.base import BaseCommand\n"
        "class Command(BaseCommand):\n"
        "    def handle(self, **options):\n"
        "        exec(options['command'], {})\n",
        [],
        id="eval-operator-shell",
    ),
    pytest.param(
        "app/scripts.py",
        "import types\n"
        "def load(content, name):\n"
        "    module = types.ModuleType(name)\n"
        "    exec(compile(content, name, 'exec'), module.__dict__)\n",
        [("SEC026", False, "code executed as a module (a script or plugin loader)")],
        id="eval-module-loader-is-reported-lower",
    ),
    pytest.param(
        "app/runner.py",
        "def run(query):\n"
        "    code = compile_restricted(query, '<q>', 'exec')\n"
        "    exec(code, {})\n",
        [("SEC026", False, "code compiled by a sandbox")],
        id="eval-sandbox-is-reported-lower",
    ),
    pytest.param(
        "app/ops.py",
        "OPS = {'+': 'add'}\n"
        "def apply(op, x, y):\n"
        "    if op not in OPS:\n"
        "        raise ValueError(op)\n"
        "    return eval('x' + op + 'y', {'x': x, 'y': y})\n",
        [],
        id="eval-allow-listed",
    ),
    pytest.param(
        "app/cache.py",
        "import pickle\ndef restore(blob):\n    return pickle.loads(blob)\n",
        [("SEC003", True, "Code evaluation or unsafe deserialisation")],
        id="deserialisation-unchanged",
    ),
    # -- shell -----------------------------------------------------------------------------
    pytest.param(
        "app/script.py",
        "import subprocess\n"
        "def run_script(script, shell):\n"
        "    return subprocess.check_output(script, shell=shell)\n",
        [("SEC004", False, "parameter `script`")],
        id="shell-chosen-by-a-variable",
    ),
    pytest.param(
        "app/script.py",
        "import subprocess\n"
        "def run(path):\n"
        "    use_shell = False\n"
        "    return subprocess.check_output(path, shell=use_shell)\n",
        [],
        id="shell-variable-never-true",
    ),
    # -- JWT -------------------------------------------------------------------------------
    pytest.param(
        "app/auth.py",
        "import jwt\n"
        "def me(request):\n"
        "    token = request.headers['authorization']\n"
        "    return jwt.decode(token, options={'verify_signature': False})\n",
        [
            (
                "SEC011",
                True,
                "claims of `request.headers['authorization']` used without a signature check",
            )
        ],
        id="jwt-request-token",
    ),
    pytest.param(
        "app/auth.py",
        "import jwt\n"
        "OWNER = 'owner'\n"
        "def is_ours(token):\n"
        "    payload = jwt.decode(token, options={'verify_signature': False})\n"
        "    return payload.get(OWNER) == 'shop'\n",
        [],
        id="jwt-peek-at-a-routing-claim",
    ),
    pytest.param(
        "app/auth.py",
        "import jwt\n"
        "def is_admin(token):\n"
        "    payload = jwt.decode(token, options={'verify_signature': False})\n"
        "    return payload.get('role') == 'admin'\n",
        [("SEC011", True, "claims of `token` used without a signature check")],
        id="jwt-peek-at-an-authorising-claim",
    ),
    pytest.param(
        "app/oauth.py",
        "import jwt\n"
        "class Tokens:\n"
        "    def claims(self):\n"
        "        return jwt.decode(self.id_token, options={'verify_signature': False})\n",
        [("SEC027", False, "claims of `self.id_token` used without a signature check")],
        id="jwt-token-held-by-the-object-is-reported-lower",
    ),
]


@pytest.mark.parametrize(("path", "source", "expected"), CASES)
def test_judged(path: str, source: str, expected: list[tuple[str, bool, str]]) -> None:
    assert judged(path, source) == expected
