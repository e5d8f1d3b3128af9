"""JPA entities read from Java source with ast-grep: the foreign key columns of their `@ManyToOne`
/ `@OneToOne` associations and the indexes `@Table` declares (as facts, compared across files by
the foreign-key rule), and entities that keep no creation or update timestamp."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ast_grep_py import SgNode

from app.engine.context import FileContext
from app.engine.detectors import file_detector
from app.engine.model import Fact, Hit

_STRING_ATTRIBUTE = r'\b{}\s*=\s*"([^"]*)"'
_TIMESTAMP_ANNOTATIONS = frozenset(
    {"CreationTimestamp", "UpdateTimestamp", "CreatedDate", "LastModifiedDate"}
)
_TIMESTAMP_WORDS = re.compile(r"created|updated|modified|inserted|timestamp", re.IGNORECASE)
# A line that starts with a timestamp annotation: a member's (not a comment's or a string's).
_TIMESTAMP_ANNOTATION_LINE = re.compile(
    rb"^[ \t]*@(?:CreationTimestamp|UpdateTimestamp|CreatedDate|LastModifiedDate)\b", re.MULTILINE
)
_ENTITY_ANNOTATION = re.compile(rb"@Entity\b")
# Entities that map something other than a table of rows the application writes.
_READ_ONLY_ANNOTATIONS = frozenset({"Immutable", "Subselect", "View"})
_ASSOCIATIONS = frozenset({"ManyToOne", "OneToOne"})


@dataclass
class Member:
    """A persistent field (or getter) of an entity: its name, type and annotations."""

    name: str
    type: str
    line: int
    annotations: dict[str, str]  # simple annotation name -> its text


@dataclass
class JavaClass:
    name: str
    line: int
    annotations: dict[str, str]
    superclass: str | None
    members: list[Member] = field(default_factory=list)

    @property
    def is_entity(self) -> bool:
        return "Entity" in self.annotations

    def table(self) -> str:
        """The table name: `@Table(name = ...)`, else the class name as Spring's default naming
        turns it (`OrderLine` -> `order_line`; names are compared without underscores, so plain
        Hibernate's `OrderLine` is the same table)."""
        found = _attribute(self.annotations.get("Table", ""), "name")
        return found or _snake(self.name)


def _attribute(annotation: str, name: str) -> str | None:
    found = re.search(_STRING_ATTRIBUTE.format(name), annotation)
    return found.group(1) if found else None


def normalized(name: str) -> str:
    """A table or column name as compared: lower case, no quotes, no underscores."""
    return name.strip('"`').replace("_", "").lower()


def _annotations(node: SgNode | None) -> dict[str, str]:
    out: dict[str, str] = {}
    if node is None:
        return out
    for child in node.children():
        if child.kind() in ("annotation", "marker_annotation"):
            name = child.field("name")
            if name is not None:
                out[name.text().rsplit(".", 1)[-1]] = child.text()
    return out


def _modifiers(node: SgNode) -> SgNode | None:
    return next((c for c in node.children() if c.kind() == "modifiers"), None)


def java_classes(ctx: FileContext) -> list[JavaClass]:
    """Every class declared in the file, with its annotations and persistent members."""
    classes = []
    for node in ctx.sg_root.find_all(kind="class_declaration"):
        name = node.field("name")
        body = node.field("body")
        if name is None or body is None:
            continue
        superclass = node.field("superclass")
        base = None
        if superclass is not None:
            base = superclass.text().removeprefix("extends").strip().split("<", 1)[0].strip()
        cls = JavaClass(
            name.text(),
            node.range().start.line + 1,
            _annotations(_modifiers(node)),
            base.rsplit(".", 1)[-1] if base else None,
        )
        cls.members = list(_members(body))
        classes.append(cls)
    return classes


def _members(body: SgNode) -> Iterator[Member]:
    for child in body.children():
        kind = child.kind()
        if kind == "field_declaration":
            annotations = _annotations(_modifiers(child))
            type_node = child.field("type")
            for declarator in child.children():
                if declarator.kind() == "variable_declarator":
                    name = declarator.field("name")
                    if name is not None:
                        yield Member(
                            name.text(),
                            type_node.text() if type_node else "",
                            child.range().start.line + 1,
                            annotations,
                        )
        elif kind == "method_declaration":
            # property access: the mapping annotations sit on the getter
            annotations = _annotations(_modifiers(child))
            name = child.field("name")
            if annotations and name is not None:
                getter = re.match(r"(?:get|is)([A-Z]\w*)$", name.text())
                if getter:
                    prop = getter.group(1)[0].lower() + getter.group(1)[1:]
                    type_node = child.field("type")
                    yield Member(
                        prop,
                        type_node.text() if type_node else "",
                        child.range().start.line + 1,
                        annotations,
                    )


def _snake(name: str) -> str:
    return re.sub(r"(?<=[a-z0-9])([A-Z])", r"_\1", name).lower()


def _foreign_key_column(member: Member) -> str | None:
    """The column an owning `@ManyToOne`/`@OneToOne` stores its key in, or None (the inverse
    side, a shared primary key, or a column already unique)."""
    found = [member.annotations[a] for a in _ASSOCIATIONS if a in member.annotations]
    if not found or "mappedBy" in found[0]:
        return None
    if "MapsId" in member.annotations or "PrimaryKeyJoinColumn" in member.annotations:
        return None
    if "JoinColumns" in member.annotations or "JoinTable" in member.annotations:
        return None  # composite keys and join tables: not judged
    join = member.annotations.get("JoinColumn", "")
    if re.search(r"\bunique\s*=\s*true\b", join):
        return None
    return _attribute(join, "name") or f"{_snake(member.name)}_id"


def _indexed_columns(entity: JavaClass) -> Iterator[str]:
    """The leading column of each index and unique constraint `@Table` declares."""
    table = entity.annotations.get("Table", "")
    for columns in re.findall(r'\bcolumnList\s*=\s*"([^"]*)"', table):
        first = columns.split(",", 1)[0].split()
        if first:
            yield first[0]
    yield from re.findall(r'\bcolumnNames\s*=\s*\{?\s*"([^"]*)"', table)
    for member in entity.members:
        if "Id" in member.annotations or "EmbeddedId" in member.annotations:
            column = _attribute(member.annotations.get("Column", ""), "name")
            yield column or _snake(member.name)


@file_detector("jpa_foreign_key_facts")
def jpa_foreign_key_facts(ctx: FileContext, options: dict[str, Any]) -> Iterable[Fact]:
    """`jpa-fk-column` / `jpa-indexed-column` facts (`table.column`) of the file's entities."""
    if b"@Entity" not in ctx.data or b"ToOne" not in ctx.data:
        return
    for cls in java_classes(ctx):
        if not cls.is_entity:
            continue
        table = cls.table()
        for column in _indexed_columns(cls):
            yield Fact("jpa-indexed-column", f"{table}.{column}", cls.line)
        for member in cls.members:
            key = _foreign_key_column(member)
            if key is not None:
                yield Fact("jpa-fk-column", f"{table}.{key}", member.line)


def _keeps_time(cls: JavaClass) -> bool:
    for member in cls.members:
        if _TIMESTAMP_ANNOTATIONS & member.annotations.keys():
            return True
        if "Embedded" in member.annotations:
            return True  # an embedded audit block (its fields are elsewhere)
        if _TIMESTAMP_WORDS.search(member.name):
            return True
    return False


def _only_keys(cls: JavaClass) -> bool:
    keys = {"Id", "EmbeddedId", "MapsId", *_ASSOCIATIONS}
    persistent = [m for m in cls.members if "Transient" not in m.annotations]
    return bool(persistent) and all(keys & m.annotations.keys() for m in persistent)


def entities_without_timestamps(ctx: FileContext) -> Iterator[Hit]:
    """Entities with no creation or update timestamp, their own or from a base class declared
    in the same file. An entity that extends a class this file does not declare is not judged:
    the base (a `@MappedSuperclass`, Spring Data's `AbstractAuditable`) may hold them."""
    if b"@Entity" not in ctx.data:
        return
    after_each_entity = _ENTITY_ANNOTATION.split(ctx.data)[1:]
    if all(_TIMESTAMP_ANNOTATION_LINE.search(text) for text in after_each_entity):
        return  # a timestamp annotation follows every @Entity: no need to parse the file
    classes = java_classes(ctx)
    by_name = {c.name: c for c in classes}
    for cls in classes:
        if not cls.is_entity or _READ_ONLY_ANNOTATIONS & cls.annotations.keys():
            continue
        chain, current, complete = [cls], cls, True
        while current.superclass is not None:
            base = by_name.get(current.superclass)
            if base is None or base in chain:
                complete = False
                break
            chain.append(base)
            current = base
        if not complete or any(_keeps_time(c) for c in chain) or _only_keys(cls):
            continue
        yield Hit("", cls.line, f"@Entity class {cls.name}", f"entity {cls.name}")
