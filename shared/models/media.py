from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.models.base import created_at_field
from shared.models.enums import MediaKind, check_in


class MediaAsset(SQLModel, table=True):
    """A photo or video attached to a material; bytes live in the media storage under ``storage_key``."""

    __tablename__ = "media_asset"
    __table_args__ = (
        sa.CheckConstraint(check_in("kind", MediaKind), name="kind"),
        sa.UniqueConstraint("material_id", "sha256", name="uq_media_asset_material_id_sha256"),
    )

    id: int | None = Field(default=None, primary_key=True)
    material_id: int = Field(foreign_key="material.id", ondelete="CASCADE", index=True)
    kind: str = Field(sa_column=sa.Column(sa.String(8), nullable=False))
    content_type: str = Field(sa_column=sa.Column(sa.String(100), nullable=False))
    size_bytes: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False))
    sha256: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    width: int | None = None
    height: int | None = None
    storage_key: str = Field(sa_column=sa.Column(sa.String(300), nullable=False))
    original_filename: str | None = Field(default=None, sa_column=sa.Column(sa.String(300)))
    position: int = Field(default=0, nullable=False)
    created_at: datetime = created_at_field()
