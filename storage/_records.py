"""Plain values out of rows: the repositories hand out dataclasses, never ORM rows."""

from __future__ import annotations

from dataclasses import fields
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

R = TypeVar("R", bound="DataclassInstance")


def record_of(cls: type[R], row: Any, **given: Any) -> R:
    """A ``cls`` filled from ``row``'s attributes of the same names (an ORM row or a
    result ``Row``); fields in ``given`` take the value passed instead (a converted
    value, or one the row does not hold)."""
    values = {field.name: getattr(row, field.name) for field in fields(cls)
              if field.name not in given}
    return cls(**values, **given)
