"""delegates: the delegate roll of a cycle (delegates, substitutes, Comforça members)

A delegate's code is not stored: `code_key` is its keyed hash, also the voter key of the
delegate's entry in the cycle's delegate roll (`registry_entry.scope = 'delegates:<cycle id>'`).

Revision ID: 0009delegates
Revises: 0008paperballots
Create Date: 2026-12-06 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import opdigital.db_types


# revision identifiers, used by Alembic.
revision = "0009delegates"
down_revision = "0008paperballots"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "delegate",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=160), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("seat", sa.String(length=10), nullable=True),
        sa.Column("event_id", sa.Integer(), nullable=True),
        sa.Column("code_key", sa.String(length=64), nullable=True),
        sa.Column(
            "code_issued_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("created_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('delegate', 'substitute', 'comforca')", name=op.f("ck_delegate_role_known")
        ),
        sa.CheckConstraint(
            "seat IS NULL OR seat IN ('girl', 'boy')", name=op.f("ck_delegate_seat_known")
        ),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycle.id"], name=op.f("fk_delegate_cycle_id_cycle"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["event_id"], ["event.id"], name=op.f("fk_delegate_event_id_event"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_delegate_region_id_region")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_delegate_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_delegate")),
        sa.UniqueConstraint("code_key", name=op.f("uq_delegate_code_key")),
        sa.UniqueConstraint(
            "cycle_id",
            "role",
            "school_id",
            "seat",
            name=op.f("uq_delegate_cycle_id_role_school_id_seat"),
        ),
    )
    with op.batch_alter_table("delegate", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_delegate_cycle_id"), ["cycle_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_delegate_region_id"), ["region_id"], unique=False)


def downgrade():
    with op.batch_alter_table("delegate", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_delegate_region_id"))
        batch_op.drop_index(batch_op.f("ix_delegate_cycle_id"))
    op.drop_table("delegate")
