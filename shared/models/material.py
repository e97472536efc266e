from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Field, SQLModel

from shared.models.base import created_at_field, updated_at_field
from shared.models.enums import MaterialPriority, MaterialStatus, check_in


class Material(SQLModel, table=True):
    """A regional content item. ``version`` grows on every change and guards concurrent edits."""

    __tablename__ = "material"
    __table_args__ = (
        sa.CheckConstraint(check_in("status", MaterialStatus), name="status"),
        sa.CheckConstraint(check_in("priority", MaterialPriority), name="priority"),
        sa.Index("ix_material_week_status", "week", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    title: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
    body: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    hashtags: list[str] = Field(
        default_factory=list, sa_column=sa.Column(pg.ARRAY(sa.String(100)), nullable=False)
    )
    topics: list[str] = Field(
        default_factory=list, sa_column=sa.Column(pg.ARRAY(sa.String(100)), nullable=False)
    )
    link: str | None = Field(default=None, sa_column=sa.Column(sa.String(2000)))
    priority: str = Field(
        default=MaterialPriority.normal.value, sa_column=sa.Column(sa.String(8), nullable=False)
    )
    # ISO week the material belongs to, "2026-W48".
    week: str = Field(sa_column=sa.Column(sa.String(8), nullable=False))
    publish_not_before: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    expires_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    status: str = Field(
        default=MaterialStatus.draft.value, sa_column=sa.Column(sa.String(16), nullable=False)
    )
    withdrawn_reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    created_by: int | None = Field(default=None, foreign_key="api_key.id", ondelete="SET NULL")
    approved_by: int | None = Field(default=None, foreign_key="api_key.id", ondelete="SET NULL")
    approved_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    withdrawn_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    version: int = Field(default=1, nullable=False)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
