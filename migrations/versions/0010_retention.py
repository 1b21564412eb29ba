"""retention: the eligible counts a purged roll leaves behind

`roll_count` keeps, per cycle, region and school, how many people the cycle's roll let vote,
written when the roll is purged (`opdigital registry purge`, `opdigital retention run`).

Revision ID: 0010retention
Revises: 0009delegates
Create Date: 2026-12-10 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import opdigital.db_types


# revision identifiers, used by Alembic.
revision = "0010retention"
down_revision = "0009delegates"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "roll_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("region_id", sa.Integer(), nullable=True),
        sa.Column("school_id", sa.Integer(), nullable=True),
        sa.Column("eligible", sa.Integer(), nullable=False),
        sa.Column("counted_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint("eligible >= 0", name=op.f("ck_roll_count_eligible_not_negative")),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycle.id"], name=op.f("fk_roll_count_cycle_id_cycle"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["region_id"], ["region.id"], name=op.f("fk_roll_count_region_id_region")
        ),
        sa.ForeignKeyConstraint(
            ["school_id"], ["school.id"], name=op.f("fk_roll_count_school_id_school")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roll_count")),
    )
    with op.batch_alter_table("roll_count", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_roll_count_cycle_id"), ["cycle_id"], unique=False)


def downgrade():
    with op.batch_alter_table("roll_count", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_roll_count_cycle_id"))
    op.drop_table("roll_count")
