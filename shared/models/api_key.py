from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.models.base import created_at_field
from shared.models.enums import Role, check_in


class ApiKey(SQLModel, table=True):
    """An API key; only its SHA-256 is stored. ``prefix`` finds the row, the hash proves the key."""

    __tablename__ = "api_key"
    __table_args__ = (
        sa.CheckConstraint(check_in("role", Role), name="role"),
        sa.CheckConstraint(
            "role <> 'operator' OR organisation_id IS NOT NULL", name="operator_has_organisation"
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    role: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    organisation_id: int | None = Field(
        default=None, foreign_key="organisation.id", ondelete="CASCADE", index=True
    )
    prefix: str = Field(sa_column=sa.Column(sa.String(16), nullable=False, unique=True))
    key_hash: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    created_at: datetime = created_at_field()
    last_used_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    revoked_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
