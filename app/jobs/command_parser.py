"""Reading a `/production ...` command out of a comment. Pure and strict: the comment is read as
Markdown (CommonMark, markdown-it-py) and only a line of a top-level paragraph's text that starts
with `/production` is a command: never code (fenced, indented or inline), a quote, a list, an
HTML comment or block. The first such line within the comment's first MAX_SCANNED_LINES lines
wins, and it is at most MAX_LINE characters long. Anything else in the comment is never read.

Grammar:
    /production score | check | report | help
    /production waive ID REASON... [until YYYY-MM-DD]
    /production unwaive ID
    /production confirm ITEM EVIDENCE... [until YYYY-MM-DD]
    /production unconfirm ITEM
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from markdown_it import MarkdownIt

from app.engine.attestations import describe_items, item_of

PREFIX = "/production"
MAX_LINE = 512
MAX_SCANNED_LINES = 200
VIEWS = frozenset({"score", "check", "report"})
FINDING_ID = re.compile(r"^[0-9a-f]{6,40}$")
ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
USAGE_WAIVE = "`/production waive ID reason [until YYYY-MM-DD]`"
USAGE_UNWAIVE = "`/production unwaive ID`"
USAGE_CONFIRM = "`/production confirm ITEM evidence [until YYYY-MM-DD]`"
USAGE_UNCONFIRM = "`/production unconfirm ITEM`"
STATE_CHANGING = frozenset({"waive", "unwaive", "confirm", "unconfirm"})


@dataclass(frozen=True)
class Command:
    """One parsed command. `name` is score, check, report, help, waive, unwaive, confirm or
    unconfirm; `unknown` for a subcommand we do not have, `invalid` for a known one used wrongly
    (`error` says how). `reason` is a waiver's reason or an attestation's evidence."""

    name: str
    text: str
    finding_id: str | None = None
    reason: str | None = None
    until: date | None = None
    error: str | None = None
    item: str | None = None

    @property
    def changes_state(self) -> bool:
        """waive, unwaive, confirm and unconfirm, also when used wrongly: the commenter's
        permission is checked before anything else is said about them."""
        words = self.text.split()
        return len(words) > 1 and words[1].lower() in STATE_CHANGING


_MARKDOWN = MarkdownIt("commonmark")
_NOT_TEXT = "\0"  # stands for inline code or HTML: a line that starts with it is no command


def _paragraph_lines(body: str) -> list[str]:
    """The text lines of the top-level paragraphs of `body` (Markdown), in order."""
    lines: list[str] = []
    for token in _MARKDOWN.parse(body):
        # an inline token at level 1 is the content of a paragraph at the top level (a quote's
        # or a list item's paragraph is deeper; code and HTML blocks have no inline content)
        if token.type != "inline" or token.level != 1 or token.map is None:
            continue
        if token.map[0] >= MAX_SCANNED_LINES:
            break
        text = ""
        for child in token.children or []:
            if child.type == "text":
                text += child.content
            elif child.type in ("softbreak", "hardbreak"):
                text += "\n"
            elif child.type in ("code_inline", "html_inline"):
                text += _NOT_TEXT
        lines += text.split("\n")
    return lines


def command_line(body: str) -> str | None:
    """The first line of `body`'s paragraph text that is a `/production` command, or None."""
    for raw in _paragraph_lines(body):
        line = raw.strip()
        if not line.startswith(PREFIX):
            continue
        rest = line[len(PREFIX) :]
        if rest and not rest[0].isspace():
            continue  # `/productionize` is not our command
        return line
    return None


