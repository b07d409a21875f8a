"""Column types shared by all domains."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime
from enum import StrEnum

from sqlalchemy import DateTime, String
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """A timezone-aware UTC datetime on every database.

    SQLite has no time zones and hands back naive values; normalising at the
    column keeps every comparison in the code between aware datetimes.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


class StrEnumColumn(TypeDecorator):
    """A ``StrEnum`` stored as its value in a VARCHAR and loaded as the member.

    The schema stays a plain string column, its values kept by the table's
    CHECK constraint (:func:`one_of`), so no migration follows from the type;
    a value outside the enum is refused before it reaches the database.
    """

    impl = String
    cache_ok = True

    def __init__(self, enum: type[StrEnum], length: int):
        super().__init__(length)
        self.enum = enum

    def process_bind_param(self, value, dialect):
        return None if value is None else self.enum(value).value

    def process_result_value(self, value, dialect):
        return None if value is None else self.enum(value)


def one_of(column: str, values: Iterable[str]) -> str:
    """The CHECK constraint text ``column IN ('a', 'b')``."""
    return f"{column} IN ({', '.join(repr(str(v)) for v in values)})"
