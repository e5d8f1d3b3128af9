"""A fake GitHub REST API on 127.0.0.1 for the App's tests.

It answers with the examples of GitHub's official OpenAPI description (`@octokit/openapi`, fetched
into .cache/github by scripts/setup_test_assets.sh) and checks every request it receives against
that description: the path and method exist, the JSON body validates against the operation's
request schema (so `annotations` longer than 50 or a missing `head_sha` are caught). Failures to
inject (status codes, with headers such as a spent rate limit's) can be queued per operation,
and requests can be held until the test releases them (to make races deterministic).

The tarball endpoint answers `302` to an archive URL under `/_codeload/`, which stands for
codeload.github.com (not part of the API, so not validated against its description); the
archive is `git archive` of the commit. `truncate_trees_at` cuts recursive trees as GitHub does
for very large repositories.
"""

from __future__ import annotations

import base64
import json
import re
import subprocess
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jsonschema

from app.app_manifest import OPERATIONS, grants, required_permissions

ROOT = Path(__file__).resolve().parents[2]
OPENAPI = ROOT / ".cache" / "github" / "openapi" / "generated" / "api.github.com.deref.json"


@cache
def openapi() -> dict[str, Any]:
    assert OPENAPI.is_file(), "run scripts/setup_test_assets.sh (.ci/run does) first"
    return json.loads(OPENAPI.read_text())


@cache
def _routes() -> list[tuple[re.Pattern[str], str]]:
    out = []
    for template in openapi()["paths"]:
        # `{path}` (file paths) spans segments; every other parameter is one segment
        pattern = template.replace("{path}", "\0PATH\0")
        pattern = re.sub(r"\{[^/}]+\}", r"[^/]+", pattern).replace("\0PATH\0", ".+")
        pattern = "^" + pattern + "$"
        out.append((re.compile(pattern), template))
    # literal segments first, so /repos/{o}/{r}/check-runs/{id} does not take a fixed path
    out.sort(key=lambda item: item[1].count("{"))
    return out


def operation(method: str, path: str) -> tuple[str, dict[str, Any]] | None:
    for pattern, template in _routes():
        if pattern.match(path):
            op = openapi()["paths"][template].get(method.lower())
            if op is not None:
                return template, op
    return None


def problems_with(method: str, path: str, body: Any) -> list[str]:
    found = operation(method, path)
    if found is None:
        return [f"{method} {path}: not in GitHub's OpenAPI description"]
    template, op = found
    schema = op.get("requestBody", {}).get("content", {}).get("application/json", {}).get("schema")
    if schema is None or body is None:
        return []
    validator = jsonschema.Draft7Validator(schema)
    found = [f"{method} {template}: {e.message}"[:300] for e in validator.iter_errors(body)]
    if not found and "anyOf" in schema and isinstance(body, dict):
        # anyOf branches do not forbid extra keys, so `state: "approve"` would pass as a mere
        # comment: some branch that accepts the body must also declare every key it sends
        shared = set(schema.get("properties", {}))
        declared = [
            shared | set(branch.get("properties", {}))
            for branch in schema["anyOf"]
            if jsonschema.Draft7Validator(branch).is_valid(body)
        ]
        if not any(set(body) <= keys for keys in declared):
            found.append(f"{method} {template}: no variant of the body declares {sorted(body)}")
    return found


def permission_problems(method: str, path: str) -> list[str]:
    """The App's permission table (app/app_manifest.py) must list every operation it calls, and
    its manifest must grant what the operation needs."""
    # a path can match two operations (`compare/{basehead}` and `compare/{base}...{head}`)
    matching = [
        op["operationId"]
        for pattern, template in _routes()
        if pattern.match(path)
        and (op := openapi()["paths"][template].get(method.lower())) is not None
    ]
    if not matching:
        return []  # reported by problems_with
    listed = [operation_id for operation_id in matching if operation_id in OPERATIONS]
    if not listed:
        return [f"{method} {path}: {matching[0]} is not in app/app_manifest.py's OPERATIONS"]
    operation_id = listed[0]
    if not grants(required_permissions(), OPERATIONS[operation_id]):
        return [f"{method} {path}: the App's manifest does not grant {operation_id}"]
    return []


