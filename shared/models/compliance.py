from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from shared.models.base import created_at_field, updated_at_field


class ComplianceRule(SQLModel, table=True):
    """A rule set as data: the region's default (``organisation_id`` NULL) or one organisation's
    override. Where neither exists the settings' defaults apply."""

    __tablename__ = "compliance_rule"
    __table_args__ = (
        sa.CheckConstraint("min_items_per_channel BETWEEN 0 AND 100", name="min_items_per_channel"),
        sa.CheckConstraint("center_min_items BETWEEN 0 AND 500", name="center_min_items"),
        sa.Index(
            "uq_compliance_rule_region_default",
            "region",
            unique=True,
            postgresql_where=sa.text("organisation_id IS NULL"),
        ),
    )

    id: int | None = Field(default=None, primary_key=True)
    region: str = Field(sa_column=sa.Column(sa.String(200), nullable=False))
    organisation_id: int | None = Field(
        default=None, foreign_key="organisation.id", ondelete="CASCADE", unique=True
    )
    min_items_per_channel: int = Field(default=3, nullable=False)
    center_min_items: int = Field(default=10, nullable=False)
    require_media: bool = Field(default=False, nullable=False)
    # False: only regional content (posts matched to a material) counts; True: any information post.
    count_any_post: bool = Field(default=False, nullable=False)
    created_at: datetime = created_at_field()
    updated_at: datetime = updated_at_field()


class ComplianceWeek(SQLModel, table=True):
    """A closed (frozen) week of one organisation: the rule that applied and the center's figure.
    Its channels' rows and evidence are frozen with it; nothing here changes after ``closed_at``."""

    __tablename__ = "compliance_week"
    __table_args__ = (
        sa.UniqueConstraint("organisation_id", "week", name="uq_compliance_week_organisation_id_week"),
        sa.Index("ix_compliance_week_week", "week"),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=True)
    )
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    week: str = Field(sa_column=sa.Column(sa.String(8), nullable=False))
    week_start: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    week_end: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    min_items_per_channel: int
    center_min_items: int
    require_media: bool
    count_any_post: bool
    center_items: int
    closed_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class ComplianceWeekChannel(SQLModel, table=True):
    """One channel's frozen row of a closed week, exactly as the report showed it when it closed."""

    __tablename__ = "compliance_week_channel"
    __table_args__ = (
        sa.UniqueConstraint("week", "channel_id", name="uq_compliance_week_channel_week_channel_id"),
        sa.Index("ix_compliance_week_channel_organisation_week", "organisation_id", "week"),
    )

    id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=True)
    )
    week: str = Field(sa_column=sa.Column(sa.String(8), nullable=False))
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE")
    channel_id: int = Field(foreign_key="channel.id", ondelete="CASCADE")
    platform: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    channel_status: str = Field(sa_column=sa.Column(sa.String(32), nullable=False))
    channel_status_since: datetime | None = Field(
        default=None, sa_column=sa.Column(sa.DateTime(timezone=True))
    )
    subscribed: bool
    posts: int
    counted: int
    required: int
    met: bool
    reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(32)))


class ComplianceEvidence(SQLModel, table=True):
    """A publication as it stood when its week closed, and whether it counted (and why not)."""

    __tablename__ = "compliance_evidence"
    __table_args__ = (sa.Index("ix_compliance_evidence_week_channel", "week", "channel_id"),)

    id: int | None = Field(
        default=None, sa_column=sa.Column(sa.BigInteger, primary_key=True, autoincrement=True)
    )
    week: str = Field(sa_column=sa.Column(sa.String(8), nullable=False))
    organisation_id: int = Field(foreign_key="organisation.id", ondelete="CASCADE", index=True)
    channel_id: int = Field(foreign_key="channel.id", ondelete="CASCADE")
    publication_id: int | None = Field(
        default=None,
        sa_column=sa.Column(
            sa.BigInteger, sa.ForeignKey("publication.id", ondelete="SET NULL"), nullable=True
        ),
    )
    external_post_id: str = Field(sa_column=sa.Column(sa.String(64), nullable=False))
    url: str | None = Field(default=None, sa_column=sa.Column(sa.String(500)))
    published_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    source: str = Field(sa_column=sa.Column(sa.String(16), nullable=False))
    material_id: int | None = None
    match_method: str | None = Field(default=None, sa_column=sa.Column(sa.String(16)))
    has_media: bool
    counted: bool
    # Why it did not count: deleted, unconfirmed, no_media, duplicate_material, not_regional.
    not_counted_reason: str | None = Field(default=None, sa_column=sa.Column(sa.String(32)))
