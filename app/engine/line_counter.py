"""Line numbers of offsets asked in ascending order, counted in one pass over the text.

`text.count("\\n", 0, offset)` per match reads the text from its start each time: quadratic in a
file with tens of thousands of matches (one comment or statement per line). A counter goes on
from the last offset it was asked; an offset before it starts the count again."""

from __future__ import annotations


class LineCounter:
    def __init__(self, text: str, newline: str = "\n") -> None:
        self.text = text
        self.newline = newline
        self._offset = 0
        self._line = 1

    def line_of(self, offset: int) -> int:
        """The 1-based line of character `offset`."""
        if offset < self._offset:
            self._offset, self._line = 0, 1
        self._line += self.text.count(self.newline, self._offset, offset)
        self._offset = offset
        return self._line
