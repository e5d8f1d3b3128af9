"""Hostile file shapes against normal files of the same size, analysed side by side.

    python benchmarks/hostile.py [--kb 256] [--max-ratio 10] [--max-growth 8] [--only NAME]

Each shape is a file an attacker (or a bundler) can push: thousands of requests on one minified
line, tens of thousands of SQL statements, deep nesting, one huge YAML or Dockerfile line. Each
is analysed with every rule next to a normal file of the same size and language (the same code
laid out as people write it), and next to itself at a quarter of the size, in this process, one
after the other. Prints the times, the ratio hostile / normal and the growth (size x4: linear
is about 4, quadratic 16), and exits 1 when a hostile file takes more than `--max-ratio` times
its normal twin and grows more than `--max-growth` times (a superlinear rule: at 256 KB a
quadratic one is hundreds of times slower than its twin; both tests at once, so that the noise
of a busy machine on a few milliseconds fails neither).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from app.engine.analyze import Analyzer
from app.engine.ruleset import load_ruleset


def _repeat(unit: str, size: int, sep: str = "") -> str:
    count = max(1, size // (len(unit) + len(sep)))
    return sep.join([unit] * count)


def _wrapped(head: str, unit: str, tail: str, size: int, sep: str) -> str:
    return head + _repeat(unit, size - len(head) - len(tail), sep) + tail


JS_CALLS = 'fetch("https://api.example.com/x"+a);axios.get(u);console.log(a);db.query("x"+b);'
GO_CALLS = 'http.Get(u); c := &http.Client{}; log.Println(c); db.Query("x"+b); '
JAVA_CALLS = (
    "new RestTemplate(); HttpClient.newHttpClient(); u.openConnection(); "
    'System.out.println(a); s.executeQuery("x"+b); '
)
PY_CALLS = 'requests.get(u); print(a); cursor.execute("x" + b); '
SQL_SMALL = "CREATE INDEX i ON t (c);"
SQL_NORMAL = (
    "CREATE TABLE orders (\n  id bigserial PRIMARY KEY,\n  customer_id bigint NOT NULL "
    "REFERENCES customers (id),\n  status text NOT NULL DEFAULT 'new',\n  total numeric(12, 2),\n"
    "  created_at timestamptz NOT NULL DEFAULT now()\n);\n"
    "CREATE INDEX orders_customer ON orders (customer_id);\n"
)
K8S = (
    "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  template:\n"
    "    spec:\n      containers:\n      - name: api\n        image: api:latest\n"
)


@dataclass
class Shape:
    name: str
    path: str
    hostile: Callable[[int], str]
    normal: Callable[[int], str]


SHAPES = [
    Shape(
        "js-minified-line",
        "src/server/bundle.js",
        lambda n: _repeat(JS_CALLS, n),
        lambda n: _repeat(JS_CALLS, n, "\n"),
    ),
    Shape(
        "ts-minified-line",
        "src/server/bundle.ts",
        lambda n: _repeat(JS_CALLS, n),
        lambda n: _repeat(JS_CALLS, n, "\n"),
    ),
    Shape(
        "js-deep-nesting",
        "src/server/nested.js",
        lambda n: 'fetch("https://a.example.com/"+' * (n // 32) + "x" + ")" * (n // 32) + ";",
        lambda n: _repeat('fetch("https://a.example.com/"+x);', n, "\n"),
    ),
    Shape(
        "js-nested-options",
        "src/server/options.js",
        lambda n: "fetch(signal, " * (n // 14) + ")" * (n // 14) + ";",
        lambda n: _repeat("fetch(url, { signal });", n, "\n"),
    ),
    Shape(
        "python-nested-options",
        "app/options.py",
        lambda n: "import requests\n" + "requests.get(timeout_s, " * (n // 24) + ")" * (n // 24),
        lambda n: "import requests\n" + _repeat("requests.get(url, timeout=5)", n, "\n"),
    ),
    Shape(
        "go-one-line",
        "cmd/api/main.go",
        lambda n: _wrapped("package main\nfunc f() { ", GO_CALLS, "}\n", n, ""),
        lambda n: _wrapped("package main\nfunc f() {\n", GO_CALLS, "}\n", n, "\n"),
    ),
    Shape(
        "go-deep-nesting",
        "cmd/api/nested.go",
        lambda n: (
            "package main\nfunc f() { x := "
            + "g(http.Get(u), " * (n // 16)
            + ")" * (n // 16)
            + "}\n"
        ),
        lambda n: _wrapped("package main\nfunc f() {\n", "x := g(http.Get(u))", "}\n", n, "\n"),
    ),
    Shape(
        "java-deep-nesting",
        "src/main/java/com/example/Nested.java",
        lambda n: (
            "class N { void f() { x = "
            + "g(new RestTemplate(), " * (n // 24)
            + ")" * (n // 24)
            + "; } }\n"
        ),
        lambda n: _wrapped(
            "class N { void f() {\n", "x = g(new RestTemplate());", "} }\n", n, "\n"
        ),
    ),
    Shape(
        "java-one-line",
        "src/main/java/com/example/Client.java",
        lambda n: _wrapped("class Client { void f() { ", JAVA_CALLS, "} }\n", n, ""),
        lambda n: _wrapped("class Client { void f() {\n", JAVA_CALLS, "} }\n", n, "\n"),
    ),
    Shape(
        "python-one-line",
        "app/views.py",
        lambda n: "import requests\n" + _repeat(PY_CALLS, n) + "\n",
        lambda n: "import requests\n" + _repeat(PY_CALLS.replace("; ", "\n"), n),
    ),
    Shape(
        "python-deep-nesting",
        "app/nested.py",
        lambda n: "import requests\nprint(" + "requests.get(" * (n // 13) + ")" * (n // 13) + ")\n",
        lambda n: "import requests\n" + _repeat("print(requests.get(u))", n, "\n"),
    ),
    Shape(
        "sql-many-statements",
        "db/migrations/0001_init.sql",
        lambda n: _repeat(SQL_SMALL, n, "\n"),
        lambda n: _repeat(SQL_NORMAL, n),
    ),
    Shape(
        "sql-one-line",
        "db/migrations/0002_more.sql",
        lambda n: _repeat(SQL_SMALL, n, " "),
        lambda n: _repeat(SQL_NORMAL.replace("orders", "invoices"), n),
    ),
    Shape(
        "yaml-one-line",
        "deploy/k8s/app.yaml",
        lambda n: K8S + "        args: [" + _repeat('"--flag=value",', n) + '"x"]\n',
        lambda n: K8S + "        args:\n" + _repeat('        - "--flag=value"', n, "\n") + "\n",
    ),
    Shape(
        "yaml-deep-nesting",
        "deploy/k8s/nested.yaml",
        lambda n: K8S + "        args: " + "[" * (n // 2) + "]" * (n // 2) + "\n",
        lambda n: K8S + "        args:\n" + _repeat("        - [1, [2]]", n, "\n") + "\n",
    ),
    Shape(
        "yaml-many-documents",
        "deploy/k8s/many.yaml",
        lambda n: _repeat(K8S, n, "---\n"),
        lambda n: K8S + "        args:\n" + _repeat('        - "--flag=value"', n, "\n") + "\n",
    ),
    Shape(
        "dockerfile-continuations",
        "deploy/Dockerfile",
        lambda n: (
            "FROM python:3.11\nRUN " + _repeat("apt-get install -y curl && \\\n  ", n) + "true\n"
        ),
        lambda n: "FROM python:3.11\n" + _repeat("RUN apt-get install -y curl", n, "\n") + "\n",
    ),
    Shape(
        "dockerfile-one-line",
        "Dockerfile",
        lambda n: "FROM python:3.11\nRUN " + _repeat("apt-get install -y curl && ", n) + "true\n",
        lambda n: "FROM python:3.11\n" + _repeat("RUN apt-get install -y curl", n, "\n") + "\n",
    ),
]


def timed(analyzer: Analyzer, path: str, text: str) -> float:
    data = text.encode()
    start = time.perf_counter()
    analyzer.analyze(path, data)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kb", type=int, default=256, help="size of each file (KB)")
    parser.add_argument("--max-ratio", type=float, default=10.0)
    parser.add_argument("--max-growth", type=float, default=8.0)
    parser.add_argument("--only", action="append", help="shape names to run (default: all)")
    args = parser.parse_args(argv)
    analyzer = Analyzer(load_ruleset())
    analyzer.prepare()
    size = args.kb * 1024
    failed = []
    for shape in SHAPES:
        if args.only and shape.name not in args.only:
            continue
        timed(analyzer, shape.path, shape.normal(1024))  # first-use costs (imports, plans)
        normal = timed(analyzer, shape.path, shape.normal(size))
        quarter = timed(analyzer, shape.path, shape.hostile(size // 4))
        hostile = timed(analyzer, shape.path, shape.hostile(size))
        ratio = hostile / max(normal, 0.01)
        growth = hostile / max(quarter, 0.01)
        slow = ratio > args.max_ratio and growth > args.max_growth
        flag = "  TOO SLOW" if slow else ""
        print(
            f"{shape.name:24s} {args.kb:5d} KB  normal {normal:7.2f} s  hostile {hostile:7.2f} s"
            f"  ratio {ratio:6.1f}  growth x4: {growth:5.1f}{flag}",
            flush=True,
        )
        if flag:
            failed.append(shape.name)
    if failed:
        print("superlinear:", ", ".join(failed))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
