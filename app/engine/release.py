"""Release-relative judgement: a migration that already ran in production cannot be fixed and is
not a risk of the next release, so only migrations added or changed after the *baseline* (the last
release, the environment's last deployment, or a ref the team names) are judged. Pure: the caller
(the CLI with git, the App with GitHub's API) finds the baseline and the files changed since it;
this module chooses the release tag by one rule both use, and says which files are history.

The release tag is the first commit, walking back from the judged commit in `git log` order
(newest first, what `git rev-list` and GitHub's list-commits API both give), that carries a tag
matching the release globs; the walk stops after `MAX_WALK` commits.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from fnmatch import fnmatchcase

from app.engine.paths import language_of, roles_of

# Version-like tags: v1.2.3, 1.2.3, 2024.05, v4.1.3-rc1 (pre-releases included: a pre-release is
# deployed somewhere; `!*-*` in the config leaves them out).
DEFAULT_RELEASE_TAGS: tuple[str, ...] = ("v[0-9]*", "[0-9]*")
MAX_WALK = 1000  # commits walked back from the judged commit to find a release tag

_MIGRATION_LANGUAGES = frozenset(
    {"sql", "python", "xml", "yaml", "json", "javascript", "typescript", "go", "java", "kotlin"}
)
_NOT_MIGRATIONS = frozenset({"__init__.py", "env.py", "conftest.py"})


def is_migration_file(path: str) -> bool:
    """A migration (SQL, alembic/Django, Liquibase, Knex…) by its folder or its numbered name;
    not a package marker or a migration tool's environment script."""
    name = path.rpartition("/")[2]
    return (
        name not in _NOT_MIGRATIONS
        and "migration" in roles_of(path)
        and language_of(path) in _MIGRATION_LANGUAGES
    )


def tag_matches(name: str, globs: Iterable[str]) -> bool:
    """Whether a tag name matches the release globs: the last glob that matches decides, and a
    glob starting with `!` excludes (`["v*", "!*-*"]`: versions without a pre-release part)."""
    matched = False
    for glob in globs:
        if glob.startswith("!"):
            if fnmatchcase(name, glob[1:]):
                matched = False
        elif fnmatchcase(name, glob):
            matched = True
    return matched


def release_tag(
    tags_by_commit: Mapping[str, Iterable[str]],
    walk: Iterable[str],
    globs: Iterable[str] = DEFAULT_RELEASE_TAGS,
) -> tuple[str, str] | None:
    """(tag name, commit sha) of the release the judged commit builds on: the first commit of
    `walk` (commit shas, newest first, starting with the judged commit) that carries a matching
    tag (the greatest name when several do); None within MAX_WALK commits."""
    globs = tuple(globs)
    for i, sha in enumerate(walk):
        if i >= MAX_WALK:
            return None
        names = [n for n in tags_by_commit.get(sha, ()) if tag_matches(n, globs)]
        if names:
            return max(names), sha
    return None


@dataclass(frozen=True)
class ReleaseBaseline:
    """What the next deployment builds on and which files changed since it.

    `ref`: how the baseline is named in reports (`v4.1.3`, `deployment 1234 to production`), None
    when there is none; `source`: `option`, `config`, `deployment`, `tag` or `none`; `changed`:
    the paths added or changed since the baseline (None: unknown, every migration is judged).
    """

    ref: str | None
    source: str
    changed: frozenset[str] | None = None

    def applied(self, path: str) -> bool:
        """A migration file the baseline already holds unchanged (it ran in production)."""
        return self.changed is not None and path not in self.changed and is_migration_file(path)

    def with_changes(self, paths: Iterable[str]) -> ReleaseBaseline:
        """The same baseline with more paths counted as changed (a pull request's own files)."""
        if self.changed is None:
            return self
        return ReleaseBaseline(self.ref, self.source, self.changed | frozenset(paths))


NO_BASELINE = ReleaseBaseline(None, "none")

HOW_TO_SET = (
    "no release baseline (no release tag, no `baseline:` in .github/stopship.yml, no "
    "--baseline): every migration is judged; tag releases (e.g. v1.2.3) or set `baseline:` to "
    "judge only the migrations the next deployment runs"
)


@dataclass(frozen=True)
class MigrationHistory:
    """The report's line about migrations: how many are treated as applied, up to which baseline
    (or why every migration is judged)."""

    baseline: str | None
    source: str
    applied: int
    judged: int

    def describe(self) -> str:
        if self.baseline is None:
            return f"{self.judged} migration(s) judged: {HOW_TO_SET}" if self.judged else ""
        return (
            f"{self.applied} migration(s) up to {self.baseline} treated as applied; "
            f"{self.judged} added or changed since then judged"
        )


def _undoes(path: str) -> bool:
    """The down half of an up/down pair (`down.sql`, `0002_x.down.sql`, `U2__x.sql`): not a
    migration of its own."""
    name = path.rpartition("/")[2].lower()
    stem = name.rpartition(".")[0]
    flyway_undo = name.startswith("u") and name[1:2].isdigit() and "__" in name
    return stem == "down" or stem.endswith((".down", "_down")) or flyway_undo


def history_of(paths: Iterable[str], release: ReleaseBaseline) -> MigrationHistory:
    """Count the migrations (down files aside) the baseline holds unchanged, and those judged."""
    applied = judged = 0
    for path in paths:
        if not is_migration_file(path) or _undoes(path):
            continue
        if release.applied(path):
            applied += 1
        else:
            judged += 1
    return MigrationHistory(release.ref, release.source, applied, judged)
