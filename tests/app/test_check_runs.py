"""Publishing the `Production readiness` check run through githubkit to a fake GitHub on
127.0.0.1 whose every request is checked against GitHub's OpenAPI description."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from app.engine.memory import audit_files
from app.engine.ruleset import Ruleset
from app.github import check_runs
from app.github.client import app_client, installation_client
from tests.app.fake_github import FakeGitHub, start


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture
def fake() -> Iterator[FakeGitHub]:
    github = FakeGitHub()
    server = start(github)
    yield github
    server.shutdown()
    assert github.problems == [], github.problems  # every request matched the OpenAPI description


def report_with(n: int, ruleset: Ruleset):  # type: ignore[no-untyped-def]
    lines = "".join(
        f'def q{i}(c, x):\n    c.execute(f"DELETE FROM t{i} WHERE id = {{x}}")\n' for i in range(n)
    )
    files = {"app/queries.py": lines, "app/cli.py": "print('ok')\n", ".gitignore": ".env\n"}
    return audit_files(files, ruleset)


async def test_findings_go_out_in_batches_of_50_with_the_score_title(
    fake: FakeGitHub, key_pair: tuple[str, str], ruleset: Ruleset
) -> None:
    private, public = key_pair
    gh = installation_client(app_client(4242, private, fake.url), 77)
    report = report_with(120, ruleset)
    assert len([f for f in report.findings if f.path]) == 120
    run_id = await check_runs.start(gh, "octo", "shop", "a" * 40)
    sent = await check_runs.complete(gh, "octo", "shop", run_id, report, ruleset, "failure")

    assert sent == 3
    created = fake.calls("POST", "/repos/octo/shop/check-runs")
    assert created[0].body == {
        "name": "Production readiness",
        "head_sha": "a" * 40,
        "status": "in_progress",
    }
    updates = fake.calls("PATCH", f"/check-runs/{run_id}")
    assert [len(u.body["output"]["annotations"]) for u in updates] == [50, 50, 20]
    assert all(u.body["output"]["title"] == check_runs.title_of(report) for u in updates)
    assert "status" not in updates[0].body
    assert (updates[-1].body["status"], updates[-1].body["conclusion"]) == ("completed", "failure")
    first = updates[0].body["output"]["annotations"][0]
    assert first["annotation_level"] == "failure" and first["path"] == "app/queries.py"
    assert len(updates[0].body["output"]["summary"]) <= 65_535

    # one installation token for all of it, requested with a valid app JWT (RS256, 10 minutes)
    [token_request] = fake.calls("POST", "/app/installations/77/access_tokens")
    bearer = token_request.headers["Authorization"].removeprefix("Bearer ")
    claims = jwt.decode(bearer, public, algorithms=["RS256"])
    assert claims["iss"] == "4242"
    assert claims["iat"] < datetime.now(UTC).timestamp()
    assert claims["exp"] - claims["iat"] <= 600
    assert all(
        r.headers["Authorization"].endswith("ghs_16C7e42F292c6912E7710c838347Ae178B4a")
        for r in fake.requests
        if "/repos/" in r.path
    )


async def test_a_server_error_is_retried(
    fake: FakeGitHub, key_pair: tuple[str, str], ruleset: Ruleset
) -> None:
    fake.failures["POST /check-runs"] = [500]
    gh = installation_client(app_client(4242, key_pair[0], fake.url), 77)
    run_id = await check_runs.start(gh, "octo", "shop", "b" * 40)
    assert run_id > 0
    assert len(fake.calls("POST", "/check-runs")) == 2


async def test_an_internal_error_completes_the_check_run(
    fake: FakeGitHub, key_pair: tuple[str, str]
) -> None:
    gh = installation_client(app_client(4242, key_pair[0], fake.url), 77)
    run_id = await check_runs.start(gh, "octo", "shop", "c" * 40)
    await check_runs.fail(gh, "octo", "shop", run_id, "the tarball could not be read")
    [update] = fake.calls("PATCH", f"/check-runs/{run_id}")
    assert update.body["status"] == "completed"
    assert update.body["output"]["title"] == "stopship could not analyse this commit"


def test_the_fake_rejects_what_github_would_reject() -> None:
    from tests.app.fake_github import problems_with

    note = {
        "path": "a.py",
        "start_line": 1,
        "end_line": 1,
        "annotation_level": "warning",
        "message": "m",
    }
    too_many = {"output": {"title": "t", "summary": "s", "annotations": [note] * 51}}
    assert problems_with("PATCH", "/repos/o/r/check-runs/5", too_many)
    assert problems_with("POST", "/repos/o/r/check-runs", {"name": "x"})  # no head_sha
    assert problems_with("GET", "/no/such/endpoint", None)
    assert problems_with("POST", "/repos/o/r/check-runs", {"name": "x", "head_sha": "a"}) == []


def test_each_annotation_links_to_its_rules_page(ruleset: Ruleset) -> None:
    annotations = check_runs.annotations_of(report_with(2, ruleset))
    assert annotations
    for annotation in annotations:
        rule = annotation["title"].split()[0]
        assert annotation["raw_details"].endswith(
            f"\n\nRule documentation: https://github.com/stopship/stopship/blob/main/docs/rules/{rule}.md"
        )
