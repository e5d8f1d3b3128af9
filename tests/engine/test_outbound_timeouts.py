"""Outbound calls without a timeout (ERR002 HTTP, ERR008 other network clients) on the shapes
real repositories have: browser bundles calling their own API, promise chains, `**kwargs`
dicts, the standard library's clients, semgrep rule tests."""

from __future__ import annotations

import pytest

from app.engine.analyze import Analyzer
from app.engine.memory import audit_files
from app.engine.ruleset import Ruleset


def lines_of(
    rule: str, files: dict[str, str], ruleset: Ruleset, analyzer: Analyzer
) -> list[tuple[str | None, int | None]]:
    report = audit_files(files, ruleset, analyzer=analyzer)
    return sorted((f.path, f.line) for f in report.findings if f.rule == rule)


SERVICE_JS = """\
import { axios } from "@/services/axios";

export const Dashboards = {
  get: ({ id }) => axios.get(`api/dashboards/${id}`).then(transform),
  save: (data) => axios.post("api/dashboards", data).then(transform).catch(report),
};
"""


def test_a_spa_under_client_calling_its_own_api_is_not_judged(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {"client/app/services/dashboards.js": SERVICE_JS}
    assert lines_of("ERR002", files, ruleset, analyzer) == []


def test_the_same_code_on_a_server_gives_one_finding_per_request_not_per_link(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        "src/services/dashboards.js": SERVICE_JS,
        "src/sync.ts": (
            "export function sync(url: string) {\n"
            "  return fetch(url).then((r) => r.json()).then((body) => body.items).catch(log);\n"
            "}\n"
        ),
    }
    assert lines_of("ERR002", files, ruleset, analyzer) == [
        ("src/services/dashboards.js", 4),
        ("src/services/dashboards.js", 5),
        ("src/sync.ts", 2),
    ]


@pytest.mark.parametrize(
    ("path", "source"),
    [
        # a React component: hooks run in the browser
        (
            "src/components/Orders.jsx",
            'import { useEffect } from "react";\n'
            "export function Orders() {\n"
            '  useEffect(() => { fetch("https://api.example.com/orders").then(show); }, []);\n'
            "}\n",
        ),
        # a Next.js client component
        (
            "src/app/orders/list.ts",
            '"use client";\nexport const load = () => fetch("https://api.example.com/orders");\n',
        ),
        # the page's own origin: a relative URL, which Node's fetch would reject
        ("src/lib/items.ts", 'export const items = () => fetch("/api/items");\n'),
        # `fetch` here is the caller's loader, not the global
        (
            "src/lib/search.js",
            "export function search(fetch, term) {\n  return fetch(term).then(show);\n}\n",
        ),
        # browser globals
        (
            "src/lib/session.js",
            "export const me = () => fetch(window.location.origin + '/me');\n",
        ),
    ],
)
def test_browser_code_is_not_judged(
    path: str, source: str, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    assert lines_of("ERR002", {path: source}, ruleset, analyzer) == []


@pytest.mark.parametrize(
    ("path", "source"),
    [
        # server folders and server file names win over a front-end folder
        (
            "client/server/render.js",
            'export const load = () => fetch("https://api.example.com");\n',
        ),
        ("frontend/app/routes/orders.server.ts", "export const load = () => fetch(URL);\n"),
        ("web/src/app/api/orders/route.ts", "export async function GET() { return fetch(URL); }\n"),
        # a Remix route module: its loader runs on the server next to the component
        (
            "app/routes/orders.jsx",
            'import { useState } from "react";\n'
            "export async function loader() { return fetch(URL); }\n",
        ),
        # a front-end folder, but server-only imports
        (
            "client/scripts/sync.js",
            'import fs from "node:fs";\nexport const sync = () => fetch(URL).then(save);\n',
        ),
    ],
)
def test_server_code_stays_judged(
    path: str, source: str, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    assert len(lines_of("ERR002", {path: source}, ruleset, analyzer)) == 1


METRICS_PY = """\
import requests


class PrometheusSource:
    def _request_options(self):
        return {"verify": self.verify_tls, "cert": self.client_cert}

    def test_connection(self):
        options = {}
        try:
            options = self._request_options()
            return requests.get(self.url, **options).ok
        finally:
            self._cleanup(options)

    def with_timeout(self):
        options = self._request_options()
        options["timeout"] = 10
        return requests.get(self.url, **options)

    def updated(self):
        options = dict(verify=True)
        options.update(timeout=10)
        return requests.get(self.url, **options)

    def passed_in(self, **kwargs):
        return requests.get(self.url, **kwargs)

    def merged(self, extra):
        options = {"verify": True, **extra}
        return requests.get(self.url, **options)

    def built(self):
        options = dict(verify=True, stream=True)
        return requests.post(self.url, **options)
"""


def test_kwargs_dicts_built_in_the_file_are_followed(ruleset: Ruleset, analyzer: Analyzer) -> None:
    assert lines_of("ERR002", {"app/metrics.py": METRICS_PY}, ruleset, analyzer) == [
        ("app/metrics.py", 12),
        ("app/metrics.py", 35),
    ]


CLIENTS_PY = """\
import http.client
import socket
import smtplib as mail
from ftplib import FTP
from urllib import request

import pycurl


def unbounded(host):
    request.urlopen("https://" + host)
    http.client.HTTPSConnection(host)
    pycurl.Curl()
    socket.create_connection((host, 25))
    mail.SMTP(host, 587)
    FTP(host)


def bounded(host):
    request.urlopen("https://" + host, None, 10)
    http.client.HTTPConnection(host, 80, 10)
    socket.create_connection((host, 25), 5)
    mail.SMTP(host, 587, timeout=10)
    FTP(host, timeout=30)
    FTP()
"""


def test_standard_library_clients_are_judged_by_what_they_call(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {"app/clients.py": CLIENTS_PY}
    assert lines_of("ERR002", files, ruleset, analyzer) == [
        ("app/clients.py", 11),
        ("app/clients.py", 12),
        ("app/clients.py", 13),
    ]
    assert lines_of("ERR008", files, ruleset, analyzer) == [
        ("app/clients.py", 14),
        ("app/clients.py", 15),
        ("app/clients.py", 16),
    ]


def test_a_process_wide_socket_timeout_bounds_the_standard_library_clients(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    source = "import socket\nsocket.setdefaulttimeout(30)\n" + CLIENTS_PY
    files = {"app/clients.py": source}
    assert lines_of("ERR008", files, ruleset, analyzer) == []
    # pycurl does not use Python's sockets
    assert lines_of("ERR002", files, ruleset, analyzer) == [("app/clients.py", 15)]


def test_semgrep_rule_tests_are_test_data(ruleset: Ruleset, analyzer: Analyzer) -> None:
    files = {
        ".semgrep/security/requests/no-requests.py": (
            'import requests\n# ruleid: no-requests\nrequests.get("https://example.com")\n'
        )
    }
    assert lines_of("ERR002", files, ruleset, analyzer) == []


SPA_PACKAGE = """{
  "name": "shop-front",
  "scripts": {"build": "vite build"},
  "dependencies": {"axios": "1.7.2", "react": "18.3.1", "react-dom": "18.3.1"},
  "devDependencies": {"vite": "5.4.0"}
}
"""
API_JS = 'import axios from "axios";\nexport const orders = () => axios.get("https://shop.example.com/api/orders");\n'


def test_scripts_of_a_front_end_application_package_are_browser_code(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        "package.json": SPA_PACKAGE,
        "src/api/orders.js": API_JS,
        # server evidence in the file itself still counts
        "scripts/prerender.js": 'import fs from "node:fs";\n' + API_JS,
        # so does a nearer package that is not a front-end application
        "mock-server/package.json": '{"dependencies": {"express": "4.19.2"}}\n',
        "mock-server/index.js": API_JS,
    }
    assert lines_of("ERR002", files, ruleset, analyzer) == [
        ("mock-server/index.js", 2),
        ("scripts/prerender.js", 3),
    ]


@pytest.mark.parametrize(
    "package",
    [
        # a server framework beside the bundler: a full-stack package
        SPA_PACKAGE.replace('"axios": "1.7.2"', '"axios": "1.7.2", "express": "4.19.2"'),
        # a bundler without a UI framework (a Node service bundled for deployment)
        '{"dependencies": {"axios": "1.7.2"}, "devDependencies": {"webpack": "5.0.0"}}\n',
        # a monorepo's root: its members say what they are
        SPA_PACKAGE.replace('"name": "shop-front",', '"workspaces": ["apps/*"],'),
    ],
)
def test_other_packages_leave_their_scripts_judged(
    package: str, ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {"package.json": package, "src/api/orders.js": API_JS}
    assert lines_of("ERR002", files, ruleset, analyzer) == [("src/api/orders.js", 2)]


def test_go_and_java_clients_are_given_to_the_rule_of_their_kind(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    files = {
        "relay/relay.go": (
            "package relay\n"
            "func Open(addr string) {\n"
            '    a, _ := net.Dial("tcp", addr)\n'
            '    b, _ := tls.Dial("tcp", addr, nil)\n'
            '    c, _ := net.Dial("unix", "/run/relay.sock")\n'
            '    d, _ := net.DialTimeout("tcp", addr, 5*time.Second)\n'
            "    use(a, b, c, d)\n"
            "}\n"
        ),
        "src/main/java/com/example/Feeds.java": (
            "class Feeds {\n"
            "    String read(URL url) throws Exception {\n"
            "        HttpURLConnection c = (HttpURLConnection) url.openConnection();\n"
            "        c.setReadTimeout(5000);\n"
            "        return new String(c.getInputStream().readAllBytes());\n"
            "    }\n"
            "    Connection db() throws SQLException {\n"
            '        return DriverManager.getConnection("jdbc:postgresql://db:5432/feeds", u, p);\n'
            "    }\n"
            "    Connection bounded() throws SQLException {\n"
            "        return DriverManager.getConnection(\n"
            '            "jdbc:postgresql://db:5432/feeds?socketTimeout=30", u, p);\n'
            "    }\n"
            "}\n"
        ),
    }
    assert lines_of("ERR008", files, ruleset, analyzer) == [
        ("relay/relay.go", 3),
        ("relay/relay.go", 4),
    ]
    java = "src/main/java/com/example/Feeds.java"
    assert lines_of("ERR002", files, ruleset, analyzer) == [(java, 3)]
    assert lines_of("ERR003", files, ruleset, analyzer) == [(java, 8)]


def test_a_source_ast_cannot_read_is_still_searched_for_requests_calls(
    ruleset: Ruleset, analyzer: Analyzer
) -> None:
    source = (
        'import requests\nprint "syncing"\nr = requests.get(URL)\nrequests.post(URL, timeout=3)\n'
    )
    assert lines_of("ERR002", {"tools/sync.py": source}, ruleset, analyzer) == [
        ("tools/sync.py", 3)
    ]
