from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.models.base import created_at_field, updated_at_field
from shared.models.enums import OrganisationKind, check_in


class Organisation(SQLModel, table=True):
    __tablename__ = "organisation"
    __table_args__ = (sa.CheckConstraint(check_in("kind", OrganisationKind), name="kind"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(sa_column=sa.Column(sa.String(500), nullable=False))
    kind: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    parent_id: int | None = Field(
        default=None, foreign_key="organisation.id", ondelete="RESTRICT", index=True
    )
    region: str = Field(sa_column=sa.Column(sa.String(200), nullable=False, index=True))
    timezone: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    is_active: bool = Field(default=True, nullable=False)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
