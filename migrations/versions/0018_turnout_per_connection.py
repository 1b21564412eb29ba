"""turnout per connection: a turnout row per database connection, not one of 16 drawn at random

Revision ID: 0018turnoutconn
Revises: 0017castgate
Create Date: 2026-12-06 00:30:00.000000

A cast adds one vote to a `turnout_count` row of its cycle and hour, and holds that row locked
until it commits (fsync included). The row was one of 16 drawn at random, so casts under way at
the same moment often drew the same one and waited for each other. Now the row is the one of the
cast's database connection (`shard` = `pg_backend_pid()`, `voting.services.turnout_shard`):
transactions under way at one moment are on distinct backends, so no cast waits for another
there. A backend process id can exceed a smallint (Linux's pid_max goes to 4,194,304), hence
integer. Existing rows keep their numbers: an hour's turnout is still the sum of its rows.
"""

import sqlalchemy as sa
from alembic import op

revision = "0018turnoutconn"
down_revision = "0017castgate"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("turnout_count") as batch_op:
        batch_op.alter_column(
            "shard", existing_type=sa.SmallInteger(), type_=sa.Integer(), existing_nullable=False
        )


def downgrade():
    # Fold each hour's rows into shards 0-15 (sums kept) before narrowing the column back.
    op.execute(
        """
        CREATE TEMPORARY TABLE turnout_folded AS
            SELECT cycle_id, hour, shard % 16 AS shard, sum(votes) AS votes
            FROM turnout_count GROUP BY cycle_id, hour, shard % 16
        """
    )
    op.execute("DELETE FROM turnout_count")
    with op.batch_alter_table("turnout_count") as batch_op:
        batch_op.alter_column(
            "shard", existing_type=sa.Integer(), type_=sa.SmallInteger(), existing_nullable=False
        )
    op.execute(
        "INSERT INTO turnout_count (cycle_id, hour, shard, votes) "
        "SELECT cycle_id, hour, shard, votes FROM turnout_folded"
    )
    op.execute("DROP TABLE turnout_folded")
