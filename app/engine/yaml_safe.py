"""Every YAML stopship reads from a repository, read one bounded way: the C parser where PyYAML
has it, no object construction beyond plain data, and before anything is built the event stream
is checked for nesting depth and for what aliases would expand to (a 500-byte alias bomb names
billions of nodes; a 2 KB file nested 1,000 deep exhausts the recursion limit). Every failure is a
`YamlError` whose text says where and why, never a RecursionError or a traceback.
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.nodes import Node

MAX_DEPTH = 64  # collections inside collections
MAX_NODES = 200_000  # nodes the document stands for once every alias is expanded

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class YamlError(ValueError):
    """A YAML text that cannot be read safely or at all (str() says where and why)."""


def _where(mark: Any) -> str:
    return f"line {mark.line + 1}: " if mark is not None else ""


def check_limits(text: str) -> None:
    """Raise YamlError when the text nests deeper than MAX_DEPTH or its aliases would expand to
    more than MAX_NODES nodes (counted from the parser's events: nothing is built)."""
    depth = 0
    sizes: list[int] = []  # nodes in each open collection
    anchors: dict[str, int] = {}  # anchor -> the nodes it stands for
    open_anchors: list[str | None] = []
    total = 0
    try:
        for event in yaml.parse(text, Loader=_LOADER):
            if isinstance(event, yaml.CollectionStartEvent):
                depth += 1
                if depth > MAX_DEPTH:
                    raise YamlError(f"{_where(event.start_mark)}nested deeper than {MAX_DEPTH}")
                sizes.append(1)
                open_anchors.append(event.anchor)
                continue
            if isinstance(event, yaml.CollectionEndEvent):
                depth -= 1
                size = sizes.pop()
                anchor = open_anchors.pop()
                if anchor is not None:
                    anchors[anchor] = size
                if sizes:
                    sizes[-1] += size
                continue
            if isinstance(event, yaml.ScalarEvent):
                size = 1
                if event.anchor is not None:
                    anchors[event.anchor] = 1
            elif isinstance(event, yaml.AliasEvent):
                size = anchors.get(event.anchor or "", 1)
            else:
                continue
            total += size
            if total > MAX_NODES:
                raise YamlError(
                    f"{_where(event.start_mark)}aliases expand to more than {MAX_NODES} nodes"
                )
            if sizes:
                sizes[-1] += size
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise YamlError(f"{_where(mark)}not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:
        raise YamlError(f"nested deeper than {MAX_DEPTH}") from None


def load(text: str) -> Any:
    """The data of one YAML document (mappings, lists, strings, numbers, booleans, dates)."""
    check_limits(text)
    try:
        return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a SafeLoader
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise YamlError(f"{_where(mark)}not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as exc:
        # a tag whose value does not convert (`!!int abc`, `!!timestamp 2024-13-45`)
        problem = f"a value YAML cannot convert ({type(exc).__name__}: {exc})"
        raise YamlError(problem[:300]) from None


def compose_all(text: str) -> list[Node]:
    """Every document of a (multi-document) YAML text as node trees (with line numbers)."""
    check_limits(text)
    try:
        return [doc for doc in yaml.compose_all(text, Loader=_LOADER) if doc is not None]
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise YamlError(f"{_where(mark)}not valid YAML: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:
        raise YamlError(f"nested deeper than {MAX_DEPTH}") from None
