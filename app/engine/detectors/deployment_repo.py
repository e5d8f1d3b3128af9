"""Repository-level deployment checks: a setting that must be made somewhere in the repository,
and migrations that come in up/down pairs."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from app.engine.detectors import RepoHit, RepoView, repo_detector
from app.engine.paths import roles_of


@repo_detector("fact_without_counterpart")
def fact_without_counterpart(view: RepoView, options: dict[str, Any]) -> Iterable[RepoHit]:
    """One finding at the first `fact` when none of the `unless` facts exists anywhere (a Gin
    engine and nothing that sets GIN_MODE=release); unlike `missing`/`when` it has a location."""
    found = view.where(str(options["fact"]))
    if not found or any(view.has(str(kind)) for kind in options.get("unless", ())):
        return
    path, fact = found[0]
    detail = str(options.get("detail", ""))
    yield RepoHit(path=path, line=fact.line, text=f"{options['fact']} {path}", detail=detail)


# golang-migrate and friends: NNN_name.up.sql next to NNN_name.down.sql
_UP = re.compile(r"^(?P<stem>.+)\.up\.sql$")


@repo_detector("up_migration_without_down")
def up_migration_without_down(view: RepoView, options: dict[str, Any]) -> Iterable[RepoHit]:
    paths = set(view.paths)
    for path in sorted(paths):
        m = _UP.match(path)
        if m is None or "test" in roles_of(path):
            continue
        if f"{m.group('stem')}.down.sql" not in paths:
            name = path.rsplit("/", 1)[-1]
            yield RepoHit(path=path, text=path, detail=f"{name} has no {name[:-7]}.down.sql")
