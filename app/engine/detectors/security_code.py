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


@file_detector("unverified_payment_webhook", needs=_WEBHOOK_ROUTE_HINT)
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
# screened with the rules' patterns: RE2 finds where Python's engine need look
_ROUTER_WIDE_AUTH_HINT = hint(_ROUTER_WIDE_AUTH)
_PY_ROUTE_HINT = hint(_PY_ROUTE)
_JS_ROUTE_HINT = hint(_JS_ROUTE)
# Go (gin, echo, chi, gorilla/mux): `r.DELETE("/admin/users/:id", auth, handler)`; a group made
# without middleware (`admin := r.Group("/admin")`) prefixes its routes' paths.
# The patterns start at the call (a literal), not at the router's name: a leading `\w+` would be
# tried at every word of the file. The name is read back from the text before the call.
_GO_ROUTE = re.compile(
    r"\.(?:GET|POST|PUT|PATCH|DELETE|Any|Handle|HandleFunc|Get|Post|Put|Patch|Delete|Method)"
    r"\(\s*\"(?P<path>[^\"]+)\"\s*,(?P<rest>[^\n]*)"
)
_GO_GROUP = re.compile(r"\.(?:Group|Route|PathPrefix)\(\s*\"(?P<path>[^\"]+)\"(?P<rest>[^\n]*)")
_ROUTER_BEFORE = re.compile(r"(\w+)$")
_GROUP_BEFORE = re.compile(r"(\w+)\s*:?=\s*\w+$")
# Spring: the annotations above a handler method, and the class's own.
_JAVA_ANNOTATED = re.compile(r"(?P<annotations>(?:^[ \t]*@[^\n]*\n)+)(?P<declaration>[^\n]*)", re.M)
_JAVA_MAPPING = re.compile(
    r"@(?:Get|Post|Put|Patch|Delete|Request)Mapping\(\s*(?:(?:value|path)\s*=\s*)?\{?\s*\"([^\"]*)\""
)
_JAVA_AUTH = re.compile(r"@(PreAuthorize|PostAuthorize|Secured|RolesAllowed)\b")


def _go_routes(ctx: FileContext) -> list[tuple[int, str, bool]]:
    text = ctx.text
    groups: dict[str, tuple[str, bool]] = {}
    for m in _GO_GROUP.finditer(text):
        assigned = _GROUP_BEFORE.search(text, text.rfind("\n", 0, m.start()) + 1, m.start())
        if assigned is None:
            continue
        name = assigned.group(1)
        guarded = bool(_AUTH_MARKER.search(m.group("rest"))) or bool(
            re.search(rf"\b{re.escape(name)}\.Use\(", text)
        )
        groups[name] = (m.group("path"), guarded)
    routes = []
    for m in _GO_ROUTE.finditer(text):
        router = _ROUTER_BEFORE.search(text, text.rfind("\n", 0, m.start()) + 1, m.start())
        if router is None:
            continue
        start = router.start()
        prefix, group_guarded = groups.get(router.group(1), ("", False))
        rest = m.group("rest")
        # a middleware before the handler (`auth, handler`) or an auth-named wrapper
        guarded = group_guarded or bool(_AUTH_MARKER.search(rest)) or _has_two_arguments(rest)
        routes.append((ctx.line_of(start), prefix.rstrip("/") + m.group("path"), guarded))
    return routes


def _has_two_arguments(rest: str) -> bool:
    """Whether the arguments after the path hold a comma outside parentheses (`auth, handler`)."""
    depth = 0
    for ch in rest:
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                return False
        elif ch == "," and depth == 0:
            return True
    return False


def _java_routes(ctx: FileContext) -> list[tuple[int, str, bool]]:
    prefix, class_guarded = "", False
    routes = []
    for m in _JAVA_ANNOTATED.finditer(ctx.text):
        annotations, declaration = m.group("annotations"), m.group("declaration")
        mapping = _JAVA_MAPPING.search(annotations)
        guarded = bool(_JAVA_AUTH.search(annotations))
        if re.search(r"\b(class|interface)\s", declaration):
            prefix = mapping.group(1) if mapping else ""
            class_guarded = guarded
        elif mapping is not None:
            path = prefix.rstrip("/") + "/" + mapping.group(1).lstrip("/")
            line = ctx.line_of(m.start("annotations") + mapping.start())
            routes.append((line, path, guarded or class_guarded))
    return routes


