"""Which deliveries serialise and supersede each other, on GitHub's real example payloads."""

from __future__ import annotations

from typing import Any

from app.github.events import Event, parse_event
from app.jobs.subject import JobSubject
from app.jobs.subject import job_subject as subject_of
from tests.app.test_webhook import example


def job_subject(event: str, payload: dict[str, Any]) -> JobSubject:
    """The subject of a delivery of GitHub's example, as the App receives it."""
    parsed: Event = parse_event(event, {"installation": {"id": 1}, **payload})
    return subject_of(parsed)


def test_pushes_to_one_branch_share_a_lock_and_supersede_each_other() -> None:
    push = example("push")
    subject = job_subject("push", push)
    assert subject.lock == subject.supersede == f"{push['repository']['id']}:ref:{push['ref']}"
    assert subject.sha == push["after"]


def test_a_branch_deletion_judges_no_commit() -> None:
    push = example("push")
    push["after"] = "0" * 40
    assert job_subject("push", push).sha is None


def test_a_comment_on_a_pull_request_shares_its_lock_but_supersedes_nothing() -> None:
    pr = example("pull_request", "opened")
    comment = example("issue_comment", "created")
    comment["repository"] = pr["repository"]
    comment["issue"]["number"] = pr["pull_request"]["number"]
    comment["issue"]["pull_request"] = {"url": "https://api.github.com/x"}
    pr_subject = job_subject("pull_request", pr)
    comment_subject = job_subject("issue_comment", comment)
    assert comment_subject.lock == pr_subject.lock
    assert comment_subject.supersede is None
    assert pr_subject.sha == pr["pull_request"]["head"]["sha"]


def test_check_suite_and_merge_group_lock_on_their_commit() -> None:
    suite = example("check_suite", "requested")
    group = example("merge_group", "checks_requested")
    assert job_subject("check_suite", suite).sha == suite["check_suite"]["head_sha"]
    assert job_subject("merge_group", group).lock.endswith(group["merge_group"]["head_sha"])


def test_a_payload_without_a_repository_has_no_subject() -> None:
    assert job_subject("ping", {"zen": "x"}).lock is None
    assert subject_of(parse_event("ping", {"zen": "x"})).lock is None
