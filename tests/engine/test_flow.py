"""Where values come from: the intra-function data flow the security judges rely on."""

from __future__ import annotations

import pytest
from ast_grep_py import SgNode, SgRoot

from app.engine.context import FileContext
from app.engine.flow import Flow, file_flow, flow_for

KINDS = {
    "python": "string",
    "typescript": "template_string",
    "go": "call_expression",
    "java": "binary_expression",
}


def origins(language: str, source: str, kind: str | None = None) -> set[tuple[str, str, bool]]:
    """The origin of the first SQL text (`SELECT ...`) built in `source`."""
    root = SgRoot(source, language).root()
    wanted = kind or KINDS[language]
    node = next(
        n for n in root.find_all(kind=wanted) if "SELECT" in n.text() and "db.Query" not in n.text()
    )
    flow = flow_for(language, node)
    assert flow is not None
    return {(t.source.name, t.name, t.as_value) for t in flow.origin(node)}


PYTHON = [
    pytest.param(
        "def f(cur, name):\n    cur.execute(f\"SELECT 1 FROM t WHERE a = '{name}'\")\n",
        {("PARAMETER", "name", True)},
        id="parameter-in-quotes",
    ),
    pytest.param(
        'def f(cur, table):\n    cur.execute(f"SELECT 1 FROM {table}")\n',
        {("PARAMETER", "table", False)},
        id="parameter-as-identifier",
    ),
    pytest.param(
        'def f(cur, n):\n    cur.execute(f"SELECT 1 FROM t WHERE id = {n}")\n',
        {("PARAMETER", "n", True)},
        id="parameter-compared",
    ),
    pytest.param(
        'def f(cur, n: int):\n    cur.execute(f"SELECT 1 FROM t WHERE id = {n}")\n',
        set(),
        id="typed-number",
    ),
    pytest.param(
        "def f(request):\n    q = request.GET['q']\n"
        '    cur.execute(f"SELECT 1 FROM t ORDER BY {q}")\n',
        {("REQUEST", "request.GET['q']", False)},
        id="request-data",
    ),
    pytest.param(
        "@app.get('/t/{table}')\ndef f(table):\n    cur.execute(f\"SELECT 1 FROM {table}\")\n",
        {("REQUEST", "table", False)},
        id="route-parameter",
    ),
    pytest.param(
        "ALLOWED = {'a'}\ndef f(cur, col):\n    if col not in ALLOWED:\n        raise ValueError\n"
        '    cur.execute(f"SELECT {col} FROM t")\n',
        set(),
        id="allow-listed-early-exit",
    ),
    pytest.param(
        "def f(cur, col, allowed):\n    if col not in allowed:\n        raise ValueError\n"
        '    cur.execute(f"SELECT {col} FROM t")\n',
        {("PARAMETER", "col", False)},
        id="allow-list-from-the-caller-is-no-allow-list",
    ),
    pytest.param(
        "def f(cur, col):\n    if col in {'a', 'b'}:\n"
        '        cur.execute(f"SELECT {col} FROM t")\n',
        set(),
        id="allow-listed-block",
    ),
    pytest.param(
        "def f(self, cur, cols):\n    safe = [quote_ident(c) for c in cols]\n"
        "    cur.execute(f\"SELECT {', '.join(safe)} FROM {self.table} WHERE k = {len(cols)}\")\n",
        {("STATE", "self.table", False)},  # object state: no SQL judge reports it
        id="quoted-state-and-numbers",
    ),
    pytest.param(
        "from urllib.parse import unquote\n"
        "def f(cur, name):\n"
        "    cur.execute(f\"SELECT 1 FROM t WHERE a = '{unquote(name)}'\")\n",
        {("PARAMETER", "name", True)},
        id="decoding-is-no-sanitising",
    ),
    pytest.param(
        "def f(cur, tables):\n    for t in tables.keys():\n"
        '        cur.execute(f"SELECT count(*) FROM {t}")\n',
        {("PARAMETER", "tables", False)},
        id="through-a-loop",
    ),
    pytest.param(
        "def f(cur, qs):\n    sql, params = qs.query.sql_with_params()\n"
        '    cur.execute(f"SELECT * FROM ({sql}) t", params)\n',
        {("OPAQUE", "qs.query.sql_with_params", False)},
        id="compiled-sql",
    ),
    pytest.param(
        'def _count(cur, table):\n    cur.execute(f"SELECT count(*) FROM {table}")\n'
        "def public(cur):\n    _count(cur, 'orders')\n",
        set(),
        id="private-function-called-with-constants",
    ),
    pytest.param(
        'def _count(cur, table):\n    cur.execute(f"SELECT count(*) FROM {table}")\n'
        "def view(request):\n    _count(cur, request.GET['t'])\n",
        {("REQUEST", "request.GET['t']", False)},
        id="private-function-called-with-request-data",
    ),
]