# Where a route to an admin path can be: a Python / JavaScript / Go route, a Go group whose
# routes inherit its path, or a Spring mapping (a method's or its class's).
_ADMIN_ROUTE_HINT = hint(
    r"""\.(?:get|post|put|patch|delete|route|api_route|all|any|handle|handlefunc|method|group"""
    r"""|pathprefix)\(\s*["'`][^"']*(?:admin|internal|manage)"""
    r"""|@(?:get|post|put|patch|delete|request)mapping\([^)]*(?:admin|internal|manage)""",
    lowered=True,
)


@file_detector("unauthenticated_admin_route", needs=_ADMIN_ROUTE_HINT)
def unauthenticated_admin_route(ctx: FileContext, options: dict[str, Any]) -> Iterable[Hit]:
    if not ctx.may_match(_ADMIN_ROUTE_HINT):
        return  # no admin route to report
    text = ctx.text
    if "admin" not in text.lower() and "internal" not in text.lower():
        return
    if ctx.language != "java" and ctx.search(_ROUTER_WIDE_AUTH_HINT, _ROUTER_WIDE_AUTH, text):
        return
    routes: list[tuple[int, str, bool]] = []
    if ctx.language == "python":
        for m in ctx.finditer(_PY_ROUTE_HINT, _PY_ROUTE, text):
            guarded = m.group("decorators") + m.group("more") + m.group("signature")
            routes.append(
                (ctx.line_of(m.start("path")), m.group("path"), bool(_AUTH_MARKER.search(guarded)))
            )
    elif ctx.language == "go":
        routes = _go_routes(ctx)
    elif ctx.language == "java":
        routes = _java_routes(ctx)
    else:
        for m in ctx.finditer(_JS_ROUTE_HINT, _JS_ROUTE, text):
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
    if name == "pom.xml" or name.startswith("build.gradle"):
        loose = list(_loose_jvm_versions(ctx))
    elif name == "package.json":
        try:
            data = json.loads(ctx.text)
        except ValueError as exc:
            yield ParseProblem("json", f"{exc}"[:200])
            return
        if not isinstance(data, dict):
            return
        # what a workspace's `"*"` dependencies name (see security_repo.workspace_dependencies)
        if isinstance(data.get("name"), str):
            yield Fact("npm-package", data["name"])
        if data.get("workspaces"):
            yield Fact("npm-workspaces")
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


# Maven: <version>LATEST</version>, RELEASE, or an open range; Gradle: `:+`, `1.+`, `latest.*`
_MAVEN_DEPENDENCY = re.compile(
    r"<artifactId>\s*(?P<name>[^<\s]+)\s*</artifactId>\s*(?:<[^>]+>[^<]*</[^>]+>\s*)*?"
    r"<version>\s*(?P<version>LATEST|RELEASE|[\[(][^<]*,\s*[)\]])\s*</version>"
)
_GRADLE_DEPENDENCY = re.compile(
    r"""["'](?P<group>[\w.-]+):(?P<name>[\w.-]+):(?P<version>[\w.-]*\+|latest\.\w+)["']"""
)


def _loose_jvm_versions(ctx: FileContext) -> Iterable[tuple[int, str]]:
    pattern = _MAVEN_DEPENDENCY if ctx.path.endswith("pom.xml") else _GRADLE_DEPENDENCY
    for m in pattern.finditer(ctx.text):
        yield ctx.line_of(m.start("version")), m.group("name")


def _line_of_key(ctx: FileContext, key: str) -> int:
    m = re.search(r'"' + re.escape(key) + r'"\s*:', ctx.text)
    return ctx.line_of(m.start()) if m else 1
