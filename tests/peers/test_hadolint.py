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

from tests.peers.comparison import (
    Difference,
    Peer,
    Shared,
    hadolint,
    peer_tests,
    trees,
)

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


(
    test_stopship_finds_what_hadolint_finds,
    test_every_deliberate_difference_still_occurs,
    test_comparison_summary,
) = peer_tests(PEER, TREES)
