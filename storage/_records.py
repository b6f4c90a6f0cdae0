"""Row plumbing the repositories share: plain values out (dataclasses, never ORM rows),
the ids of rows put in, rows a statement touched, and long ``IN`` lists cut to size."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import fields
from functools import cache
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy import CursorResult, Result
from sqlalchemy.orm import Session

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")
T = TypeVar("T")
CHUNK = 500  # values per IN (...) list: stays below SQLite's bound-parameter limit


def record_of(cls: type[R], row: Any, **given: Any) -> R:
    """A ``cls`` filled from ``row``'s attributes of the same names (an ORM row or a
    result ``Row``); fields in ``given`` take the value passed instead (a converted
    value, or one the row does not hold)."""
    values = {name: getattr(row, name) for name in _field_names(cls) if name not in given}
    return cls(**values, **given)


@cache
def _field_names(cls: type[Any]) -> tuple[str, ...]:
    # Read once a class: dataclasses.fields() on every row was a third of record_of's cost.
    return tuple(field.name for field in fields(cls))


def added_id(session: Session, row: Any) -> int:
    """Insert an ORM row now, in the caller's transaction; the id the database gave it."""
    session.add(row)
    session.flush()
    return int(row.id)


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched."""
    return cast("CursorResult[Any]", result).rowcount


def in_chunks(values: Sequence[T]) -> Iterator[Sequence[T]]:
    """``values`` a :data:`CHUNK` at a time, for ``IN`` lists."""
    for start in range(0, len(values), CHUNK):
        yield values[start:start + CHUNK]
