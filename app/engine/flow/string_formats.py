"""Format strings split into literal text and slots: Python `%` and `str.format`, printf
(`fmt.Sprintf`, `String.format`). A slot takes the argument it formats; numeric conversions
(`%d`, `{:d}`) are marked, since they cannot carry text."""

from __future__ import annotations

import re
from collections.abc import Sequence

from app.engine.flow.origin import Node, Piece, Slot

_PERCENT = re.compile(
    r"%(?:\((?P<key>[^)]*)\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[hlL]?(?P<conv>[a-zA-Z%])"
)
_BRACES = re.compile(r"\{\{|\}\}|\{(?P<field>[^{}!:]*)(?:![rsa])?(?::(?P<spec>[^{}]*))?\}")
_PRINTF = re.compile(r"%(?:(?P<index>\d+)\$)?[-#0 +,(]*(?:\*|\d+)?(?:\.\d+)?(?P<verb>[a-zA-Z%])")
_NUMERIC_CONVERSIONS = set("dioufFeEgGxXcbn")


def percent_slots(
    template: str, positional: Sequence[Node], keyed: dict[str, Node], whole: Node
) -> list[Piece]:
    """`template % values`: `%s` slots take the positional values in order, `%(name)s` the
    mapping's values; a value that cannot be matched to its slot fills every slot."""
    out: list[Piece] = []
    position = 0
    last = 0
    for m in _PERCENT.finditer(template):
        out.append(template[last : m.start()])
        last = m.end()
        conversion = m.group("conv")
        if conversion == "%":
            out.append("%")
            continue
        key = m.group("key")
        if key is not None:
            node = keyed.get(key, whole)
        elif position < len(positional):
            node = positional[position]
            position += 1
        else:
            node = whole
        out.append(Slot(node, conversion in _NUMERIC_CONVERSIONS))
    out.append(template[last:])
    return out


def str_format_slots(
    template: str, positional: Sequence[Node], keyed: dict[str, Node], spread: Sequence[Node]
) -> list[Piece]:
    """`template.format(...)`: `{}` / `{0}` / `{name}` (with `.attr` or `[key]` after it)
    take their argument; with `*args` or `**kwargs` an unmatched field takes those."""
    out: list[Piece] = []
    position = 0
    last = 0
    for m in _BRACES.finditer(template):
        out.append(template[last : m.start()])
        last = m.end()
        if m.group(0) in ("{{", "}}"):
            out.append(m.group(0)[0])
            continue
        field = re.split(r"[.\[]", m.group("field") or "", maxsplit=1)[0]
        nodes: list[Node] = []
        if field == "":
            if position < len(positional):
                nodes = [positional[position]]
            position += 1
        elif field.isdigit():
            index = int(field)
            if index < len(positional):
                nodes = [positional[index]]
        elif field in keyed:
            nodes = [keyed[field]]
        if not nodes:
            nodes = list(spread)
        spec = (m.group("spec") or "").strip()
        numeric = bool(spec) and spec[-1] in "dfneEgGxXob%"
        for node in nodes:
            out.append(Slot(node, numeric))
    out.append(template[last:])
    return out


def printf_slots(template: str, arguments: Sequence[Node]) -> list[Piece]:
    """printf formats (`fmt.Sprintf`, `String.format`): `%s` / `%v` / `%q` slots take the
    arguments in order (`%2$s` by index); `%d` and the like are numeric."""
    out: list[Piece] = []
    position = 0
    last = 0
    for m in _PRINTF.finditer(template):
        out.append(template[last : m.start()])
        last = m.end()
        verb = m.group("verb")
        if verb == "%" or verb == "n":
            out.append("%" if verb == "%" else "\n")
            continue
        if m.group("index"):
            index = int(m.group("index")) - 1
        else:
            index = position
            position += 1
        if 0 <= index < len(arguments):
            out.append(Slot(arguments[index], verb in _NUMERIC_CONVERSIONS))
    out.append(template[last:])
    return out
