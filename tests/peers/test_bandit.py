"""bandit on the Python files of the corpus and of targeted fixtures: for the classes both tools
check, stopship reports at least what bandit reports, on the same line. Where stopship
deliberately stays quiet, `DIFFERENCES` says why.

Not shared (stopship does not check these classes): B101 assert, B104 binding to 0.0.0.0 (right
inside a container), B108 /tmp paths, B311 `random`, B403/B404 imports of pickle/subprocess (an
import is not a use), B603/B607 subprocess without a shell.
"""

from __future__ import annotations

from tests.peers.comparison import (
    Difference,
    Peer,
    Shared,
    bandit,
    peer_tests,
    trees,
)

FIXTURE = "peers/fixtures/bandit"


def _test_file(code: str, line: int) -> Difference:
    return Difference(
        FIXTURE,
        code,
        "tests/test_login.py",
        line,
        "a fake password in a test file: tests are not production code (CHECKS.md)",
    )


PEER = Peer(
    "bandit",
    bandit,
    shared={
        "B602": Shared(("SEC004",)),  # subprocess with shell=True
        "B604": Shared(("SEC004",)),  # any other function with shell=True
        "B605": Shared(("SEC004",)),  # os.system / os.popen
        "B608": Shared(("SEC002",)),  # SQL built from strings
        "B105": Shared(("SEC001",)),  # hardcoded password string
        "B106": Shared(("SEC001",)),  # hardcoded password keyword argument
        "B107": Shared(("SEC001",)),  # hardcoded password default
        "B113": Shared(("ERR002",)),  # requests without timeout
        "B110": Shared(("ERR001",)),  # try/except/pass
        "B112": Shared(("ERR001",)),  # try/except/continue
        "B506": Shared(("SEC003",)),  # yaml.load
        "B307": Shared(("SEC003",)),  # eval
        "B102": Shared(("SEC003",)),  # exec
        "B301": Shared(("SEC003",)),  # pickle
        "B302": Shared(("SEC003",)),  # marshal
        "B501": Shared(("SEC010",)),  # requests with verify=False
        "B323": Shared(("SEC010",)),  # ssl._create_unverified_context
        "B201": Shared(("DEP001",)),  # Flask debug=True
    },
    differences=[
        Difference(
            FIXTURE,
            "B105",
            "app/credentials.py",
            27,
            "the value is the word 'password' itself (a form field's name), not a password",
        ),
        Difference(
            FIXTURE,
            "B105",
            "app/credentials.py",
            28,
            "a URL assigned to a *_TOKEN_URL name is an endpoint, not a token",
        ),
        Difference(
            FIXTURE,
            "B105",
            "app/credentials.py",
            29,
            "'changeme' is a placeholder; flagging placeholders teaches users to ignore the rule",
        ),
        Difference(
            FIXTURE,
            "B602",
            "app/shell.py",
            30,
            "shell=True on a literal command: no input reaches the shell (bandit itself rates"
            " it low: 'seems safe')",
        ),
        Difference(
            FIXTURE,
            "B605",
            "app/shell.py",
            31,
            "os.system on a literal command: no input reaches the shell (bandit: 'seems safe')",
        ),
        Difference(
            FIXTURE,
            "B113",
            "app/outbound.py",
            31,
            "the keyword arguments are a dict that carries a timeout",
        ),
        Difference(
            FIXTURE,
            "B113",
            "app/outbound.py",
            35,
            "the keyword arguments come from the caller, who may pass a timeout",
        ),
        _test_file("B105", 5),
        _test_file("B106", 11),
    ],
)
TREES = trees("*.py", "bandit")


(
    test_stopship_finds_what_bandit_finds,
    test_every_deliberate_difference_still_occurs,
    test_comparison_summary,
) = peer_tests(PEER, TREES)
