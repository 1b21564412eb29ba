"""mail: the outbox, and proposers' consent to e-mails about their proposal

Revision ID: 0011mail
Revises: 0010retention
Create Date: 2026-12-12 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import opdigital.db_types


# revision identifiers, used by Alembic.
revision = "0011mail"
down_revision = "0010retention"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "outbox_message",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("to_address", sa.String(length=254), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("body_text", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column(
            "next_attempt_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=False
        ),
        sa.Column("last_error", sa.String(length=500), nullable=False),
        sa.Column("created_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("sent_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("erased_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("erase_after_send", sa.Boolean(), nullable=False),
        sa.Column("unsubscribe_url", sa.String(length=500), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=True),
        sa.CheckConstraint(
            "status IN ('queued', 'sent', 'failed')", name=op.f("ck_outbox_message_status_known")
        ),
        sa.CheckConstraint(
            "attempts >= 0", name=op.f("ck_outbox_message_attempts_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
            name=op.f("fk_outbox_message_proposal_id_proposal"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox_message")),
    )
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.create_index("ix_outbox_message_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_outbox_message_proposal_id"), ["proposal_id"], unique=False
        )
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("notify_by_email", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch_op.add_column(
            sa.Column(
                "notify_consent_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=True
            )
        )
        batch_op.add_column(
            sa.Column(
                "notify_withdrawn_at",
                opdigital.db_types.UTCDateTime(timezone=True),
                nullable=True,
            )
        )
        batch_op.add_column(
            sa.Column(
                "notify_language", sa.String(length=8), nullable=False, server_default="pt_BR"
            )
        )


def downgrade():
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_column("notify_language")
        batch_op.drop_column("notify_withdrawn_at")
        batch_op.drop_column("notify_consent_at")
        batch_op.drop_column("notify_by_email")
    with op.batch_alter_table("outbox_message", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outbox_message_proposal_id"))
        batch_op.drop_index("ix_outbox_message_due")
    op.drop_table("outbox_message")
