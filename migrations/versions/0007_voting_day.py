"""voting day: poll workers, point openings, kiosk devices, assisted and paper participation

Revision ID: 0007votingday
Revises: 0006pendingsince
Create Date: 2026-12-05 09:30:00

A poll worker is a staff account bound to one voting point and one cycle (the check keeps the
binding and the role together). `point_opening` says whether a point is open in a cycle;
`kiosk_device` holds the hash of each enrolled kiosk's secret. Participation gains two flags
for the turnout screen: assisted (a poll worker identified the voter) and on paper.
"""

import sqlalchemy as sa
from alembic import op

import opdigital.db_types

revision = "0007votingday"
down_revision = "0006pendingsince"
branch_labels = None
depends_on = None

OLD_ROLES = "role IN ('admin', 'coordinator', 'auditor')"
NEW_ROLES = "role IN ('admin', 'coordinator', 'auditor', 'poll_worker')"
POLL_WORKER_BOUND = (
    "(role = 'poll_worker') = (voting_point_id IS NOT NULL AND cycle_id IS NOT NULL)"
    " AND (voting_point_id IS NULL) = (cycle_id IS NULL)"
)


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("voting_point_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("cycle_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_user_account_voting_point_id_voting_point"),
            "voting_point",
            ["voting_point_id"],
            ["id"],
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_user_account_cycle_id_cycle"), "cycle", ["cycle_id"], ["id"]
        )
        batch_op.drop_constraint(batch_op.f("ck_user_account_role_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_user_account_role_known"), NEW_ROLES)
        batch_op.create_check_constraint(
            batch_op.f("ck_user_account_poll_worker_bound"), POLL_WORKER_BOUND
        )

    op.create_table(
        "point_opening",
        sa.Column("voting_point_id", sa.Integer(), nullable=False),
        sa.Column("cycle_id", sa.Integer(), nullable=False),
        sa.Column("is_open", sa.Boolean(), nullable=False),
        sa.Column("opened_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["cycle_id"], ["cycle.id"], name=op.f("fk_point_opening_cycle_id_cycle")
        ),
        sa.ForeignKeyConstraint(
            ["voting_point_id"],
            ["voting_point.id"],
            name=op.f("fk_point_opening_voting_point_id_voting_point"),
        ),
        sa.PrimaryKeyConstraint("voting_point_id", "cycle_id", name=op.f("pk_point_opening")),
    )
    op.create_table(
        "kiosk_device",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("voting_point_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=80), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("enrolled_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=False),
        sa.Column("enrolled_by_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", opdigital.db_types.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["enrolled_by_id"],
            ["user_account.id"],
            name=op.f("fk_kiosk_device_enrolled_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["voting_point_id"],
            ["voting_point.id"],
            name=op.f("fk_kiosk_device_voting_point_id_voting_point"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_kiosk_device")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_kiosk_device_secret_hash")),
    )
    with op.batch_alter_table("kiosk_device", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_kiosk_device_voting_point_id"), ["voting_point_id"], unique=False
        )

    with op.batch_alter_table("participation", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("assisted", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
        batch_op.add_column(
            sa.Column("on_paper", sa.Boolean(), server_default=sa.false(), nullable=False)
        )


def downgrade():
    with op.batch_alter_table("participation", schema=None) as batch_op:
        batch_op.drop_column("on_paper")
        batch_op.drop_column("assisted")
    with op.batch_alter_table("kiosk_device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_kiosk_device_voting_point_id"))
    op.drop_table("kiosk_device")
    op.drop_table("point_opening")
    # The old schema has no poll workers. The audit log refers to their accounts (and refuses
    # changes), so the accounts stay, deactivated, as auditors bound to nothing.
    op.execute(
        "UPDATE user_account SET role = 'auditor', active = false, voting_point_id = NULL,"
        " cycle_id = NULL WHERE role = 'poll_worker'"
    )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_user_account_poll_worker_bound"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_user_account_role_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_user_account_role_known"), OLD_ROLES)
        batch_op.drop_constraint(batch_op.f("fk_user_account_cycle_id_cycle"), type_="foreignkey")
        batch_op.drop_constraint(
            batch_op.f("fk_user_account_voting_point_id_voting_point"), type_="foreignkey"
        )
        batch_op.drop_column("cycle_id")
        batch_op.drop_column("voting_point_id")
