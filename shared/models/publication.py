from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.models.base import created_at_field, updated_at_field
from shared.models.enums import MatchMethod, PublicationSource, check_in


class Publication(SQLModel, table=True):
    """A post that really exists (or existed) on a channel: one row per (channel, post id), whatever
    the number of sources that saw it."""

    __tablename__ = "publication"
    __table_args__ = (
        sa.UniqueConstraint(
            "channel_id", "external_post_id", name="uq_publication_channel_id_external_post_id"
        ),
        sa.CheckConstraint(check_in("source", PublicationSource), name="source"),
        sa.CheckConstraint(
            f"match_method IS NULL OR {check_in('match_method', MatchMethod)}", name="match_method"
        ),
        sa.Index("ix_publication_channel_published", "channel_id", "published_at"),
        sa.Index("ix_publication_organisation_published", "organisation_id", "published_at"),
        sa.Index(
            "ix_publication_unconfirmed_reports",
            "id",
            postgresql_where=sa.text("source = 'reported' AND confirmed_at IS NULL"),
        ),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=True)
    )
    channel_id: int = Field(foreign_key="channel.id", ondelete="CASCADE")
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    external_post_id: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    url: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    published_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    text: str = Field(default="", sa_column=sa.Column(sa.Text, nullable=False, server_default=""))
    has_photo: bool = Field(default=False, nullable=False)
    has_video: bool = Field(default=False, nullable=False)
    source: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    material_id: int | None = Field(default=None, foreign_key="material.id", ondelete="SET NULL", index=True)
    match_method: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    match_score: float | None = None
    delivery_id: int | None = Field(
        default=None,
        sa_column=sa.Column(sa.BigInteger, sa.ForeignKey("delivery.id", ondelete="SET NULL"), nullable=True),
    )
    deleted_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    edited_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    # VK reposts: "<owner_id>_<post_id>" of the original post (copy_history).
    repost_of: str | None = Field(default=None, sa_column=sa.Column(sa.String(64)))
    # Last time the scheduler saw the post on the channel (observation), if ever.
    observed_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    # Reports: when an organisation reported the post, when the network's API confirmed it, and why
    # it could not be confirmed (yet). A ``reported`` row counts only once ``confirmed_at`` is set.
    reported_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    confirmed_at: datetime | None = Field(default=None, sa_column=sa.Column(sa.DateTime(timezone=True)))
    confirmation_error: str | None = Field(default=None, sa_column=sa.Column(sa.Text))
    confirmation_checked_at: datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True))
    )
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()