def credential_problems(path: str, authorization: str | None) -> list[str]:
    """`/app/...` is GitHub's API for the App itself: only its JWT (`Bearer`) is accepted there,
    and only an installation's token (`token`) on a repository."""
    scheme = (authorization or "").split(" ", 1)[0]
    if path.startswith("/app/") and scheme != "Bearer":
        return [f"{path}: needs the App's JWT, got {scheme or 'no credentials'}"]
    if path.startswith("/repos/") and scheme != "token":
        return [f"{path}: needs an installation token, got {scheme or 'no credentials'}"]
    return []


def hook_delivery(
    delivery_id: int,
    guid: str,
    event: str,
    status_code: int,
    delivered_at: datetime,
    redelivery: bool = False,
) -> dict[str, Any]:
    """One attempt as `GET /app/hook/deliveries` lists it (its description's example, filled)."""
    item = example("GET", "/app/hook/deliveries", "200")[0]
    item.update(
        id=delivery_id,
        guid=guid,
        event=event,
        action=None,
        status_code=status_code,
        status="OK" if 200 <= status_code < 300 else f"Invalid HTTP Response: {status_code}",
        delivered_at=delivered_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        redelivery=redelivery,
        throttled_at=None,
    )
    return item


def example(method: str, path: str, status: str) -> Any:
    found = operation(method, path)
    assert found is not None
    content = found[1]["responses"][status]["content"]["application/json"]
    examples = content.get("examples") or {}
    first = next(iter(examples.values()))
    return json.loads(json.dumps(first["value"]))


@dataclass
class Recorded:
    method: str
    path: str
    headers: dict[str, str]
    body: Any
    at: float = field(default_factory=time.time)  # when it arrived (wall clock)


CODELOAD = "/_codeload/"
HOLD_DEADLINE = 30.0


@dataclass
class Raw:
    """A response that is not JSON (a redirect, an archive)."""

    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str = "application/octet-stream"


# an injected failure: a status, or a status with response headers
Failure = int | tuple[int, dict[str, str]]


def spent_quota(reset_in: float) -> dict[str, str]:
    """Rate-limit headers saying nothing is left until `reset_in` seconds from now."""
    reset = int(datetime.now(UTC).timestamp() + reset_in)
    return {
        "x-ratelimit-limit": "5000",
        "x-ratelimit-remaining": "0",
        "x-ratelimit-reset": str(reset),
    }


def rate_limited(reset_in: float) -> Failure:
    """A primary rate limit: 403, nothing left, the quota back in `reset_in` seconds."""
    return 403, spent_quota(reset_in)


