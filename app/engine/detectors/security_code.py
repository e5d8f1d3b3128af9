"""Security checks that need more than one pattern: payment webhooks, admin routes, pins."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import file_detector
from app.engine.model import Fact, Hit, ParseProblem
from app.engine.screen import hint

_PAYMENT_PROVIDER = re.compile(  # run on lower-cased text
    r"\b(stripe|paypal|paddle|braintree|adyen|lemonsqueezy|razorpay|mollie|square|checkout\.com)\b"
)
_WEBHOOK_ROUTE = re.compile(r"""["'`](/[^"'`\s]*webhook[^"'`\s]*)["'`]""", re.IGNORECASE)
_SIGNATURE_CHECK = re.compile(
    r"(construct_?event|ConstructEvent|verify_?signature|verifySignature|verify_?header|"
    r"verifyHeader|compare_digest|timingSafeEqual|hmac\.Equal|MessageDigest\.isEqual|"
    r"verify_?webhook|verifyWebhook|validate_?signature|validateSignature|WebhookSignature|"
    r"webhooks\.construct|Webhook\.construct|verifyWebhookSignature|unwrap_?event)",
    re.IGNORECASE,
)
_WEBHOOK_ROUTE_HINT = hint(_WEBHOOK_ROUTE)
_PAYMENT_PROVIDER_HINT = hint(_PAYMENT_PROVIDER, lowered=True)
_SIGNATURE_CHECK_HINT = hint(_SIGNATURE_CHECK)


@file_detector("unverified_payment_webhook")
def unverified_payment_webhook(ctx: FileContext, options: dict[str, Any]) -> Iterable[Hit]:
    if not ctx.may_match(_WEBHOOK_ROUTE_HINT):
        return  # no webhook route to report
    text = ctx.text
    lowered = ctx.lower_text if ctx.lower_text is not None else text.lower()
    if "webhook" not in lowered or not ctx.search(
        _PAYMENT_PROVIDER_HINT, _PAYMENT_PROVIDER, lowered
    ):
        return
    if ctx.search(_SIGNATURE_CHECK_HINT, _SIGNATURE_CHECK, text):
        return
    for m in _WEBHOOK_ROUTE.finditer(text):
        yield Hit("", ctx.line_of(m.start()), m.group(0), f"route {m.group(1)}")


_PY_ROUTE = re.compile(
    r"^(?P<decorators>(?:[ \t]*@[^\n]*\n)*?)"
    r"[ \t]*@\w+\.(?:get|post|put|patch|delete|route|api_route)"
    r"\(\s*[\"'](?P<path>[^\"']+)[\"'][^\n]*\n(?P<more>(?:[ \t]*@[^\n]*\n)*)"
    r"[ \t]*(?:async\s+)?def\s+\w+\((?P<signature>[^)]*(?:\([^)]*\)[^)]*)*)\)",
    re.MULTILINE,
)
_JS_ROUTE = re.compile(
    r"\b(?:app|router|server|api)\.(?:get|post|put|patch|delete|all)\(\s*[\"'`](?P<path>[^\"'`]+)"
    r"[\"'`]\s*,(?P<rest>[^\n]*)"
)
_AUTH_MARKER = re.compile(
    r"(Depends\(|Security\(|login_required|permission_required|staff_member_required|"
    r"admin_required|requires?_?auth|jwt_required|authenticat|authoriz|current_user|"
    r"require_?(admin|user|role|scope)|isAuthenticated|ensureLoggedIn|passport\.|verifyToken|"
    r"protect|IsAdmin|is_admin|auth\w*)",
    re.IGNORECASE,
)
_ROUTER_WIDE_AUTH = re.compile(
    r"(dependencies\s*=\s*\[|\.use\(\s*\w*(auth|protect|jwt|passport|requireAdmin|admin)\w*)",
    re.IGNORECASE,
)
_ADMIN_PATH = re.compile(r"(^|/)(admin|internal|manage|management)(/|$)", re.IGNORECASE)
# Where a route to an admin path can be (either route syntax above).
_ADMIN_ROUTE_HINT = hint(
    r"""\.(?:get|post|put|patch|delete|route|api_route|all)\(\s*["'`][^"']*(?:admin|internal|manage)""",
    lowered=True,
)


@file_detector("unauthenticated_admin_route")
def unauthenticated_admin_route(ctx: FileContext, options: dict[str, Any]) -> Iterable[Hit]:
    if not ctx.may_match(_ADMIN_ROUTE_HINT):
        return  # no admin route to report
    text = ctx.text
    if "admin" not in text.lower() and "internal" not in text.lower():
        return
    if _ROUTER_WIDE_AUTH.search(text):
        return
    routes: list[tuple[int, str, bool]] = []
    if ctx.language == "python":
        for m in _PY_ROUTE.finditer(text):
            guarded = m.group("decorators") + m.group("more") + m.group("signature")
            routes.append(
                (ctx.line_of(m.start("path")), m.group("path"), bool(_AUTH_MARKER.search(guarded)))
            )
    else:
        for m in _JS_ROUTE.finditer(text):
            routes.append(
                (
                    ctx.line_of(m.start()),
                    m.group("path"),
                    bool(_AUTH_MARKER.search(m.group("rest"))),
                )
            )
    if not any(guarded for _, _, guarded in routes):
        return  # the file does not use the framework's auth at all; nothing to compare with
    for line, path, guarded in routes:
        if not guarded and _ADMIN_PATH.search(path):
            yield Hit("", line, path, f"route {path}")


_UNPINNED_NPM = {"*", "latest", "", "x", "next"}
_REQUIREMENT = re.compile(
    r"^\s*(?P<name>[A-Za-z0-9][A-Za-z0-9._-]*)(\[[^\]]*\])?\s*(?P<spec>[^#;]*)"
)


@file_detector("unpinned_dependencies")
def unpinned_dependencies(
    ctx: FileContext, options: dict[str, Any]
) -> Iterable[Hit | Fact | ParseProblem]:
    name = ctx.path.rsplit("/", 1)[-1]
    loose: list[tuple[int, str]] = []
    if name == "package.json":
        try:
            data = json.loads(ctx.text)
        except ValueError as exc:
            yield ParseProblem("json", f"{exc}"[:200])
            return
        if not isinstance(data, dict):
            return
        for section in ("dependencies", "devDependencies", "optionalDependencies"):
            deps = data.get(section)
            if not isinstance(deps, dict):
                continue
            if deps and section == "dependencies":
                yield Fact("npm-dependencies", "", None)
            for dep, version in deps.items():
                if isinstance(version, str) and version.strip() in _UNPINNED_NPM:
                    loose.append((_line_of_key(ctx, dep), dep))
    else:
        for number, raw in enumerate(ctx.lines, start=1):
            line = raw.strip()
            if (
                not line
                or line.startswith(("#", "-", "git+", "http:", "https:", ".", "/"))
                or "@" in line
            ):
                continue
            m = _REQUIREMENT.match(line)
            if m and not m.group("spec").strip():
                loose.append((number, m.group("name")))
    if loose:
        names = ", ".join(n for _, n in loose[:5]) + (" …" if len(loose) > 5 else "")
        yield Hit("", loose[0][0], ",".join(n for _, n in loose), f"{len(loose)} unpinned: {names}")


def _line_of_key(ctx: FileContext, key: str) -> int:
    m = re.search(r'"' + re.escape(key) + r'"\s*:', ctx.text)
    return ctx.line_of(m.start()) if m else 1
