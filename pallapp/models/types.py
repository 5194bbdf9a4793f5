"""Column types and helpers shared by the models."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import DateTime, Dialect
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.types import JSON, TypeDecorator


def utcnow() -> datetime:
    """The current time as an aware UTC datetime (used as a callable column default)."""
    return datetime.now(UTC)


def new_public_id() -> str:
    """An opaque, unguessable id for URLs (never a sequential integer)."""
    return secrets.token_urlsafe(12)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes on every database.

    PostgreSQL stores `timestamptz`; SQLite has no time zones, so the value is stored as naive
    UTC and made aware again when read. Naive datetimes are refused on the way in: a local time
    without a zone would be stored wrongly without anyone noticing.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given where an aware UTC datetime is required")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONMember(ColumnElement[Any]):
    """The member `key` of the JSON object in the same row's column `column`, as JSON (null
    where there is none, or the column is not an object), for a generated column
    (`Computed`): `column -> 'key'` on PostgreSQL (`binary`: cast to jsonb), and
    `json_quote(json_extract(...))` on SQLite (an object comes out as its JSON text, as the
    JSON type reads it)."""

    inherit_cache = True
    type = JSON()

    def __init__(self, column: str, key: str, binary: bool = False) -> None:
        if not (column.isidentifier() and key.isidentifier()):
            raise ValueError("a generated column names its column and key literally")
        self.column = column
        self.key = key
        self.binary = binary


@compiles(JSONMember, "postgresql")
def _json_member_postgresql(element: JSONMember, compiler: SQLCompiler, **kw: Any) -> str:
    member = f"{element.column} -> '{element.key}'"
    return f"({member})::jsonb" if element.binary else member


@compiles(JSONMember)
def _json_member(element: JSONMember, compiler: SQLCompiler, **kw: Any) -> str:
    return f"json_quote(json_extract({element.column}, '$.{element.key}'))"
