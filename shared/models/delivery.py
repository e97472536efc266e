from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Field, SQLModel

from shared.models.base import created_at_field, updated_at_field
from shared.models.enums import DeliveryStatus, check_in


class Delivery(SQLModel, table=True):
    """One material to one channel. The row exists before any job does; a worker claims it (status
    ``sending`` + lease) before calling the network, so two workers never send the same delivery."""

    __tablename__ = "delivery"
    __table_args__ = (
        sa.UniqueConstraint("material_id", "channel_id", name="uq_delivery_material_id_channel_id"),
        sa.CheckConstraint(check_in("status", DeliveryStatus), name="status"),
        # The claim query's path: due rows by time.
        sa.Index("ix_delivery_due", "status", "next_attempt_at"),
        sa.Index("ix_delivery_channel_week", "channel_id", "week"),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=True)
    )
    material_id: int = Field(foreign_key="material.id", ondelete="CASCADE", index=True)
    channel_id: int = Field(foreign_key="channel.id", ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE", index=True)
    subscription_id: int | None = Field(default=None, foreign_key="subscription.id", ondelete="SET NULL")
    week: str = Field(sa_column=sa.Column(sa.String(8), nullable=False))
    urgent: bool = Field(default=False, nullable=False)
    due_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    status: str = Field(
        default=DeliveryStatus.scheduled.value, sa_column=sa.Column(sa.String(16), nullable=False)
    )
    attempts: int = Field(default=0, nullable=False)
    next_attempt_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    lease_owner: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    lease_expires_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    attempt_started_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    # Set when an attempt may have posted without our knowing (timeout after sending, worker crash):
    # the next attempt looks for that post before sending again.
    unknown_since: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    last_error_kind: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    external_post_id: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    part_ids: list[str] = Field(
        default_factory=list,
        sa_column=sa.Column(pg.ARRAY(sa.String(64)), nullable=False, server_default="{}"),
    )
    post_url: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    sent_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    retracted_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    retract_result: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
