from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.models.base import created_at_field, updated_at_field
from shared.models.enums import ChannelStatus, Platform, check_in


class Channel(SQLModel, table=True):
    """An organisation's official page on one network."""

    __tablename__ = "channel"
    __table_args__ = (
        sa.UniqueConstraint("platform", "external_id", name="uq_channel_platform_external_id"),
        sa.CheckConstraint(check_in("platform", Platform), name="platform"),
        sa.CheckConstraint(check_in("status", ChannelStatus), name="status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE", index=True)
    platform: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    # The network's id: VK community id, OK group id, Telegram chat id or @username.
    external_id: str = Field(sa_column=sa.Column(sa.String(128), nullable=False))
    title: str | None = Field(default=None, sa_column=sa.Column(sa.String(300)))
    url: str = Field(sa_column=sa.Column(sa.String(500), nullable=False))
    status: str = Field(
        default=ChannelStatus.active.value, sa_column=sa.Column(sa.String(32), nullable=False, index=True)
    )
    status_reason: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    status_changed_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    account_id: int | None = Field(default=None, foreign_key="account.id", ondelete="SET NULL", index=True)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
