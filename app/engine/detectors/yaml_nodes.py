"""YAML with line numbers: compose files, Kubernetes manifests and workflows are read as node
trees (`yaml.compose_all`, safe: no object construction) so findings point at the offending key."""

from __future__ import annotations

from collections.abc import Iterator

from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from app.engine import yaml_safe


class YamlDocumentError(ValueError):
    pass


def documents(text: str) -> list[Node]:
    """Every document of a (multi-document) YAML file; YamlDocumentError when it does not parse
    or is beyond the limits of app/engine/yaml_safe.py (an alias bomb, nesting 1,000 deep)."""
    try:
        return yaml_safe.compose_all(text)
    except yaml_safe.YamlError as exc:
        raise YamlDocumentError(str(exc).replace("\n", " ")[:200]) from exc


def line(node: Node) -> int:
    """1-based line of a node."""
    return int(node.start_mark.line) + 1


def items(node: Node | None) -> Iterator[tuple[str, Node, Node]]:
    """(key, key node, value node) of a mapping; nothing for anything else."""
    if isinstance(node, MappingNode):
        for key, value in node.value:
            if isinstance(key, ScalarNode):
                yield str(key.value), key, value


def get(node: Node | None, key: str) -> Node | None:
    for name, _, value in items(node):
        if name == key:
            return value
    return None


def key_node(node: Node | None, key: str) -> Node | None:
    for name, k, _ in items(node):
        if name == key:
            return k
    return None


def scalar(node: Node | None) -> str | None:
    return str(node.value) if isinstance(node, ScalarNode) else None


def sequence(node: Node | None) -> list[Node]:
    return list(node.value) if isinstance(node, SequenceNode) else []


def path(node: Node | None, *keys: str) -> Node | None:
    for key in keys:
        node = get(node, key)
        if node is None:
            return None
    return node
