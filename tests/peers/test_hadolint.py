"""hadolint on the Dockerfiles of the corpus and of targeted fixtures: for the classes both tools
check, stopship reports at least what hadolint reports, on the same line. Where stopship
deliberately stays quiet, `DIFFERENCES` says why.

Not shared (stopship does not check these classes): version pins of OS and language packages
inside the image (DL3008 apt, DL3013 pip, DL3016 npm, DL3018 apk: the base image tag and the lock
files pin what matters, and exact apt pins break builds when the mirror drops old versions), pip's
cache (DL3042), `--no-install-recommends` (DL3015), numeric user ids (DL3066), shell form and
style (DL3025, DL3059, DL4006, DL3045, DL3020 ADD of local files).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.peers.comparison import Difference, Peer, Shared, describe, hadolint, label, trees

FIXTURE = "peers/fixtures/hadolint"
DEV_ONLY = "a dev container / dev Dockerfile is not what ships (CHECKS.md: not production code)"

PEER = Peer(
    "hadolint",
    hadolint,
    shared={
        "DL3002": Shared(("CTR001",)),  # last USER is root
        "DL3007": Shared(("CTR002",)),  # FROM ...:latest
        "DL3006": Shared(("CTR002",)),  # FROM without a tag
        "DL3009": Shared(("CTR005",)),  # apt lists not deleted
        "DL3019": Shared(("CTR005",)),  # apk add without --no-cache
    },
    differences=[
        Difference(
            FIXTURE,
            "DL3002",
            "root-in-build-stage/Dockerfile",
            2,
            "USER root in a build stage that is only copied from: that stage never runs in"
            " production; the final stage runs as 10001",
        ),
        Difference(FIXTURE, "DL3006", ".devcontainer/Dockerfile", 1, DEV_ONLY),
        Difference(FIXTURE, "DL3002", ".devcontainer/Dockerfile", 2, DEV_ONLY),
        Difference(FIXTURE, "DL3007", "dev/Dockerfile.dev", 1, DEV_ONLY),
    ],
)
TREES = trees("Dockerfile", "hadolint")


@pytest.mark.parametrize("tree", TREES, ids=label)
def test_stopship_finds_what_hadolint_finds(tree: Path) -> None:
    result = PEER.compare(tree)
    assert not result.missed, describe([result], PEER.name)


def test_every_deliberate_difference_still_occurs() -> None:
    assert not PEER.unused_differences(TREES)


def test_comparison_summary() -> None:
    """The per-tree table (`pytest -s` prints it); the fixtures exercise every shared class."""
    results = [PEER.compare(tree) for tree in TREES]
    print("\n" + describe(results, PEER.name))
    exercised = {f.code for r in results for f in r.matched}
    assert exercised == set(PEER.shared), f"not exercised: {set(PEER.shared) - exercised}"
