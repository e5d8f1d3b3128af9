"""YAML from a repository is read within bounds: an alias bomb, a file nested 1,000 deep and a
tag whose value does not convert are a config error naming the file (or a parse problem of the
file), never minutes of work, gigabytes, a RecursionError or a traceback."""

from __future__ import annotations

import time

import pytest

from app.engine.analyze import Analyzer
from app.engine.config import ConfigError, parse_config
from app.engine.yaml_safe import MAX_DEPTH, YamlError, check_limits, load

BOMB = (
    "a: &a [x, x, x, x, x, x, x, x, x]\n"
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
)
DEEP = "a: " + "[" * 1000 + "]" * 1000 + "\n"


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (BOMB, "aliases expand to more than"),
        ("a: " + "[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1) + "\n", f"deeper than {MAX_DEPTH}"),
        (DEEP, "nest"),  # libyaml's own limit or ours, whichever comes first
        ("a: !!int abc\n", "a value YAML cannot convert"),
        ("a: !!timestamp 2024-13-45\n", "a value YAML cannot convert"),
        ("a: [1, 2\n", "not valid YAML"),
    ],
)
def test_hostile_yaml_is_an_error_that_says_why(text: str, problem: str) -> None:
    started = time.perf_counter()
    with pytest.raises(YamlError) as error:
        load(text)
    assert problem in str(error.value)
    assert time.perf_counter() - started < 5  # bounded, not minutes


def test_ordinary_yaml_with_anchors_reads_as_before() -> None:
    text = "base: &base {image: app, replicas: 2}\nweb: {<<: *base, port: 80}\nlist: [*base]\n"
    check_limits(text)
    assert load(text)["web"] == {"image": "app", "replicas": 2, "port": 80}


def test_a_config_bomb_is_a_config_error_naming_the_file() -> None:
    with pytest.raises(ConfigError) as error:
        nested = "".join(f"    {line}\n" for line in BOMB.splitlines())
        parse_config(("rules:\n  severity:\n" + nested).encode())
    assert str(error.value).startswith(".github/stopship.yml: ")
    for text in (DEEP, "min_score: !!int abc\n"):
        with pytest.raises(ConfigError) as error:
            parse_config(text.encode())
        assert str(error.value).startswith(".github/stopship.yml: ")


@pytest.mark.parametrize(
    ("path", "head"),
    [
        ("docker-compose.yml", "services:\n  web: {image: app}\n"),
        ("k8s/deployment.yaml", "apiVersion: apps/v1\nkind: Deployment\n"),
        (".github/workflows/ci.yml", "on: push\njobs: {}\n"),
    ],
)
def test_a_hostile_manifest_is_a_parse_problem_of_the_file(
    analyzer: Analyzer, path: str, head: str
) -> None:
    for text in (head + BOMB, head + DEEP):
        started = time.perf_counter()
        result = analyzer.analyze(path, text.encode())
        assert time.perf_counter() - started < 5
        assert any("YAML" in p.message or "nest" in p.message or "aliases" in p.message
                   for p in result.problems), (path, result.problems)  # fmt: skip
