from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.models.base import updated_at_field


class TelegramPollState(SQLModel, table=True):
    """The ``getUpdates`` offset of one bot account. Written in the same transaction as the
    publications its updates produced, so an update is confirmed to Telegram only once stored."""

    __tablename__ = "telegram_poll_state"

    account_id: int = Field(foreign_key="account.id", ondelete="CASCADE", primary_key=True)
    update_offset: int = Field(
        default=0, sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0")
    )
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    updated_at: datetime = updated_at_field()


class ChannelObservation(SQLModel, table=True):
    """When a channel was last read back from its network, and the last reading error if any."""

    __tablename__ = "channel_observation"

    channel_id: int = Field(foreign_key="channel.id", ondelete="CASCADE", primary_key=True)
    observed_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    posts_seen: int = Field(default=0, nullable=False)
    last_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    updated_at: datetime = updated_at_field()
