"""The readiness badge: a shields-style SVG (`readiness | B 84`) made here, with no request to
any other service. Every text in it is escaped."""

from __future__ import annotations

from html import escape

COLOURS = {"A": "#4c1", "B": "#97ca00", "C": "#dfb317", "D": "#fe7d37", "F": "#e05d44"}
UNKNOWN = "#9f9f9f"
CHAR_WIDTH = 7  # Verdana 11px, roughly; shields.io measures, a fixed width is close enough
PADDING = 10


def _width(text: str) -> int:
    return len(text) * CHAR_WIDTH + PADDING


def badge_svg(grade: str, score: int, label: str = "readiness") -> str:
    """The badge of a grade and score."""
    value = f"{grade} {score}"
    colour = COLOURS.get(grade, UNKNOWN)
    left, right = _width(label), _width(value)
    total = left + right
    label_text, value_text = escape(label), escape(value)
    title = escape(f"{label}: grade {grade}, score {score}/100")
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total}" height="20" role="img" '
        f'aria-label="{title}"><title>{title}</title>'
        f'<rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{colour}"/>'
        '<g fill="#fff" text-anchor="middle" '
        'font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2}" y="14">{label_text}</text>'
        f'<text x="{left + right / 2}" y="14">{value_text}</text>'
        "</g></svg>"
    )
