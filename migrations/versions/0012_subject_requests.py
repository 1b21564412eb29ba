"""subject requests: data-subject requests (LGPD art. 18) and the privacy officer's role

Revision ID: 0012subjectrequests
Revises: 0011mail
Create Date: 2026-12-15 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import opdigital.db_types

# revision identifiers, used by Alembic.
revision = "0012subjectrequests"
down_revision = "0011mail"
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('admin', 'coordinator', 'auditor', 'poll_worker')"
NEW_ROLES = "role IN ('admin', 'coordinator', 'auditor', 'poll_worker', 'privacy_officer')"


def upgrade():
    op.create_table(
        "subject_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("reference", sa.String(length=20), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("contact", sa.String(length=160), nullable=False),
        sa.Column("contact_kind", sa.String(length=10), nullable=False),
        sa.Column("details", sa.Text(), nullable=False),
        sa.Column("language", sa.String(length=8), nullable=False),
        sa.Column("status", sa.String(length=24), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("code_expires_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("code_attempts", sa.Integer(), nullable=False),
        sa.Column("codes_sent", sa.Integer(), nullable=False),
        sa.Column("created_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("verified_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("answered_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("handled_by_id", sa.Integer(), nullable=True),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.CheckConstraint(
            "kind IN ('access', 'correction', 'anonymisation', 'deletion')",
            name=op.f("ck_subject_request_kind_known"),
        ),
        sa.CheckConstraint(
            "status IN ('awaiting_verification', 'open', 'answered')",
            name=op.f("ck_subject_request_status_known"),
        ),
        sa.CheckConstraint(
            "contact_kind IN ('email', 'phone')",
            name=op.f("ck_subject_request_contact_kind_known"),
        ),
        sa.CheckConstraint(
            "code_attempts >= 0 AND codes_sent >= 0",
            name=op.f("ck_subject_request_counts_not_negative"),
        ),
        sa.ForeignKeyConstraint(
            ["handled_by_id"],
            ["user_account.id"],
            name=op.f("fk_subject_request_handled_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_subject_request")),
        sa.UniqueConstraint("reference", name=op.f("uq_subject_request_reference")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_subject_request_token_hash")),
    )
    with op.batch_alter_table("subject_request", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_subject_request_due_at"), ["due_at"], unique=False)
        batch_op.create_index(
            "ix_subject_request_status_created", ["status", "created_at"], unique=False
        )

    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_user_account_role_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_user_account_role_known"), NEW_ROLES)


def downgrade():
    # The old schema has no privacy officers. The audit log refers to their accounts (and
    # refuses changes), so the accounts stay, deactivated, as auditors.
    op.execute(
        "UPDATE user_account SET role = 'auditor', active = false WHERE role = 'privacy_officer'"
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_user_account_role_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_user_account_role_known"), OLD_ROLES)

    with op.batch_alter_table("subject_request", schema=None) as batch_op:
        batch_op.drop_index("ix_subject_request_status_created")
        batch_op.drop_index(batch_op.f("ix_subject_request_due_at"))
    op.drop_table("subject_request")
