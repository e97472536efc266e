from datetime import datetime, time

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql as pg
from sqlmodel import Field, SQLModel

from shared.models.base import created_at_field, updated_at_field
from shared.models.enums import SubscriptionMode, check_in


class Subscription(SQLModel, table=True):
    """What an organisation receives, on which channels, and how (auto-posting or feed)."""

    __tablename__ = "subscription"
    __table_args__ = (
        sa.CheckConstraint(check_in("mode", SubscriptionMode), name="mode"),
        sa.CheckConstraint("items_per_week BETWEEN 1 AND 50", name="items_per_week"),
        sa.CheckConstraint("window_start < window_end", name="window"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE", index=True)
    # Empty topics: every material. Empty channel_ids: every channel of the organisation.
    topics: list[str] = Field(
        default_factory=list, sa_column=sa.Column(pg.ARRAY(sa.String(100)), nullable=False)
    )
    channel_ids: list[int] = Field(
        default_factory=list, sa_column=sa.Column(pg.ARRAY(sa.Integer), nullable=False)
    )
    mode: str = Field(default=SubscriptionMode.auto.value, sa_column=sa.Column(sa.String(8), nullable=False))
    items_per_week: int = Field(default=3, nullable=False)
    window_start: time = Field(default=time(9, 0), sa_column=sa.Column(sa.Time, nullable=False))
    window_end: time = Field(default=time(20, 0), sa_column=sa.Column(sa.Time, nullable=False))
    # ISO weekdays (1 = Monday) on which posting is allowed.
    weekdays: list[int] = Field(
        default_factory=lambda: [1, 2, 3, 4, 5],
        sa_column=sa.Column(pg.ARRAY(sa.SmallInteger), nullable=False),
    )
    is_active: bool = Field(default=True, nullable=False)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
