"""Whether GitHub makes a branch's merges wait for our check: the rules that apply to the branch
(rulesets, through the branch rules API: Metadata read) and its classic protection (its required
status checks: Administration read, which the App may not be granted). The answer is kept a few
minutes per repository and branch (`RequiredChecks`), as the tags are (app/jobs/recent_commits.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, cast

from githubkit import GitHub
from githubkit.exception import RequestFailed

from app.github.check_runs import CHECK_NAME

MAX_RULE_PAGES = 3  # rules per branch come 100 a page; three pages are more than any repository has

Enforcement = Literal["required", "not_required", "unknown"]


@dataclass(frozen=True)
class BranchEnforcement:
    """`required`: a ruleset or classic protection requires the check on `branch`;
    `not_required`: the App read both and neither does; `unknown`: the App could not read the
    classic protection (no Administration permission) and no ruleset requires it."""

    branch: str
    state: Enforcement
    where: str = ""  # "a ruleset" / "classic branch protection" when required


def _contexts_of_rules(rules: list[dict[str, Any]]) -> set[str]:
    """The status check contexts the `required_status_checks` rules among `rules` require."""
    found: set[str] = set()
    for rule in rules:
        if not isinstance(rule, dict) or rule.get("type") != "required_status_checks":
            continue
        parameters = rule.get("parameters") or {}
        for check in parameters.get("required_status_checks") or []:
            if isinstance(check, dict) and isinstance(check.get("context"), str):
                found.add(check["context"])
    return found


async def _ruleset_contexts(gh: GitHub[Any], owner: str, name: str, branch: str) -> set[str]:
    found: set[str] = set()
    for page in range(1, MAX_RULE_PAGES + 1):
        response = await gh.rest.repos.async_get_branch_rules(
            owner, name, branch, per_page=100, page=page
        )
        rules = cast(list[dict[str, Any]], response.json())
        found |= _contexts_of_rules(rules if isinstance(rules, list) else [])
        if not isinstance(rules, list) or len(rules) < 100:
            break
    return found


async def _classic_contexts(gh: GitHub[Any], owner: str, name: str, branch: str) -> set[str] | None:
    """The classic protection's required contexts (empty: not protected, or no required checks);
    None when the App may not read them (403)."""
    try:
        response = await gh.rest.repos.async_get_status_checks_protection(owner, name, branch)
    except RequestFailed as exc:
        if exc.response.status_code == 404:  # not protected, or no required status checks
            return set()
        if exc.response.status_code == 403:  # the App has no Administration (read)
            return None
        raise
    data = cast(dict[str, Any], response.json())
    contexts = {c for c in data.get("contexts") or [] if isinstance(c, str)}
    contexts |= {
        str(c["context"])
        for c in data.get("checks") or []
        if isinstance(c, dict) and isinstance(c.get("context"), str)
    }
    return contexts


async def enforcement(
    gh: GitHub[Any], owner: str, name: str, branch: str, check: str = CHECK_NAME
) -> BranchEnforcement:
    """Whether merges into `branch` wait for `check` (see BranchEnforcement). A ruleset that
    requires it is enough: classic protection is then not asked."""
    if check in await _ruleset_contexts(gh, owner, name, branch):
        return BranchEnforcement(branch, "required", "a ruleset")
    classic = await _classic_contexts(gh, owner, name, branch)
    if classic is None:
        return BranchEnforcement(branch, "unknown")
    if check in classic:
        return BranchEnforcement(branch, "required", "classic branch protection")
    return BranchEnforcement(branch, "not_required")


def describe(found: BranchEnforcement, check: str = CHECK_NAME) -> str:
    """The check summary's sentence about `found`, with the setting to change when merges do not
    wait for the check."""
    branch = f"`{found.branch}`"
    if found.state == "required":
        return f"Merges into {branch} wait for this check (required by {found.where})."
    ruleset = (
        f"require it in a ruleset (Settings → Rules → Rulesets → a ruleset targeting {branch} → "
        f"Require status checks to pass → add `{check}`)"
    )
    if found.state == "not_required":
        return f"Merges into {branch} are **NOT blocked** by this check: {ruleset}."
    return (
        f"stopship cannot see whether merges into {branch} wait for this check: no ruleset "
        "requires it and the App may not read classic branch protection (grant the App "
        f"*Administration: read* to let it check, or {ruleset})."
    )
