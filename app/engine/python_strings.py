"""Where a Python file documents rather than configures: the lines of its string statements
(module, class and function docstrings, and bare strings). A connection URL or a password in a
docstring is an example for the reader, not a value the program uses.

Computed only for files where a rule already has a candidate hit: with `ast` (its parser is C),
and with `tokenize` for a source `ast` rejects (new syntax, a fragment), which keeps what it read
before the error.
"""

from __future__ import annotations

import ast
import io
import tokenize
from functools import lru_cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.engine.context import FileContext

_STATEMENT_START = frozenset({tokenize.NEWLINE, tokenize.INDENT, tokenize.DEDENT})
_SKIPPED = frozenset({tokenize.COMMENT, tokenize.NL})


@lru_cache(maxsize=8)
def documentation_lines(text: str) -> frozenset[int]:
    """1-based lines covered by string statements of a Python source text."""
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError):
        return _by_tokens(text)
    return _by_tree(tree)


def file_documentation_lines(ctx: FileContext) -> frozenset[int]:
    """`documentation_lines` of a file, read from the tree its other rules share (one parse per
    file) and remembered for the file's later rules."""
    found: frozenset[int] | None = ctx.memo.get(file_documentation_lines)
    if found is None:
        tree = ctx.python_ast
        found = _by_tree(tree) if tree is not None else _by_tokens(ctx.text)
        ctx.memo[file_documentation_lines] = found
    return found


def _by_tree(tree: ast.Module) -> frozenset[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Expr)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            lines.update(range(node.lineno, (node.end_lineno or node.lineno) + 1))
    return frozenset(lines)


def _by_tokens(text: str) -> frozenset[int]:
    lines: set[int] = set()
    previous = tokenize.NEWLINE  # the first token starts a statement
    pending: tuple[int, int] | None = None
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type in _SKIPPED:
                continue
            if pending is not None:
                if token.type in {tokenize.NEWLINE, tokenize.ENDMARKER} or token.string == ";":
                    lines.update(range(pending[0], pending[1] + 1))
                pending = None
            if token.type == tokenize.STRING and previous in _STATEMENT_START:
                pending = (token.start[0], token.end[0])
            previous = token.type
    except (tokenize.TokenError, SyntaxError):
        pass  # unfinished or invalid source: what was read so far stands
    return frozenset(lines)


def comment_lines(text: str) -> frozenset[int]:
    """1-based lines that hold nothing but a comment."""
    return frozenset(
        number for number, line in enumerate(text.splitlines(), 1) if line.lstrip().startswith("#")
    )
