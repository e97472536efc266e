from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Field, SQLModel

from shared.models.base import utcnow


class AuditEvent(SQLModel, table=True):
    """Who changed what and when. ``changes`` never holds secrets."""

    __tablename__ = "audit_event"
    __table_args__ = (sa.Index("ix_audit_event_entity", "entity_type", "entity_id"),)

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(
        default_factory=utcnow, sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False, index=True)
    )
    actor_key_id: int | None = Field(default=None, foreign_key="api_key.id", ondelete="SET NULL")
    actor_name: str | None = Field(default=None, sa_column=sa.Column(sa.String(200)))
    actor_role: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    organisation_id: int | None = Field(default=None, index=True)
    action: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    entity_type: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    entity_id: int | None = None
    changes: dict[str, Any] = Field(default_factory=dict, sa_column=sa.Column(pg.JSONB, nullable=False))
    request_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
