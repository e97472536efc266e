from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.models.base import created_at_field, updated_at_field


class ResponsiblePerson(SQLModel, table=True):
    """An employee responsible for an organisation's pages (or one page); the list is confirmed
    every quarter."""

    __tablename__ = "responsible_person"

    id: int | None = Field(default=None, primary_key=True)
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE", index=True)
    channel_id: int | None = Field(default=None, foreign_key="channel.id", ondelete="CASCADE", index=True)
    name: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
    position: str | None = Field(default=None, sa_column=sa.Column(sa.String(300)))
    phone: str | None = Field(default=None, sa_column=sa.Column(sa.String(32)))
    email: str | None = Field(default=None, sa_column=sa.Column(sa.String(320)))
    telegram_username: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    # Private chat with the hub's notification bot, linked when the person sends it /start.
    telegram_chat_id: int | None = Field(default=None, sa_column=sa.Column(sa.BigInteger))
    confirmed_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
