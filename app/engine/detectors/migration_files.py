"""What a migration file's path and text say about it: whether it is a down migration, where its
up part ends, and where it runs in its folder's sequence."""

from __future__ import annotations

import re

_DOWN = re.compile(r"(^|[/._-])(down|rollback|revert|undo)([/._-]|$)", re.IGNORECASE)
_FLYWAY_UNDO = re.compile(r"^U\d+(?:[._]\d+)*__")
# single-file migration tools put the down part after a marker: dbmate, goose, sql-migrate
_DOWN_SECTION = re.compile(
    r"^--\s*(?:migrate:down|\+goose\s+down|\+migrate\s+down)\b", re.IGNORECASE | re.MULTILINE
)
# the folders migration tools keep their sequence in (Flyway db/migration, Prisma, diesel,
# alembic versions, Liquibase changelog)
_SEQUENCE_ROOTS = {"migrations", "migration", "versions", "migrate", "changelog"}


def is_down_migration(path: str) -> bool:
    name = path.rsplit("/", 1)[-1]
    return bool(_DOWN.search(name)) or "/down/" in path or bool(_FLYWAY_UNDO.match(name))


def up_part(text: str) -> str:
    """The text before a down-section marker (the whole text when there is none)."""
    marker = _DOWN_SECTION.search(text)
    return text[: marker.start()] if marker else text


def migration_order(path: str) -> list[tuple[int, int | str]]:
    """A sort key that puts migrations in the order they run (`V2__` before `V10__`)."""
    name = path.rsplit("/", 1)[-1]
    return _natural(name)


def _natural(text: str) -> list[tuple[int, int | str]]:
    return [(0, int(p)) if p.isdigit() else (1, p) for p in re.split(r"(\d+)", text) if p]


def sequence_position(path: str) -> tuple[str, list[tuple[int, int | str]]]:
    """(the folder that holds the migration sequence, the file's place in it): one file per
    migration (`db/migration/V3__x.sql`) or one folder per migration
    (`prisma/migrations/20240101_x/migration.sql`, `migrations/2024-01-01_x/up.sql`)."""
    parts = path.split("/")
    roots = [i for i, part in enumerate(parts[:-1]) if part.lower() in _SEQUENCE_ROOTS]
    cut = roots[-1] + 1 if roots else len(parts) - 1
    return "/".join(parts[:cut]), _natural("/".join(parts[cut:]))
