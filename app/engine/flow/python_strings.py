"""The strings Python code builds, as pieces of literal text and spliced values: f-strings,
implicitly concatenated literals, `%` formatting and `str.format` (the `+` of any text is
PythonFlow's, shared with the other grammars)."""

from __future__ import annotations

from app.engine.flow.origin import Node, Piece, Slot, field_text, first_named_child, named_children
from app.engine.flow.string_formats import percent_slots, str_format_slots


def formatted_pieces(node: Node) -> list[Piece] | None:
    """The pieces of an f-string, of literals written side by side, of `"..." % values` or of
    `"...".format(...)`; None for any other node (a plain literal included)."""
    kind = node.kind()
    if kind == "string":
        if not any(c.kind() == "interpolation" for c in node.children()):
            return None
        return _fstring_pieces(node)
    if kind == "concatenated_string":
        out: list[Piece] = []
        for part in node.children():
            if part.kind() == "string":
                out.extend(_fstring_pieces(part))
        return out
    if kind == "binary_operator":
        left, right = node.field("left"), node.field("right")
        percent = field_text(node, "operator") == "%"
        if percent and left is not None and right is not None and is_plain_string(left):
            return _percent_pieces(string_text(left), right)
        return None
    if kind == "call":
        callee = node.field("function")
        if (
            callee is not None
            and callee.kind() == "attribute"
            and field_text(callee, "attribute") == "format"
        ):
            template = callee.field("object")
            if template is not None and is_plain_string(template):
                return _format_pieces(string_text(template), node.field("arguments"))
    return None


def is_plain_string(node: Node) -> bool:
    """A string literal with nothing interpolated."""
    return node.kind() == "string" and not any(c.kind() == "interpolation" for c in node.children())


def string_text(node: Node) -> str:
    """The literal text of a string (without its quotes and prefix)."""
    return "".join(c.text() for c in node.children() if c.kind() == "string_content")


def _fstring_pieces(node: Node) -> list[Piece]:
    out: list[Piece] = []
    for child in node.children():
        kind = child.kind()
        if kind == "string_content":
            out.append(child.text())
        elif kind == "interpolation":
            expression = first_named_child(child)
            spec = child.find(kind="format_specifier")
            numeric = spec is not None and spec.text().rstrip()[-1:] in ("d", "f", "n", "e", "g")
            if expression is not None:
                out.append(Slot(expression, numeric))
    return out


def _percent_pieces(template: str, values: Node) -> list[Piece]:
    if values.kind() == "parenthesized_expression":
        inner = first_named_child(values)
        values = inner if inner is not None else values
    positional = named_children(values) if values.kind() == "tuple" else [values]
    keyed = {}
    if values.kind() == "dictionary":
        for pair in values.children():
            if pair.kind() == "pair" and pair.field("key") is not None:
                keyed[string_text(pair.field("key"))] = pair.field("value")
    return percent_slots(template, positional, keyed, values)


def _format_pieces(template: str, arguments: Node | None) -> list[Piece]:
    positional: list[Node] = []
    keyed: dict[str, Node] = {}
    spread: list[Node] = []
    for argument in named_children(arguments):
        if argument.kind() == "keyword_argument":
            name, value = argument.field("name"), argument.field("value")
            if name is not None and value is not None:
                keyed[name.text()] = value
        elif argument.kind() in ("list_splat", "dictionary_splat"):
            spread.append(argument)
        else:
            positional.append(argument)
    return str_format_slots(template, positional, keyed, spread)
