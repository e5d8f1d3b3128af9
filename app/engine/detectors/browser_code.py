"""Whether a JavaScript / TypeScript file is browser code: part of a bundle that runs in the
user's browser, where a request without a timeout holds no server resource and an ignored
rejection hides a failure from one user rather than from the operators.

The evidence: the path (the `browser` role: a SPA's `client/`, `frontend/`, Django's `static/`;
app/engine/paths.py) or the content (a `"use client"` directive, React hooks, react-dom, Vue,
Svelte, Angular, the `window` / `document` / storage globals). Server evidence wins over both: the
`server` role (`server/` folders, Remix `*.server.ts`, Next.js `route.ts` and `pages/api/`), or
content that only runs on a server (`"use server"`, `server-only`, Node built-ins, server
frameworks and database drivers, Remix loaders and actions, Next.js data functions and route
handlers). A Remix route module holds its loader and its component in one file: it stays judged.
Where neither says, the package the file belongs to may: a package.json with a bundler and a UI
framework and nothing of a server (a Vite or webpack SPA) is a front-end application's
(`js-package` facts; the rules' hit resolvers read them).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Iterator
from typing import Any, Literal

from app.engine.context import FileContext
from app.engine.detectors import RepoView, file_detector
from app.engine.model import Fact
from app.engine.screen import hint

_SERVER_MODULES = (
    r"server-only|node:[\w/]+|fs|fs/promises|http|https|http2|net|tls|dgram|child_process"
    r"|cluster|worker_threads|express|fastify|koa|@hapi/hapi|hono(?:/[\w/-]+)?"
    r"|@nestjs/[\w-]+|next/server|next/headers|@remix-run/(?:node|server-runtime|express)"
    r"|@react-router/(?:node|express)|@trpc/server(?:/[\w/-]+)?|pg|mysql2(?:/promise)?"
    r"|mongoose|ioredis|redis|bullmq|nodemailer"
)
_SERVER_EXPORTS = (
    r"loader|action|getServerSideProps|getStaticProps|getStaticPaths|generateMetadata"
    r"|GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS"
)
# `import type ...` is erased at build time: only value imports say where the code runs (the
# clause of an import holds no quotes, so `[^;'"]` cannot run on into the next statement)
_SERVER_CONTENT = re.compile(
    r"^\s*[\"']use server[\"']"
    rf"|^\s*import\s+(?!type\b)[^;'\"]*?\bfrom\s*[\"'](?:{_SERVER_MODULES})[\"']"
    rf"|^\s*import\s*[\"'](?:{_SERVER_MODULES})[\"']"
    rf"|\brequire\(\s*[\"'](?:{_SERVER_MODULES})[\"']\s*\)"
    rf"|^export\s+(?:async\s+)?function\s+(?:{_SERVER_EXPORTS})\b"
    rf"|^export\s+const\s+(?:{_SERVER_EXPORTS})\b",
    re.MULTILINE,
)
# React hooks (`useState(`, `useForm<Values>(`, `trpc.orders.useQuery(`) only run in components
_BROWSER_CONTENT = re.compile(
    r"^\s*[\"']use client[\"']"
    r"|\bfrom\s+[\"'](?:react-dom(?:/[\w/-]+)?|vue|svelte(?:/[\w/-]+)?|@angular/[\w-]+"
    r"|preact(?:/hooks)?|solid-js)[\"']"
    r"|\buse[A-Z]\w*(?:<[^>\n]*>)?\("
    r"|\b(?:window|document|localStorage|sessionStorage)\.\w",
    re.MULTILINE,
)
_SERVER_HINT = hint(_SERVER_CONTENT)
_BROWSER_HINT = hint(_BROWSER_CONTENT)


Runtime = Literal["browser", "server"]


def script_runtime(ctx: FileContext) -> Runtime | None:
    """Where this script runs as far as its own path and content tell (None: they do not)."""
    if "server" in ctx.roles or ctx.search(_SERVER_HINT, _SERVER_CONTENT, ctx.text):
        return "server"
    if "browser" in ctx.roles or ctx.search(_BROWSER_HINT, _BROWSER_CONTENT, ctx.text):
        return "browser"
    return None


def runs_in_browser(ctx: FileContext) -> bool:
    """True when the path or the content says this script runs in a browser and nothing says
    it runs on a server."""
    return script_runtime(ctx) == "browser"


# -- package.json: a front-end application's package makes all its scripts browser code --

# a bundler and a UI framework make a front-end app; any of the server side unmakes it
_BUNDLERS = frozenset(
    {
        "vite",
        "webpack",
        "react-scripts",
        "@vue/cli-service",
        "parcel",
        "@angular/cli",
        "@angular-devkit/build-angular",
    }
)
_UI = frozenset({"react-dom", "vue", "svelte", "@angular/core", "preact", "solid-js"})
_SERVER_PACKAGES = frozenset(
    {
        "express",
        "fastify",
        "koa",
        "@hapi/hapi",
        "hono",
        "@nestjs/core",
        "next",
        "nuxt",
        "@sveltejs/kit",
        "astro",
        "@react-router/dev",
        "@angular/ssr",
        "@nguniversal/express-engine",
        "vike",
        "vite-plugin-ssr",
        "electron",
        "@trpc/server",
        "prisma",
        "@prisma/client",
        "pg",
        "mysql2",
        "mongoose",
        "sequelize",
        "typeorm",
        "knex",
        "ioredis",
        "redis",
        "bullmq",
        "nodemailer",
        "ws",
        "socket.io",
    }
)


@file_detector("js_package_runtime")
def js_package_runtime(ctx: FileContext, options: dict[str, Any]) -> Iterator[Fact]:
    """Fact `js-package` for every package.json: `browser` for a front-end application's
    package (a bundler, a UI framework, nothing of a server), else `other` (a nearer package
    decides for the scripts below it)."""
    if ctx.path.rpartition("/")[2] != "package.json":
        return
    try:
        manifest = json.loads(ctx.text)
    except ValueError:
        return
    if not isinstance(manifest, dict):
        return
    names: set[str] = set()
    for section in ("dependencies", "devDependencies", "peerDependencies"):
        deps = manifest.get(section)
        if isinstance(deps, dict):
            names.update(deps)
    frontend = (
        "workspaces" not in manifest  # a monorepo's root: its members say what they are
        and bool(names & _BUNDLERS)
        and bool(names & _UI)
        and not names & _SERVER_PACKAGES
        and not any(n.startswith("@remix-run/") for n in names)
    )
    yield Fact("js-package", "browser" if frontend else "other", 1)


def in_browser_package(path: str, view: RepoView) -> bool:
    """Whether the package.json nearest above `path` is a front-end application's."""
    owners = {posixpath.dirname(p): fact.value for p, fact in view.where("js-package")}
    folder = posixpath.dirname(path)
    while True:
        if folder in owners:
            return owners[folder] == "browser"
        if not folder:
            return False
        folder = posixpath.dirname(folder)
