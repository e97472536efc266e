"""Common pieces of every table: stable constraint names, aware timestamps."""

from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

# Stable constraint names, so Alembic migrations can refer to them.
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


def aware_column(nullable: bool = False, index: bool = False) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(sa.DateTime(timezone=True), nullable=nullable, index=index)


def created_at_field() -> datetime:
    return Field(default_factory=utcnow, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))  # type: ignore[no-any-return]


def updated_at_field() -> datetime:
    return Field(  # type: ignore[no-any-return]
        default_factory=utcnow,
        sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, onupdate=utcnow),
    )