@dataclass
class FakeGitHub:
    requests: list[Recorded] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    # "PATCH check-runs" -> [500]; "GET /git/blobs/" -> [rate_limited(3600)]
    failures: dict[str, list[Failure]] = field(default_factory=dict)
    # "GET /git/blobs/" -> an event: such requests wait until it is set (at most HOLD_DEADLINE s)
    holds: dict[str, threading.Event] = field(default_factory=dict)
    next_check_run: int = 1000
    check_runs: dict[str, list[int]] = field(default_factory=dict)  # head sha -> run ids
    # run id -> name, head_sha, external_id and status (as created, then patched)
    run_states: dict[int, dict[str, Any]] = field(default_factory=dict)
    url: str = ""
    repo_dir: Path | None = None  # a real git repository whose commits the fake serves
    # pull request number -> (base branch, head branch) of repo_dir; shas are read from git
    pulls: dict[int, tuple[str, str]] = field(default_factory=dict)
    fork_pulls: set[int] = field(default_factory=set)  # pull requests whose head is a fork's
    # issue / pull request number -> its conversation, oldest first
    comments: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    permissions: dict[str, str] = field(default_factory=dict)  # login -> admin|maintain|write|read
    next_comment: int = 5000
    bot_login: str = "stopship[bot]"
    truncate_trees_at: int | None = None
    # deployments, newest first: {"id": 7, "sha": ..., "environment": "production",
    # "state": "success"} (the state of its latest status)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    # the App's webhook deliveries as `GET /app/hook/deliveries` lists them, newest first
    # ({"id", "guid", "delivered_at", "status_code", "event", ...}: see `hook_delivery`)
    hook_deliveries: list[dict[str, Any]] = field(default_factory=list)
    redelivered: list[int] = field(default_factory=list)  # attempt ids asked to be redone
    # "GET /git/trees/" -> headers added to the next such response (e.g. a spent rate limit)
    response_headers: dict[str, list[dict[str, str]]] = field(default_factory=dict)
    # the repository's open Dependabot alerts as GitHub lists them (`dependabot_alert`); None:
    # the App may not read them (403)
    dependabot_alerts: list[dict[str, Any]] | None = field(default_factory=list)
    # branch -> the rules that apply to it (`repos/get-branch-rules`'s items)
    branch_rules: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # branch -> its classic protection's required contexts (absent: not protected, 404); None:
    # the App may not read classic protection (403)
    classic_checks: dict[str, list[str]] | None = field(default_factory=dict)
    _trees: dict[str, bytes] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def calls(self, method: str, fragment: str) -> list[Recorded]:
        return [r for r in self.requests if r.method == method and fragment in r.path]

    def add_comment(self, number: int, login: str, body: str, kind: str = "User") -> dict[str, Any]:
        """A comment in a conversation, as GitHub stores it (the tests' users and the App)."""
        comment = example("POST", "/repos/o/r/issues/1/comments", "201")
        self.next_comment += 1
        comment.update(
            id=self.next_comment,
            body=body,
            html_url=f"https://github.com/octo/shop/pull/{number}#issuecomment-{self.next_comment}",
        )
        comment["user"] = dict(comment["user"], login=login, type=kind)
        self.comments.setdefault(number, []).append(comment)
        return comment

    def replies(self, number: int) -> list[dict[str, Any]]:
        """The App's comments in a conversation."""
        return [c for c in self.comments.get(number, []) if c["user"]["login"] == self.bot_login]

    def _conversation_response(
        self, method: str, path: str, body: Any, query: dict[str, str]
    ) -> tuple[int, Any] | None:
        """Pull requests, issue comments, reactions, collaborator permissions and deployment
        protection rule reviews, against the state the test set up."""
        parts = path.split("/")
        if method == "GET" and len(parts) == 6 and parts[4] == "pulls":
            number = int(parts[5])
            if number not in self.pulls:
                return 404, {"message": "Not Found"}
            base_ref, head_ref = self.pulls[number]
            pr = example(method, path, "200")
            # the description's example predates fields githubkit's models require
            pr.update(number=number, state="open", labels=[], requested_teams=[])
            for side, ref in (("base", base_ref), ("head", head_ref)):
                sha = self._git("rev-parse", ref).stdout.decode().strip()
                pr[side] = dict(pr[side], ref=ref, sha=sha, label=f"octo:{ref}")
            return 200, pr
        if len(parts) == 7 and parts[4] == "issues" and parts[6] == "comments":
            number = int(parts[5])
            thread = self.comments.setdefault(number, [])
            if method == "GET":
                per_page = int(query.get("per_page", "30"))
                page = int(query.get("page", "1"))
                return 200, thread[(page - 1) * per_page : page * per_page]
            if method == "POST":
                if len(body["body"]) > 65_536:
                    self.problems.append(f"comment body of {len(body['body'])} characters")
                    return 422, {"message": "Validation Failed"}
                return 201, self.add_comment(number, self.bot_login, body["body"], "Bot")
        if len(parts) == 7 and parts[4] == "issues" and parts[5] == "comments":
            comment_id = int(parts[6])
            mine = [c for t in self.comments.values() for c in t if c["id"] == comment_id]
            if not mine:
                return 404, {"message": "Not Found"}
            if mine[0]["user"]["login"] != self.bot_login:
                self.problems.append(f"the App edited someone else's comment {comment_id}")
                return 403, {"message": "Forbidden"}
            if len(body["body"]) > 65_536:
                self.problems.append(f"comment body of {len(body['body'])} characters")
                return 422, {"message": "Validation Failed"}
            mine[0]["body"] = body["body"]
            return 200, mine[0]
        if method == "POST" and len(parts) == 8 and parts[7] == "reactions":
            reaction = example(method, path, "201")
            reaction["content"] = body["content"]
            return 201, reaction
        if method == "GET" and len(parts) == 7 and parts[4] == "collaborators":
            role = self.permissions.get(parts[5])
            if role is None:
                return 404, {"message": "Not Found"}
            answer = example(method, path, "200")
            permission = "write" if role == "maintain" else role
            answer.update(permission=permission, role_name=role)
            answer["user"] = dict(answer["user"], login=parts[5], role_name=role)
            return 200, answer
        if method == "POST" and path.endswith("/deployment_protection_rule"):
            return 204, None
        if method == "GET" and len(parts) == 7 and parts[4] == "commits" and parts[6] == "pulls":
            return 200, self._pulls_of(path, parts[5])
        if method == "GET" and len(parts) >= 6 and parts[4] == "branches" and self.repo_dir:
            branch = "/".join(parts[5:])
            found = self._git("rev-parse", "--verify", "--quiet", f"refs/heads/{branch}")
            if found.returncode:
                return 404, {"message": "Branch not found"}
            answer = example(method, path, "200")
            answer["name"] = branch
            answer["commit"] = dict(answer["commit"], sha=found.stdout.decode().strip())
            return 200, answer
        return None

    def _pulls_of(self, path: str, sha: str) -> list[dict[str, Any]]:
        """The open pull requests (`self.pulls`) whose head branch points at `sha`; a fork's
        (`self.fork_pulls`) are not listed, as GitHub lists none for them."""
        if self.repo_dir is None:
            return []
        template = example("GET", path, "200")[0]
        out = []
        for number, (base_ref, head_ref) in sorted(self.pulls.items()):
            if number in self.fork_pulls:
                continue
            head = self._git("rev-parse", head_ref).stdout.decode().strip()
            if head != sha:
                continue
            base = self._git("rev-parse", base_ref).stdout.decode().strip()
            if self._git("merge-base", "--is-ancestor", head, base).returncode == 0:
                continue  # merged: GitHub closes it
            pr = dict(template, number=number, state="open")
            pr["base"] = dict(template["base"], ref=base_ref, sha=base)
            pr["head"] = dict(template["head"], ref=head_ref, sha=head)
            out.append(pr)
        return out

    def count(self, method: str, fragment: str) -> int:
        return len(self.calls(method, fragment))

    def extra_headers(self, method: str, path: str) -> dict[str, str]:
        for name, queued in self.response_headers.items():
            wanted_method, fragment = name.split(" ", 1)
            if wanted_method == method and fragment in path and queued:
                return queued.pop(0)
        return {}

    def held(self, method: str, fragment: str) -> None:
        event = self.holds.get(f"{method} {fragment}")
        if event is not None:
            event.wait(HOLD_DEADLINE)

    def prepare_tree(self, sha: str) -> None:
        """Build the listing of `sha` now (the benchmark times the worker, not the fake)."""
        self._tree(f"/repos/octo/repo/git/trees/{sha}", sha)

    def _tree(self, path: str, sha: str) -> tuple[int, Any]:
        cached = self._trees.get(f"{sha}:{self.truncate_trees_at}")
        if cached is not None:
            return 200, Raw(cached, content_type="application/json; charset=utf-8")
        listing = self._git("ls-tree", "-r", "-t", "-l", sha)
        if listing.returncode:
            return 404, {"message": "Not Found"}
        tree = []
        for line in listing.stdout.decode().splitlines():
            meta, name = line.split("\t", 1)
            mode, kind, blob, size = meta.split()
            entry: dict[str, Any] = {
                "path": name,
                "mode": mode,
                "type": kind,
                "sha": blob,
                "url": f"{self.url}/blob/{blob}",
            }
            if kind == "blob":
                entry["size"] = int(size)
            tree.append(entry)
        truncated = self.truncate_trees_at is not None and len(tree) > self.truncate_trees_at
        if truncated:
            tree = tree[: self.truncate_trees_at]
        body = json.dumps(
            {"sha": sha, "url": self.url + path, "tree": tree, "truncated": truncated}
        ).encode()
        self._trees[f"{sha}:{self.truncate_trees_at}"] = body
        return 200, Raw(body, content_type="application/json; charset=utf-8")

    def _git(self, *args: str) -> subprocess.CompletedProcess[bytes]:
        assert self.repo_dir is not None
        return subprocess.run(["git", *args], cwd=self.repo_dir, capture_output=True, check=False)

    def _git_response(self, path: str, query: dict[str, str]) -> tuple[int, Any] | None:
        parts = path.split("/")
        if path.startswith(CODELOAD):  # /_codeload/{owner}/{repo}/legacy.tar.gz/{ref}
            owner, repo, ref = parts[2], parts[3], parts[5]
            archive = self._git(
                "archive", "--format=tar.gz", f"--prefix={owner}-{repo}-{ref[:7]}/", ref
            )
            if archive.returncode:
                return 404, {"message": "Not Found"}
            return 200, Raw(archive.stdout, content_type="application/x-gzip")
        if len(parts) >= 6 and parts[4] == "tarball":
            owner, repo, ref = parts[2], parts[3], "/".join(parts[5:])
            location = f"{self.url}{CODELOAD}{owner}/{repo}/legacy.tar.gz/{ref}?token=short-lived"
            return 302, Raw(b"", headers={"Location": location})
        if len(parts) >= 7 and parts[4] == "git" and parts[5] == "trees":
            return self._tree(path, parts[6])
        if len(parts) >= 7 and parts[4] == "git" and parts[5] == "blobs":
            blob = self._git("cat-file", "blob", parts[6])
            if blob.returncode:
                return 404, {"message": "Not Found"}
            return 200, {
                "sha": parts[6],
                "node_id": "B_" + parts[6][:8],
                "size": len(blob.stdout),
                "url": self.url + path,
                "encoding": "base64",
                "content": base64.b64encode(blob.stdout).decode(),
            }
        if len(parts) >= 6 and parts[4] == "compare":
            base, _, head = "/".join(parts[5:]).partition("...")
            diff = self._git("diff", "--name-status", "-M", base, head)
            if diff.returncode:
                return 404, {"message": "Not Found"}
            comparison = example("GET", path, "200")
            template = comparison["files"][0]
            files = []
            for line in diff.stdout.decode().splitlines():
                status, *names = line.split("\t")
                entry = dict(template, filename=names[-1], additions=1, deletions=0, changes=1)
                entry.pop("previous_filename", None)
                entry["status"] = {"A": "added", "D": "removed", "R": "renamed"}.get(
                    status[0], "modified"
                )
                if status[0] == "R":
                    entry["previous_filename"] = names[0]
                files.append(entry)
            comparison["files"] = files
            base_sha = self._git("rev-parse", f"{base}^{{commit}}").stdout.decode().strip()
            comparison["base_commit"] = dict(comparison["base_commit"], sha=base_sha)
            return 200, comparison
        if len(parts) == 5 and parts[4] == "tags":
            return 200, self._page(self._tags(path), query)
        if len(parts) == 5 and parts[4] == "commits":
            per_page, page = int(query.get("per_page", "30")), int(query.get("page", "1"))
            listed = self._git(
                "rev-list",
                f"--max-count={per_page}",
                f"--skip={(page - 1) * per_page}",
                query.get("sha", "HEAD"),
            )
            if listed.returncode:
                return 404, {"message": "Not Found"}
            template = example("GET", path, "200")[0]
            return 200, [dict(template, sha=sha) for sha in listed.stdout.decode().split()]
        if len(parts) >= 6 and parts[4] == "contents":
            file_path = "/".join(parts[5:])
            shown = self._git("show", f"{query.get('ref', 'HEAD')}:{file_path}")
            if shown.returncode:
                return 404, {"message": "Not Found"}
            content = example("GET", path, "200")
            if isinstance(content, list):  # the example of a directory listing
                return 404, {"message": "Not Found"}
            content.update(
                type="file",
                encoding="base64",
                size=len(shown.stdout),
                name=file_path.rsplit("/", 1)[-1],
                path=file_path,
                content=base64.b64encode(shown.stdout).decode(),
            )
            return 200, content
        return None

    def _tags(self, path: str) -> list[dict[str, Any]]:
        """The repository's tags as GitHub lists them (newest name first), commits peeled."""
        listed = self._git(
            "for-each-ref",
            "--sort=-refname",
            "--format=%(refname:strip=2) %(objectname) %(*objectname)",
            "refs/tags",
        )
        template = example("GET", path, "200")[0]
        out = []
        for line in listed.stdout.decode().splitlines():
            name, obj, peeled = [*line.split(" "), ""][:3]
            commit = dict(template["commit"], sha=peeled or obj)
            out.append(dict(template, name=name, commit=commit))
        return out

    @staticmethod
    def _page(items: list[Any], query: dict[str, str]) -> list[Any]:
        per_page, page = int(query.get("per_page", "30")), int(query.get("page", "1"))
        return items[(page - 1) * per_page : page * per_page]

    def _deployment_response(
        self, method: str, path: str, query: dict[str, str]
    ) -> tuple[int, Any] | None:
        """Deployments (`self.deployments`, newest first) and their latest statuses."""
        parts = path.split("/")
        if method != "GET" or len(parts) < 5 or parts[4] != "deployments":
            return None
        if len(parts) == 5:
            template = example("GET", path, "200")[0]
            wanted = query.get("environment")
            listed = [
                dict(template, id=d["id"], sha=d["sha"], environment=d["environment"])
                for d in self.deployments
                if wanted is None or d["environment"] == wanted
            ]
            return 200, self._page(listed, query)
        if len(parts) == 7 and parts[6] == "statuses":
            found = [d for d in self.deployments if str(d["id"]) == parts[5]]
            if not found:
                return 404, {"message": "Not Found"}
            template = example("GET", path, "200")[0]
            return 200, self._page([dict(template, state=found[0]["state"])], query)
        return None

    def _protection_response(
        self, method: str, path: str, query: dict[str, str]
    ) -> tuple[int, Any] | None:
        """Dependabot alerts (open ones, high or critical as asked), the rules that apply to a
        branch and its classic protection's required status checks."""
        if method != "GET":
            return None
        parts = path.split("/")
        if len(parts) == 6 and parts[4:] == ["dependabot", "alerts"]:
            if self.dependabot_alerts is None:
                return 403, {"message": "Resource not accessible by integration"}
            wanted = set(query.get("severity", "low,medium,high,critical").split(","))
            listed = [
                a for a in self.dependabot_alerts
                if a["state"] == query.get("state", a["state"])
                and a["security_vulnerability"]["severity"] in wanted
            ]  # fmt: skip
            return 200, listed[: int(query.get("per_page", "30"))]
        if len(parts) >= 7 and parts[4:6] == ["rules", "branches"]:
            return 200, self.branch_rules.get("/".join(parts[6:]), [])
        if len(parts) >= 8 and parts[4] == "branches" and parts[-2:] == [
            "protection",
            "required_status_checks",
        ]:
            branch = "/".join(parts[5:-2])
            if self.classic_checks is None:
                return 403, {"message": "Resource not accessible by integration"}
            if branch not in self.classic_checks:
                return 404, {"message": "Branch not protected"}
            answer = example(method, path, "200")
            contexts = self.classic_checks[branch]
            checks = [{"context": c, "app_id": None} for c in contexts]
            answer.update(contexts=contexts, checks=checks)
            return 200, answer
        return None

    def _hook_response(
        self, method: str, path: str, query: dict[str, str]
    ) -> tuple[int, Any] | None:
        """The App's webhook deliveries: listed newest first, `per_page` at a time, the next
        page named by a `cursor` in the Link header as GitHub does; redeliveries recorded."""
        if method == "GET" and path == "/app/hook/deliveries":
            per_page = min(int(query.get("per_page", "30")), 100)
            start = int(query.get("cursor", "v1_0").removeprefix("v1_"))
            page = self.hook_deliveries[start : start + per_page]
            headers = {}
            if start + per_page < len(self.hook_deliveries):
                following = f"{self.url}/app/hook/deliveries?per_page={per_page}"
                headers["Link"] = f'<{following}&cursor=v1_{start + per_page}>; rel="next"'
            return 200, Raw(json.dumps(page).encode(), headers, "application/json")
        parts = path.split("/")
        if method == "POST" and len(parts) == 6 and parts[1:4] == ["app", "hook", "deliveries"]:
            delivery_id = int(parts[4])
            if not any(d["id"] == delivery_id for d in self.hook_deliveries):
                return 404, {"message": "Not Found"}
            self.redelivered.append(delivery_id)
            return 202, {}
        return None

    def respond(
        self, method: str, path: str, body: Any, query: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        for name, statuses in self.failures.items():
            wanted_method, fragment = name.split(" ", 1)
            if wanted_method == method and fragment in path and statuses:
                failure = statuses.pop(0)
                status, headers = failure if isinstance(failure, tuple) else (failure, {})
                message = "API rate limit exceeded" if status == 403 else "injected failure"
                return status, Raw(json.dumps({"message": message}).encode(), headers=headers)
        for name in self.holds:
            wanted_method, fragment = name.split(" ", 1)
            if wanted_method == method and fragment in path:
                self.held(wanted_method, fragment)
        if method == "GET" and self.repo_dir is not None:
            answered = self._git_response(path, query or {})
            if answered is not None:
                return answered
        answered = self._protection_response(method, path, query or {})
        if answered is not None:
            return answered
        answered = self._conversation_response(method, path, body, query or {})
        if answered is not None:
            return answered
        answered = self._deployment_response(method, path, query or {})
        if answered is not None:
            return answered
        answered = self._hook_response(method, path, query or {})
        if answered is not None:
            return answered
        if method == "POST" and path.endswith("/access_tokens"):
            token = example(method, path, "201")
            token["expires_at"] = (datetime.now(UTC) + timedelta(hours=1)).strftime(
                "%Y-%m-%dT%H:%M:%SZ"
            )
            return 201, token
        if method == "POST" and path.endswith("/check-runs"):
            run = example(method, path, "201")
            with self._lock:
                self.next_check_run += 1
                run_id = self.next_check_run
            self.check_runs.setdefault(str(body.get("head_sha")), []).append(run_id)
            state = {k: body.get(k) for k in ("name", "head_sha", "external_id")}
            self.run_states[run_id] = dict(state, status=body.get("status") or "queued")
            run.update(self.run_states[run_id], id=run_id)
            return 201, run
        if method == "PATCH" and "/check-runs/" in path:
            run = example(method, path, "200")
            run["id"] = int(path.rsplit("/", 1)[-1])
            if run["id"] in self.run_states and body.get("status"):
                self.run_states[run["id"]]["status"] = body["status"]
            return 200, run
        if method == "GET" and "/commits/" in path and path.endswith("/check-runs"):
            return 200, self._runs_of(method, path, query or {})
        return 404, {"message": "Not Found (fake)"}

    def _runs_of(self, method: str, path: str, query: dict[str, str]) -> dict[str, Any]:
        """GET /repos/{o}/{r}/commits/{sha}/check-runs: the runs created on that commit."""
        sha = path.split("/commits/", 1)[1].split("/", 1)[0]
        listing = example(method, path, "200")
        template = listing["check_runs"][0]
        runs = [
            dict(template, id=run_id, **self.run_states[run_id])
            for run_id in self.check_runs.get(sha, [])
            if run_id in self.run_states
            and query.get("check_name", self.run_states[run_id]["name"])
            == self.run_states[run_id]["name"]
            and query.get("status", self.run_states[run_id]["status"])
            == self.run_states[run_id]["status"]
        ]
        return dict(listing, total_count=len(runs), check_runs=runs)


def start(fake: FakeGitHub) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            path, _, raw_query = self.path.partition("?")
            query = dict(urllib.parse.parse_qsl(raw_query))
            fake.requests.append(Recorded(self.command, path, dict(self.headers), body))
            if not path.startswith(CODELOAD):
                fake.problems.extend(problems_with(self.command, path, body))
                fake.problems.extend(credential_problems(path, self.headers.get("Authorization")))
                fake.problems.extend(permission_problems(self.command, path))
            status, payload = fake.respond(self.command, path, body, query)
            if not isinstance(payload, Raw):
                encoded = b"" if status == 204 else json.dumps(payload).encode()
                payload = Raw(encoded, content_type="application/json")
            payload.headers.update(fake.extra_headers(self.command, path))
            data = payload.body
            self.send_response(status)
            self.send_header("Content-Type", payload.content_type)
            for name, value in payload.headers.items():
                self.send_header(name, value)
            if status == 429:  # a secondary rate limit: come back in a second
                self.send_header("Retry-After", "1")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _handle

        def log_message(self, format: str, *args: Any) -> None:
            return

    Handler.protocol_version = "HTTP/1.1"  # keep-alive, as GitHub
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
