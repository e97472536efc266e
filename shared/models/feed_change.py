"""The feed's change log. PostgreSQL triggers (migration 0020) keep it: every insert or update of a
material stamps its row with the writing transaction's id and a new sequence number, and every write
that can change a feed body (materials, media, subscriptions, organisations) bumps the one-row
``feed_state.generation`` in the same transaction."""

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.types import UserDefinedType
from sqlmodel import Field, SQLModel

MATERIAL_CHANGE_SEQUENCE = sa.Sequence("material_change_seq")


class Xid8(UserDefinedType[int]):
    """PostgreSQL's 64-bit transaction id (``xid8``, never wraps around)."""

    cache_ok = True

    def get_col_spec(self, **kw: object) -> str:
        return "xid8"


class MaterialChange(SQLModel, table=True):
    """The latest change of each material: its position in the feed's change order is ``(xid, seq)``.
    Written only by the trigger; read by cursor paging and by the webhook outbox."""

    __tablename__ = "material_change"
    __table_args__ = (sa.Index("ix_material_change_position", "xid", "seq"),)

    material_id: int = Field(
        sa_column=sa.Column(sa.Integer, sa.ForeignKey("material.id", ondelete="CASCADE"), primary_key=True)
    )
    xid: int = Field(sa_column=sa.Column(Xid8(), nullable=False))
    seq: int = Field(sa_column=sa.Column(sa.BigInteger, MATERIAL_CHANGE_SEQUENCE, nullable=False))
    changed_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))


class FeedState(SQLModel, table=True):
    """One row: ``generation`` grows, transactionally, with every write that can change a feed body."""

    __tablename__ = "feed_state"
    __table_args__ = (sa.CheckConstraint("id = 1", name="single_row"),)

    id: int = Field(default=1, primary_key=True)
    generation: int = Field(sa_column=sa.Column(sa.BigInteger, nullable=False, server_default="0"))
    changed_at: datetime = Field(sa_column=sa.Column(sa.DateTime(timezone=True), nullable=False))
    # Random per database: names it in shared caches, so a recreated database never reuses their entries.
    epoch: str = Field(
        sa_column=sa.Column(sa.Text, nullable=False, server_default=sa.text("md5(random()::text)"))
    )
