from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.models.base import created_at_field, updated_at_field
from shared.models.enums import Platform, check_in


class Account(SQLModel, table=True):
    """Credentials a channel posts with, stored once and shared (one regional bot, many channels).

    ``secret`` is the Fernet-encrypted JSON of the platform's secret fields; it never leaves the
    database except to be decrypted by an adapter right before a network call."""

    __tablename__ = "account"
    __table_args__ = (sa.CheckConstraint(check_in("platform", Platform), name="platform"),)

    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    # The organisation that owns the credentials; NULL for the region's shared accounts.
    organisation_id: int | None = Field(
        default=None, foreign_key="organisation.id", ondelete="RESTRICT", index=True
    )
    secret: bytes = Field(sa_column=sa.Column(sa.LargeBinary, nullable=False))
    secret_fingerprint: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    secret_updated_at: datetime = created_at_field()
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
