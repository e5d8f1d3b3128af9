"""Format strings split into literal text and slots: Python `%` and `str.format`, printf
(`fmt.Sprintf`, `String.format`). A slot takes the argument it formats; numeric conversions
(`%d`, `{:d}`) are marked, since they cannot carry text."""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence

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
    in_order = iter(positional)

    def slot(m: re.Match[str]) -> list[Piece]:
        conversion = m.group("conv")
        if conversion == "%":
            return ["%"]
        key = m.group("key")
        node = keyed.get(key, whole) if key is not None else next(in_order, whole)
        return [Slot(node, conversion in _NUMERIC_CONVERSIONS)]

    return _split(template, _PERCENT, slot)


def str_format_slots(
    template: str, positional: Sequence[Node], keyed: dict[str, Node], spread: Sequence[Node]
) -> list[Piece]:
    """`template.format(...)`: `{}` / `{0}` / `{name}` (with `.attr` or `[key]` after it)
    take their argument; with `*args` or `**kwargs` an unmatched field takes those."""
    automatic = itertools.count()  # `{}` is the next number

    def slot(m: re.Match[str]) -> list[Piece]:
        if m.group(0) in ("{{", "}}"):
            return [m.group(0)[0]]
        field = re.split(r"[.\[]", m.group("field") or "", maxsplit=1)[0] or str(next(automatic))
        nodes: list[Node] = []
        if field.isdigit():
            index = int(field)
            if index < len(positional):
                nodes = [positional[index]]
        elif field in keyed:
            nodes = [keyed[field]]
        if not nodes:
            nodes = list(spread)
        spec = (m.group("spec") or "").strip()
        numeric = bool(spec) and spec[-1] in "dfneEgGxXob%"
        return [Slot(node, numeric) for node in nodes]

    return _split(template, _BRACES, slot)


def printf_slots(template: str, arguments: Sequence[Node]) -> list[Piece]:
    """printf formats (`fmt.Sprintf`, `String.format`): `%s` / `%v` / `%q` slots take the
    arguments in order (`%2$s` by index); `%d` and the like are numeric."""
    in_order = itertools.count()

    def slot(m: re.Match[str]) -> list[Piece]:
        verb = m.group("verb")
        if verb == "%" or verb == "n":
            return ["%" if verb == "%" else "\n"]
        index = int(m.group("index")) - 1 if m.group("index") else next(in_order)
        if 0 <= index < len(arguments):
            return [Slot(arguments[index], verb in _NUMERIC_CONVERSIONS)]
        return []

    return _split(template, _PRINTF, slot)


def _split(
    template: str, placeholder: re.Pattern[str], slot: Callable[[re.Match[str]], list[Piece]]
) -> list[Piece]:
    """`template` as its literal text between the `placeholder` matches and the pieces `slot`
    gives for each match (in template order: `slot` may count the positional ones)."""
    out: list[Piece] = []
    last = 0
    for m in placeholder.finditer(template):
        out.append(template[last : m.start()])
        last = m.end()
        out.extend(slot(m))
    out.append(template[last:])
    return out