def parse(body: str, today: date) -> Command | None:
    """The command in a comment body, or None when the comment has none. `today` decides whether
    a waiver's `until` date lies in the future."""
    line = command_line(body)
    if line is None:
        return None
    if len(line) > MAX_LINE:
        return Command(
            "invalid", line[:60] + "…", error=f"a command is at most {MAX_LINE} characters"
        )
    words = line.split()
    if len(words) == 1:
        return Command("help", line)
    sub = words[1].lower()
    args = words[2:]
    if sub in VIEWS or sub == "help":
        if args:
            return Command("invalid", line, error=f"`/production {sub}` takes no arguments")
        return Command(sub, line)
    if sub == "waive":
        return _waive(line, args, today)
    if sub == "unwaive":
        if len(args) != 1:
            return Command("invalid", line, error=f"usage: {USAGE_UNWAIVE}")
        problem = _id_problem(args[0])
        if problem:
            return Command("invalid", line, error=problem)
        return Command("unwaive", line, finding_id=args[0].lower())
    if sub == "confirm":
        return _confirm(line, args, today)
    if sub == "unconfirm":
        if len(args) != 1:
            return Command("invalid", line, error=f"usage: {USAGE_UNCONFIRM}")
        return _with_item(Command("unconfirm", line), args[0])
    return Command("unknown", line, error=f"`{_echo(sub)}` is not a stopship command")


def _echo(word: str) -> str:
    """A word of the command, fit to be shown back inside a code span."""
    return word[:40].replace("`", "'")


def _id_problem(word: str) -> str | None:
    if FINDING_ID.match(word.lower()):
        return None
    return (
        f"`{_echo(word)}` is not a finding id: use the 8-character id shown beside each finding "
        "(or a longer prefix of its fingerprint)"
    )


def _waive(line: str, args: list[str], today: date) -> Command:
    if not args:
        return Command("invalid", line, error=f"a finding id is missing: {USAGE_WAIVE}")
    problem = _id_problem(args[0])
    if problem:
        return Command("invalid", line, error=problem)
    finding_id, words = args[0].lower(), args[1:]
    ended = _trailing_until(line, words, today, "a waiver")
    if isinstance(ended, Command):
        return ended
    words, until = ended
    reason = " ".join(words)
    if not reason:
        return Command(
            "invalid",
            line,
            error=f"a waiver needs a reason, so the risk is documented: {USAGE_WAIVE}",
        )
    return Command("waive", line, finding_id=finding_id, reason=reason, until=until)


def _trailing_until(
    line: str, words: list[str], today: date, what: str
) -> tuple[list[str], date | None] | Command:
    """`words` without a trailing `until YYYY-MM-DD`, and that date (None without one); or the
    invalid command saying what is wrong with it."""
    untils = [i for i, w in enumerate(words) if w.lower() == "until"]
    if not untils:
        return words, None
    if untils != [len(words) - 2]:
        # `until next week` or `until` inside the reason: never guess an end date
        return Command(
            "invalid",
            line,
            error="`until` takes a date and comes last: `until YYYY-MM-DD` "
            "(leave the word out of the reason)",
        )
    text = words[-1]
    try:
        if not ISO_DATE.match(text):
            raise ValueError(text)
        until = date.fromisoformat(text)
    except ValueError:
        return Command(
            "invalid", line, error=f"`until {_echo(text)}`: not a date, write it as YYYY-MM-DD"
        )
    if until <= today:
        return Command(
            "invalid",
            line,
            error=f"`until {text}` is not in the future: {what}'s end date must be after "
            f"today ({today.isoformat()})",
        )
    return words[:-2], until


def _with_item(command: Command, word: str) -> Command:
    """`command` naming the attestation `word` stands for, or the invalid command listing the
    items when it names none."""
    item = item_of(word)
    if item is None:
        return Command(
            "invalid",
            command.text,
            error=f"`{_echo(word)}` is not an attestation; the items are: {describe_items()}",
        )
    return Command(
        command.name, command.text, reason=command.reason, until=command.until, item=item
    )


def _confirm(line: str, args: list[str], today: date) -> Command:
    if not args:
        return Command("invalid", line, error=f"an item is missing: {USAGE_CONFIRM}")
    ended = _trailing_until(line, args[1:], today, "an attestation")
    if isinstance(ended, Command):
        return ended
    words, until = ended
    evidence = " ".join(words)
    command = _with_item(Command("confirm", line, reason=evidence, until=until), args[0])
    if command.name == "confirm" and not evidence:
        return Command(
            "invalid",
            line,
            error=f"a confirmation needs its evidence (a link, a date, a runbook): {USAGE_CONFIRM}",
        )
    return command
