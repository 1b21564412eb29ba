"""phone: voting by the toll-free line and by text messages

Participation's channel (web, api, paper, voice, text), the cycle's phone switches, and the
phone conversations' short-lived state.

Revision ID: 0014phone
Revises: 0013works
Create Date: 2026-12-15 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import opdigital.db_types

# revision identifiers, used by Alembic.
revision = "0014phone"
down_revision = "0013works"
branch_labels = None
depends_on = None

UTC = opdigital.db_types.UTCDateTime(timezone=True)


def upgrade():
    with op.batch_alter_table("participation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("channel", sa.String(length=8), nullable=False, server_default="web")
        )
    # Paper votes were always told apart; the API's were not (they stay "web").
    op.execute("UPDATE participation SET channel = 'paper' WHERE on_paper")
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("phone_voice", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column("phone_text", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "phone_conversation",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("channel", sa.String(length=8), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("expires_at", UTC, nullable=False),
        sa.Column("last_request", sa.String(length=64), nullable=True),
        sa.Column("last_reply", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_phone_conversation")),
    )
    with op.batch_alter_table("phone_conversation", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_phone_conversation_expires_at"), ["expires_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("phone_conversation", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_conversation_expires_at"))
    op.drop_table("phone_conversation")
    with op.batch_alter_table("cycle", schema=None) as batch_op:
        batch_op.drop_column("phone_text")
        batch_op.drop_column("phone_voice")
    with op.batch_alter_table("participation", schema=None) as batch_op:
        batch_op.drop_column("channel")
