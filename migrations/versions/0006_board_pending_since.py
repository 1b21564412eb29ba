"""board head: the sealing delay counts from the oldest waiting ballot, not the last sealing

Revision ID: 0006pendingsince
Revises: 0005staffsessions
Create Date: 2026-12-05 09:00:00

Until now the delay before waiting ballots were sealed was measured from the last sealing, so
after a quiet hour the next ballot was sealed alone within one watcher tick, and the public head
dated it. Sealing now needs BOARD_MIN_BATCH waiting ballots (except at the close and before a
tally), and the delay counts from when a check first found ballots waiting: this column.
"""

import sqlalchemy as sa
from alembic import op

import opdigital.db_types

revision = "0006pendingsince"
down_revision = "0005staffsessions"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("board_head", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pending_since", opdigital.db_types.UTCDateTime(timezone=True), nullable=True)
        )


def downgrade():
    with op.batch_alter_table("board_head", schema=None) as batch_op:
        batch_op.drop_column("pending_since")
