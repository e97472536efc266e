from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.models.base import created_at_field


class Notification(SQLModel, table=True):
    """A message to an organisation's responsible people (Russian text). Recorded first; a sender
    (Telegram bot, e-mail) picks pending ones up. ``dedupe_key`` makes recording idempotent."""

    __tablename__ = "notification"
    __table_args__ = (
        sa.CheckConstraint("status IN ('pending', 'sent', 'failed')", name="status"),
        sa.Index("ix_notification_status", "status", "created_at"),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=True)
    )
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE", index=True)
    channel_id: int | None = Field(default=None, foreign_key="channel.id", ondelete="CASCADE")
    person_id: int | None = Field(default=None, foreign_key="responsible_person.id", ondelete="CASCADE")
    kind: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    subject: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
    text: str = Field(sa_column=sa.Column(sa.Text, nullable=False))
    status: str = Field(default="pending", sa_column=sa.Column(sa.String(16), nullable=False))
    dedupe_key: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, unique=True))
    error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    created_at: datetime = created_at_field()
    sent_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
