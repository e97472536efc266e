"""feed: change log kept by triggers, feed generation, webhooks and their outbox, the feed key role

Revision ID: 0020
Revises: 0030
Create Date: 2026-11-24 14:47:55.630373
"""

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel  # noqa: F401  (types SQLModel columns may need)
from alembic import op

revision: str = "0020"
down_revision: str | None = "0030"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = "role IN ('admin', 'editor', 'operator', 'monitor')"
ROLES_AFTER = "role IN ('admin', 'editor', 'operator', 'monitor', 'feed')"

# Tables whose writes can change some organisation's feed body.
GENERATION_TABLES = ("material", "media_asset", "subscription", "organisation")

UPGRADE_SQL = [
    """
CREATE SEQUENCE material_change_seq
""",
    """
CREATE TABLE material_change (
    material_id integer NOT NULL,
    xid xid8 NOT NULL,
    seq bigint NOT NULL,
    changed_at timestamptz NOT NULL,
    CONSTRAINT pk_material_change PRIMARY KEY (material_id),
    CONSTRAINT fk_material_change_material_id_material FOREIGN KEY (material_id)
        REFERENCES material (id) ON DELETE CASCADE
)
""",
    """
CREATE INDEX ix_material_change_position ON material_change (xid, seq)
""",
    """
CREATE TABLE feed_state (
    id integer NOT NULL,
    generation bigint NOT NULL DEFAULT 0,
    changed_at timestamptz NOT NULL,
    -- Names this database in shared caches (Redis): a recreated database never reuses cached bodies.
    epoch text NOT NULL DEFAULT md5(random()::text || clock_timestamp()::text),
    CONSTRAINT pk_feed_state PRIMARY KEY (id),
    CONSTRAINT ck_feed_state_single_row CHECK (id = 1)
)
""",
    """
INSERT INTO feed_state (id, generation, changed_at) VALUES (1, 0, now())
""",
    """
-- Existing materials enter the change log in the order they were last changed.
INSERT INTO material_change (material_id, xid, seq, changed_at)
SELECT id, pg_current_xact_id(), nextval('material_change_seq'), updated_at
FROM (SELECT id, updated_at FROM material ORDER BY updated_at, id) AS existing
""",
    """
CREATE FUNCTION hub_feed_bump_generation() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- Runs at commit (a deferred constraint trigger), so the one row is locked only for the instant
    -- of the commit, not for the writer's whole transaction; readers see the new generation exactly
    -- when they can see the change itself.
    UPDATE feed_state SET generation = generation + 1, changed_at = clock_timestamp() WHERE id = 1;
    -- Delivered on commit: API processes drop what they keep in memory (keys, generation).
    PERFORM pg_notify('hub_feed', '');
    RETURN NULL;
END $$
""",
    """
CREATE FUNCTION hub_material_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- The material's position in the change order: (writing transaction, sequence).
    INSERT INTO material_change (material_id, xid, seq, changed_at)
    VALUES (NEW.id, pg_current_xact_id(), nextval('material_change_seq'), clock_timestamp())
    ON CONFLICT (material_id) DO UPDATE
        SET xid = EXCLUDED.xid, seq = EXCLUDED.seq, changed_at = EXCLUDED.changed_at;
    RETURN NULL;
END $$
""",
    """
CREATE TRIGGER hub_material_changed AFTER INSERT OR UPDATE ON material
    FOR EACH ROW EXECUTE FUNCTION hub_material_changed()
""",
    """
CREATE FUNCTION hub_feed_key_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('hub_feed', '');
    RETURN NULL;
END $$
""",
    """
CREATE TRIGGER hub_feed_key_changed AFTER UPDATE OF revoked_at, role, organisation_id, key_hash OR DELETE
    ON api_key FOR EACH ROW EXECUTE FUNCTION hub_feed_key_changed()
""",
]


def upgrade() -> None:
    op.drop_constraint(op.f("ck_api_key_role"), "api_key", type_="check")
    op.create_check_constraint("role", "api_key", ROLES_AFTER)

    for statement in UPGRADE_SQL:
        op.execute(statement)
    for table in GENERATION_TABLES:
        op.execute(
            f"CREATE CONSTRAINT TRIGGER hub_feed_generation AFTER INSERT OR UPDATE OR DELETE ON {table} "
            "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION hub_feed_bump_generation()"
        )

    op.create_table(
        "webhook_subscription",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("organisation_id", sa.Integer(), nullable=False),
        sa.Column("url", sa.String(length=2000), nullable=False),
        sa.Column("description", sa.String(length=300), nullable=True),
        sa.Column("secret", sa.LargeBinary(), nullable=False),
        sa.Column("is_active", sa.Boolean(), nullable=False),
        sa.Column("cursor_xid", sa.Text(), nullable=False),
        sa.Column("cursor_seq", sa.BigInteger(), nullable=False),
        sa.Column("created_by", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["created_by"],
            ["api_key.id"],
            name=op.f("fk_webhook_subscription_created_by_api_key"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["organisation_id"],
            ["organisation.id"],
            name=op.f("fk_webhook_subscription_organisation_id_organisation"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscription")),
    )
    op.execute("ALTER TABLE webhook_subscription ALTER COLUMN cursor_xid TYPE xid8 USING cursor_xid::xid8")
    op.create_index(
        op.f("ix_webhook_subscription_organisation_id"),
        "webhook_subscription",
        ["organisation_id"],
        unique=False,
    )
    op.create_table(
        "webhook_delivery",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.Integer(), nullable=False),
        sa.Column("material_id", sa.Integer(), nullable=False),
        sa.Column("material_version", sa.Integer(), nullable=False),
        sa.Column("event", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_status_code", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "event IN ('material.approved', 'material.withdrawn')", name=op.f("ck_webhook_delivery_event")
        ),
        sa.CheckConstraint(
            "status IN ('pending', 'delivered', 'failed')", name=op.f("ck_webhook_delivery_status")
        ),
        sa.ForeignKeyConstraint(
            ["material_id"],
            ["material.id"],
            name=op.f("fk_webhook_delivery_material_id_material"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscription.id"],
            name=op.f("fk_webhook_delivery_subscription_id_webhook_subscription"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_delivery")),
        sa.UniqueConstraint(
            "subscription_id",
            "material_id",
            "material_version",
            "event",
            name="uq_webhook_delivery_announcement",
        ),
    )
    op.create_index(
        "ix_webhook_delivery_due", "webhook_delivery", ["status", "next_attempt_at"], unique=False
    )
    op.create_index(
        op.f("ix_webhook_delivery_subscription_id"), "webhook_delivery", ["subscription_id"], unique=False
    )


def downgrade() -> None:
    op.drop_table("webhook_delivery")
    op.drop_table("webhook_subscription")
    for table in GENERATION_TABLES:
        op.execute(f"DROP TRIGGER hub_feed_generation ON {table}")
    op.execute("DROP TRIGGER hub_feed_key_changed ON api_key")
    op.execute("DROP FUNCTION hub_feed_key_changed()")
    op.execute("DROP TRIGGER hub_material_changed ON material")
    op.execute("DROP FUNCTION hub_material_changed()")
    op.execute("DROP FUNCTION hub_feed_bump_generation()")
    op.drop_table("feed_state")
    op.drop_table("material_change")
    op.execute("DROP SEQUENCE material_change_seq")
    op.execute("DELETE FROM api_key WHERE role = 'feed'")
    op.drop_constraint(op.f("ck_api_key_role"), "api_key", type_="check")
    op.create_check_constraint("role", "api_key", ROLES_BEFORE)
