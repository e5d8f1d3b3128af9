"""A bounded hypothesis run on webhook deliveries: GitHub's real examples of every event the App
handles (@octokit/webhooks-examples), mutated (a value anywhere replaced, removed or nested,
the bytes cut or flipped), signed and posted to the app on SQLite. No delivery is answered 500:
each is stored (202), a redelivery (200), ignored (204) or refused (400)."""

from __future__ import annotations

import asyncio
import itertools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.jobs.handlers import SUPPORTED_EVENTS
from app.settings import Settings
from app.store.db import make_engine
from app.store.migrate import upgrade
from app.web.app import create_app
from app.web.signature import sign

EXAMPLES = Path(__file__).resolve().parents[2] / ".cache/github/webhooks-examples/api.github.com"
SECRET = b"fuzz-secret"
# bounded for CI: about 10 s on a shared 2-core machine
RUN = settings(
    max_examples=150, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)


def examples() -> list[tuple[str, dict[str, Any]]]:
    assert (EXAMPLES / "index.json").is_file(), "run scripts/setup_test_assets.sh first"
    found = []
    for entry in json.loads((EXAMPLES / "index.json").read_text()):
        if entry["name"] in SUPPORTED_EVENTS:
            for example in entry["examples"]:
                found.append((entry["name"], {"installation": {"id": 77}, **example}))
    return found


EVENTS = examples()
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=30),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3)
    ),
    max_leaves=10,
)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[str, bytes]:
    """An example of a handled event, one value somewhere in it changed, and its JSON bytes
    (sometimes cut or with a byte flipped)."""
    event, payload = draw(st.sampled_from(EVENTS))
    payload = json.loads(json.dumps(payload))
    node: Any = payload
    for _ in range(draw(st.integers(0, 6))):  # walk down to a random container
        children = list(node) if isinstance(node, dict) else list(range(len(node)))
        children = [c for c in children if isinstance(node[c], dict | list) and node[c]]
        if not children:
            break
        node = node[draw(st.sampled_from(children))]
    keys = list(node) if isinstance(node, dict) else list(range(len(node)))
    if keys:
        key = draw(st.sampled_from(keys))
        how = draw(st.sampled_from(["replace", "remove", "nest"]))
        if how == "replace":
            node[key] = draw(json_values)
        elif how == "remove":
            del node[key]
        else:
            node[key] = [[[node[key]]]]
    body = json.dumps(payload).encode()
    damage = draw(st.sampled_from(["none", "none", "cut", "flip"]))
    if damage == "cut":
        body = body[: draw(st.integers(0, len(body)))]
    elif damage == "flip" and body:
        at = draw(st.integers(0, len(body) - 1))
        body = body[:at] + bytes([body[at] ^ draw(st.integers(1, 255))]) + body[at + 1 :]
    return draw(st.sampled_from([event, event, "ping"])), body


@pytest.fixture(scope="module")
def deliver(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    url = f"sqlite+aiosqlite:///{tmp_path_factory.mktemp('fuzz')}/stopship.db"
    upgrade(url)
    # the jobs this queues call a GitHub that is not there (127.0.0.1:9, refused at once)
    app = create_app(
        Settings(
            database_url=url, github_webhook_secret=SECRET.decode(),
            github_api_url="http://127.0.0.1:9", inline_concurrency=1,
        ),
        make_engine(url),
    )  # fmt: skip
    loop = asyncio.new_event_loop()
    client = httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://127.0.0.1")
    ids = itertools.count()

    def post(event: str, body: bytes) -> httpx.Response:
        headers = {
            "X-GitHub-Event": event,
            "X-GitHub-Delivery": f"fuzz-{next(ids)}",
            "X-Hub-Signature-256": sign(body, SECRET),
            "Content-Type": "application/json",
        }
        sent = client.post("/webhooks/github", content=body, headers=headers)
        return loop.run_until_complete(sent)

    yield post
    loop.run_until_complete(app.state.queue.drain())
    loop.run_until_complete(client.aclose())
    loop.close()


@RUN
@given(delivery=mutated())
def test_no_mutated_delivery_is_a_500(deliver: Any, delivery: tuple[str, bytes]) -> None:
    event, body = delivery
    response = deliver(event, body)
    assert response.status_code in {200, 202, 204, 400}, (response.status_code, response.text)
