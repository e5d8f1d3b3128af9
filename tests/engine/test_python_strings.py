"""Documentation lines of Python sources: docstrings and bare strings, never code strings."""

from __future__ import annotations

from app.engine.python_strings import documentation_lines

SOURCE = '''"""Module docstring.

    create_engine("postgresql://scott:tiger@localhost/test")
"""
import x

URL = """postgresql://a:b@h/d"""


def f(
    a: int,
) -> None:
    """Function docstring with text("select * from t")."""
    query = (
        """SELECT * FROM t"""
    )
    call("""
        multi-line argument
    """)


class C:
    r\'\'\'Class docstring.\'\'\'

    x = 1
    "bare string statement"
'''


def test_docstrings_and_bare_strings_are_documentation() -> None:
    lines = documentation_lines(SOURCE)
    assert {1, 2, 3, 4} <= lines  # module docstring
    assert 13 in lines  # function docstring
    assert 23 in lines  # class docstring
    assert 26 in lines  # bare string


def test_strings_used_by_code_are_not_documentation() -> None:
    lines = documentation_lines(SOURCE)
    assert 7 not in lines  # assigned
    assert 15 not in lines  # parenthesised expression
    assert not {17, 18, 19} & lines  # call argument


def test_invalid_source_keeps_what_was_read() -> None:
    assert 1 in documentation_lines('"""doc"""\ndef broken(:\n')
