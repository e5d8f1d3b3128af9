"""A Report as JSON text and back, for caches: each dataclass is the list of its fields in order,
decoded by its annotations (so a field added to Report or Finding is carried without a change
here, and a type this module does not know is refused rather than guessed)."""

from __future__ import annotations

import dataclasses
import enum
import json
import operator
import types
import typing
from collections.abc import Callable
from functools import cache
from typing import Any

from app.engine.report import Report

Decoder = Callable[[Any], Any] | None  # None: the JSON value is the value itself


def report_to_json(report: Report) -> str:
    return json.dumps(_encode(report), separators=(",", ":"))


def report_from_json(text: str) -> Report:
    """The Report `report_to_json` wrote; ValueError or TypeError for anything else."""
    decoded = _decoder(Report)
    assert decoded is not None
    try:
        report = decoded(json.loads(text))
    except (KeyError, IndexError) as exc:  # an unknown enum value, a short tuple
        raise ValueError(f"not a report: {exc}") from None
    if not isinstance(report, Report):
        raise TypeError("not a report")
    return report


_PLAIN = (str, int, float, bool, type(None))


def _encode(value: Any) -> Any:
    kind = type(value)
    if kind in _PLAIN:
        return value
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _dataclass_encoder(kind)(value)  # type: ignore[arg-type]  # classes hash
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, list | tuple):
        if len(value) >= _COLUMNS_FROM and _same_dataclass(value):
            return _dataclass_columns(type(value[0]))(value)  # type: ignore[arg-type]
        return [_encode(v) for v in value]
    if isinstance(value, dict):
        return {k: _encode(v) for k, v in value.items()}
    if value is None or isinstance(value, str | int | float):
        return value
    raise TypeError(f"cannot encode {type(value).__name__}")


# A long list of one dataclass (a report's findings) is written column by column, and a column of
# few distinct values (a rule's name, fix and category; a path) as those values and an index per
# row: a third of the JSON to write and to read, and rows rebuilt by zip() in C.
_COLUMNS_FROM = 16


def _same_dataclass(items: list[Any] | tuple[Any, ...]) -> bool:
    first = type(items[0])
    return dataclasses.is_dataclass(first) and all(type(item) is first for item in items)


@cache
def _dataclass_columns(cls: type) -> Callable[[Any], dict[str, Any]]:
    encode_row = _dataclass_encoder(cls)

    def encode(items: list[Any]) -> dict[str, Any]:
        columns: list[Any] = []
        for column in zip(*[encode_row(item) for item in items], strict=True):
            distinct = list(dict.fromkeys(column)) if _hashable(column) else None
            if distinct is not None and len(distinct) * 4 <= len(column):
                index = {value: i for i, value in enumerate(distinct)}
                columns.append({"v": distinct, "i": [index[value] for value in column]})
            else:
                columns.append(list(column))
        return {"n": len(items), "c": columns}

    return encode


def _hashable(column: tuple[Any, ...]) -> bool:
    return all(value is None or type(value) in _PLAIN for value in column)


@cache
def _dataclass_encoder(cls: type) -> Callable[[Any], list[Any]]:
    """Every field in one C call (attrgetter), then only the fields whose declared type is not
    already JSON (a Finding's severity) encoded one by one."""
    hints = typing.get_type_hints(cls)
    names = [f.name for f in dataclasses.fields(cls)]
    fetch = operator.attrgetter(*names) if len(names) > 1 else None
    nested = [i for i, name in enumerate(names) if _decoder(hints[name]) is not None]

    def encode(value: Any) -> list[Any]:
        row = list(fetch(value)) if fetch is not None else [getattr(value, names[0])]
        for i in nested:
            row[i] = _encode(row[i])
        return row

    return encode


@cache
def _decoder(tp: Any) -> Decoder:
    if tp in (str, int, float, bool, type(None), Any):
        return None
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        inner = [a for a in args if a is not type(None)]
        if len(inner) != 1:
            raise TypeError(f"cannot decode {tp}")
        return _optional(_decoder(inner[0]))
    if origin is list:
        return _list(_decoder(args[0]))
    if origin is tuple:
        return _tuple([_decoder(a) for a in args if a is not Ellipsis], Ellipsis in args)
    if origin is dict:
        return _dict(_decoder(args[1]))
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        members = {member.value: member for member in tp}  # calling the enum is much slower
        return members.__getitem__
    if isinstance(tp, type) and dataclasses.is_dataclass(tp):
        return _dataclass(tp)
    raise TypeError(f"cannot decode {tp}")


def _optional(inner: Decoder) -> Decoder:
    if inner is None:
        return None
    return lambda v: None if v is None else inner(v)


def _list(inner: Decoder) -> Decoder:
    if inner is None:
        return list
    if isinstance(inner, _DataclassDecoder):
        rows = inner
        return lambda v: rows.columns(v) if isinstance(v, dict) else [rows(x) for x in v]
    return lambda v: [inner(x) for x in v]


def _tuple(inner: list[Decoder], repeated: bool) -> Decoder:
    if all(d is None for d in inner):
        return tuple
    if repeated:
        one = inner[0]
        assert one is not None
        return lambda v: tuple(one(x) for x in v)
    return lambda v: tuple(x if d is None else d(x) for d, x in zip(inner, v, strict=True))


def _dict(inner: Decoder) -> Decoder:
    if inner is None:
        return dict
    return lambda v: {k: inner(x) for k, x in v.items()}


def _dataclass(cls: type) -> Decoder:
    return _DataclassDecoder(cls)


class _DataclassDecoder:
    """A dataclass from its row of fields, or a list of them from columns (see `_COLUMNS_FROM`)."""

    def __init__(self, cls: type) -> None:
        hints = typing.get_type_hints(cls)
        fields = dataclasses.fields(cls)
        self.cls = cls
        self.count = len(fields)
        # only the fields that need converting are touched (a Finding has one: its severity)
        self.converted = [
            (i, d) for i, f in enumerate(fields) if (d := _decoder(hints[f.name])) is not None
        ]

    def __call__(self, value: Any) -> Any:
        if not isinstance(value, list) or len(value) != self.count:
            raise TypeError(f"not a {self.cls.__name__}")
        for i, d in self.converted:  # the list is fresh from the JSON decoder: converted in place
            value[i] = d(value[i])
        return self.cls(*value)

    def columns(self, value: dict[str, Any]) -> list[Any]:
        rows, columns = value["n"], value["c"]
        if not isinstance(columns, list) or len(columns) != self.count:
            raise TypeError(f"not {self.cls.__name__} columns")
        for i, column in enumerate(columns):
            if isinstance(column, dict):
                distinct, indexes = column["v"], column["i"]
                # one C call picks every row's value (itemgetter of several indexes)
                picked = operator.itemgetter(*indexes)(distinct) if len(indexes) > 1 else None
                columns[i] = column = (
                    list(picked) if picked is not None else [distinct[j] for j in indexes]
                )
            if len(column) != rows:
                raise TypeError(f"not {self.cls.__name__} columns")
        for i, d in self.converted:
            columns[i] = [d(x) for x in columns[i]]
        cls = self.cls
        return [cls(*row) for row in zip(*columns, strict=True)]
