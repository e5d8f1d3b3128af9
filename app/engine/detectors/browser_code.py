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
"""

from __future__ import annotations

import re

from app.engine.context import FileContext
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


def runs_in_browser(ctx: FileContext) -> bool:
    """True when the path or the content says this script runs in a browser and nothing says
    it runs on a server."""
    if "server" in ctx.roles or ctx.search(_SERVER_HINT, _SERVER_CONTENT, ctx.text):
        return False
    if "browser" in ctx.roles:
        return True
    return ctx.search(_BROWSER_HINT, _BROWSER_CONTENT, ctx.text) is not None
