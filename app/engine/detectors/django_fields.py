"""What Django's schema editor does with a field that a migration adds, decided from the field's
class name and keyword arguments (never by importing the project).

`AddField` on a table with rows fails only when the column is NOT NULL and the schema editor has
no value for the existing rows. Django finds one (`BaseDatabaseSchemaEditor._effective_default`,
which `add_field` writes as a DEFAULT and then drops) for a field that:
- has `default=` (or `db_default=`, a lasting database default);
- is `blank=True` without `null=True` and has `empty_strings_allowed`: every field except the
  numeric, boolean, date/time, UUID, IP address, JSON, array, hstore, range and relation fields
  (`''`, `b''` for BinaryField);
- has `auto_now=True` or `auto_now_add=True` (the current time);
and adds no column for a many-to-many relation (`ManyToManyField`, taggit's `TaggableManager`:
a join table). Auto fields fill themselves from a sequence and generated fields compute theirs.

A field class this module does not know (a project's own `ColorField(models.CharField)`) is
reported with its name, and `resolve_field_kind` settles it from the `django-field-class` facts
that the project's Python files state about the classes they define.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterable, Mapping
from enum import StrEnum
from typing import Any

from app.engine.context import FileContext
from app.engine.detectors import file_detector
from app.engine.model import Fact


class FieldKind(StrEnum):
    STRING = "string"  # empty_strings_allowed: blank=True gives the rows ''
    MANY_TO_MANY = "many-to-many"  # no column on the model's table
    FILLS_ITSELF = "fills-itself"  # auto and generated fields
    OTHER = "other"  # numeric, date, relation...: no value for existing rows
    UNKNOWN = "unknown"


# Django's own string-based fields (and django.contrib.postgres's case-insensitive ones)
_DJANGO_STRING = {
    "CharField",
    "TextField",
    "SlugField",
    "EmailField",
    "URLField",
    "FileField",
    "ImageField",
    "FilePathField",
    "BinaryField",
    "CommaSeparatedIntegerField",
    "CICharField",
    "CIEmailField",
    "CITextField",
}
# widely used third-party subclasses of CharField / TextField
_THIRD_PARTY_STRING = {
    "CountryField",  # django-countries
    "PhoneNumberField",  # django-phonenumber-field
    "ColorField",  # django-colorfield
    "TimeZoneField",  # django-timezone-field
    "RichTextField",  # django-ckeditor
    "RichTextUploadingField",
    "HTMLField",  # django-tinymce
    "MarkdownxField",  # django-markdownx
    "AutoSlugField",  # django-extensions, django-autoslug
    "StatusField",  # django-model-utils
}
_STRING_SUFFIXES = ("CharField", "TextField", "SlugField", "EmailField", "URLField")
_FILLS_ITSELF = {"AutoField", "BigAutoField", "SmallAutoField", "GeneratedField"}
# classes known not to allow empty strings: a subclass of one of these is not a string field
_DJANGO_OTHER = {
    "Field",
    "BooleanField",
    "NullBooleanField",
    "DateField",
    "DateTimeField",
    "TimeField",
    "DurationField",
    "DecimalField",
    "FloatField",
    "IntegerField",
    "BigIntegerField",
    "SmallIntegerField",
    "PositiveIntegerField",
    "PositiveBigIntegerField",
    "PositiveSmallIntegerField",
    "IPAddressField",
    "GenericIPAddressField",
    "UUIDField",
    "JSONField",
    "ArrayField",
    "HStoreField",
    "ForeignKey",
    "OneToOneField",
    "ForeignObject",
    "SearchVectorField",
}


def known_field_kind(class_name: str) -> FieldKind:
    """The kind of a field class judged by its name alone (UNKNOWN for a project's own class)."""
    if "ManyToMany" in class_name or class_name.endswith("TaggableManager"):
        return FieldKind.MANY_TO_MANY
    if class_name in _FILLS_ITSELF:
        return FieldKind.FILLS_ITSELF
    if class_name in _DJANGO_STRING or class_name in _THIRD_PARTY_STRING:
        return FieldKind.STRING
    if class_name in _DJANGO_OTHER or class_name.endswith(("IntegerField", "RangeField")):
        return FieldKind.OTHER
    if class_name.endswith(_STRING_SUFFIXES):
        return FieldKind.STRING
    return FieldKind.UNKNOWN


def resolve_field_kind(class_name: str, bases: Mapping[str, list[str]]) -> FieldKind:
    """The kind of `class_name`, following the project's own classes (`bases`: class name to the
    names of its bases) up to a class `known_field_kind` knows; UNKNOWN when the chain leaves the
    project without reaching one."""
    seen: set[str] = set()
    pending = [class_name]
    while pending:
        name = pending.pop()
        if name in seen:
            continue
        seen.add(name)
        kind = known_field_kind(name)
        if kind is not FieldKind.UNKNOWN:
            return kind
        pending.extend(bases.get(name, ()))
    return FieldKind.UNKNOWN


def field_bases(facts: Iterable[Fact]) -> dict[str, list[str]]:
    """Class name -> base class names, from `django-field-class` facts (`Name|Base1,Base2`)."""
    bases: dict[str, list[str]] = {}
    for fact in facts:
        name, _, listed = fact.value.partition("|")
        bases.setdefault(name, []).extend(b for b in listed.split(",") if b)
    return bases


def _kw(call: ast.Call, name: str) -> ast.AST | None:
    return next((k.value for k in call.keywords if k.arg == name), None)


def _is_true(node: ast.AST | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is True


def needs_value_for_existing_rows(field: ast.Call, class_name: str) -> bool:
    """Whether adding `field` (a `models.XField(...)` call) to a table with rows may fail for
    want of a value, judged from its keywords and, where that settles it, its class name; a
    blank string field of an unknown class counts as needing one (its class is settled later)."""
    if _is_true(_kw(field, "null")):
        return False
    if _kw(field, "default") is not None or _kw(field, "db_default") is not None:
        return False
    if _is_true(_kw(field, "auto_now")) or _is_true(_kw(field, "auto_now_add")):
        return False
    kind = known_field_kind(class_name)
    if kind in (FieldKind.MANY_TO_MANY, FieldKind.FILLS_ITSELF):
        return False
    return not (kind is FieldKind.STRING and _is_true(_kw(field, "blank")))


_FIELD_CLASS = re.compile(r"^[ \t]*class[ \t]+\w+[ \t]*\([^)]*(?:Field|Manager)\b", re.M)


def _base_name(node: ast.expr) -> str:
    if isinstance(node, ast.Attribute):
        return node.attr
    return node.id if isinstance(node, ast.Name) else ""


@file_detector("django_field_classes")
def django_field_classes(ctx: FileContext, options: dict[str, Any]) -> Iterable[Fact]:
    """`django-field-class` `Name|Base1,Base2` for each class that derives from a field class
    (a base whose name ends in Field or Manager), so migrations can tell what a project's own
    field class is."""
    if "class" not in ctx.text or not _FIELD_CLASS.search(ctx.text):
        return
    tree = ctx.python_ast
    if tree is None:
        return  # the Python rules report it
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            bases = [_base_name(b) for b in node.bases]
            if any(b.endswith(("Field", "Manager")) for b in bases):
                listed = ",".join(b for b in bases if b)
                yield Fact("django-field-class", f"{node.name}|{listed}", node.lineno)