@pytest.mark.parametrize(("source", "expected"), PYTHON)
def test_python_origins(source: str, expected: set[tuple[str, str, bool]]) -> None:
    assert origins("python", source) == expected


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        pytest.param(
            "def f(cur, name):\n"
            "    cur.execute(\"SELECT 1 FROM t WHERE a = '%s' AND b = %d\" % (name, 3))\n",
            {("PARAMETER", "name", True)},
            id="percent",
        ),
        pytest.param(
            "def f(cur, name, n):\n"
            '    cur.execute("SELECT 1 FROM {t} WHERE b = {n:d}".format(t=name, n=n))\n',
            {("PARAMETER", "name", False)},
            id="format",
        ),
        pytest.param(
            'def f(cur, name):\n    cur.execute("SELECT 1 FROM t WHERE a = \'" + name + "\'")\n',
            {("PARAMETER", "name", True)},
            id="concatenation",
        ),
    ],
)
def test_python_string_building(source: str, expected: set[tuple[str, str, bool]]) -> None:
    root = SgRoot(source, "python").root()
    node = (
        next(n for n in root.find_all(kind="call") if n.text().startswith("cur.execute"))
        .field("arguments")
        .child(1)
    )
    flow = flow_for("python", node)
    assert flow is not None
    assert {(t.source.name, t.name, t.as_value) for t in flow.origin(node)} == expected


TYPESCRIPT = [
    pytest.param(
        "export function f(db, table: string) {\n"
        "  const values: unknown[] = []\n"
        "  const conditions = ['deleted_at IS NULL']\n"
        "  values.push(table)\n"
        "  conditions.push(`name = $${values.length}`)\n"
        "  const marks = values.map((_, i) => `$${i + 1}`)\n"
        "  return db.query(`SELECT id FROM ${quoteIdentifier(table)}"
        " WHERE ${conditions.join(' AND ')} AND k IN (${marks.join(', ')})`, values)\n}\n",
        set(),
        id="quoted-identifier-and-placeholders",
    ),
    pytest.param(
        "export function f(db, sort?: string) {\n"
        "  const allowed = new Set(['name', 'created_at'])\n"
        "  const column = sort && allowed.has(sort) ? sort : 'name'\n"
        "  return db.query(`SELECT id FROM t ORDER BY ${column}`)\n}\n",
        set(),
        id="allow-listed-ternary",
    ),
    pytest.param(
        "export function f(db, order: 'ASC' | 'DESC', limit: number) {\n"
        "  return db.query(`SELECT id FROM t ORDER BY id ${order} LIMIT ${limit}`)\n}\n",
        set(),
        id="literal-union-and-number-types",
    ),
    pytest.param(
        "app.get('/x', (req, res) => {\n"
        "  db.query(`SELECT id FROM t ORDER BY ${req.query.sort}`)\n})\n",
        {("REQUEST", "req.query.sort", False)},
        id="request-data",
    ),
    pytest.param(
        "export function f(db, status: string) {\n"
        "  const where = `status = '${status}'`\n"
        "  return db.query(`SELECT id FROM t WHERE ${where}`)\n}\n",
        {("PARAMETER", "status", True)},
        id="quoted-inside-a-fragment",
    ),
    pytest.param(
        "class S {\n  private async put(db, table: string) {\n"
        "    await db.query(`SELECT 1 FROM ${table}`)\n  }\n"
        "  async run(db, bucket: string) {\n"
        "    await this.put(db, qualifiedName(bucket))\n  }\n}\n",
        {("OPAQUE", "qualifiedName", False)},
        id="private-method-called-with-a-transformed-name",
    ),
    pytest.param(
        "export async function f(db, table: { name: string; size: number }) {\n"
        "  const entries = Object.entries(table)\n"
        "  return db.query(`SELECT ${entries.map(([column]) => column).join(', ')} FROM t`)\n}\n",
        {("PARAMETER", "table", False)},
        id="object-keys-of-a-parameter",
    ),
]


@pytest.mark.parametrize(("source", "expected"), TYPESCRIPT)
def test_typescript_origins(source: str, expected: set[tuple[str, str, bool]]) -> None:
    assert origins("typescript", source) == expected


def test_go_origins() -> None:
    source = (
        "package x\n"
        "func h(w http.ResponseWriter, r *http.Request, n int) {\n"
        '    id := r.URL.Query().Get("id")\n'
        "    db.Query(fmt.Sprintf(\"SELECT 1 FROM t WHERE id = '%s' AND n = %d\", id, n))\n"
        "}\n"
    )
    assert origins("go", source) == {("REQUEST", 'r.URL.Query().Get("id")', True)}


def test_java_origins() -> None:
    source = (
        "class R {\n"
        "  List<X> f(@RequestParam String name, Long id, String table) {\n"
        '    return jdbc.query("SELECT 1 FROM " + table'
        ' + " WHERE a = \'" + name + "\' AND id = " + id);\n'
        "  }\n}\n"
    )
    assert origins("java", source) == {
        ("PARAMETER", "table", False),
        ("REQUEST", "name", True),
    }


@pytest.mark.parametrize(
    ("language", "source"),
    [("python", p.values[0]) for p in PYTHON] + [("typescript", p.values[0]) for p in TYPESCRIPT],
)
def test_one_flow_per_file_answers_as_a_new_one_per_judge(language: str, source: str) -> None:
    """A file's judges share one analysis (`file_flow`); each still gets the origins a new
    analysis gives, whichever node was asked about before it."""
    root = SgRoot(source, language).root()
    nodes = list(root.find_all(kind=KINDS[language])) + list(root.find_all(kind="identifier"))
    ctx = FileContext("f.py" if language == "python" else "f.ts", source.encode())

    def taints(flow: Flow | None, node: SgNode) -> set[tuple[str, str, bool]]:
        assert flow is not None
        return {(t.source.name, t.name, t.as_value) for t in flow.origin(node)}

    for order in (nodes, nodes[::-1]):
        for node in order:
            assert taints(file_flow(ctx, node), node) == taints(flow_for(language, node), node)
