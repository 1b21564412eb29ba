"""works: places, execution evidence and the Comforça's reports

Region boundaries; proposals' locations, department and money figures; work milestones, photos
and monitoring reports; the `monitor` role (a Comforça member, bound to a region).

Revision ID: 0013works
Revises: 0012subjectrequests
Create Date: 2026-12-14 10:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

import opdigital.db_types

# revision identifiers, used by Alembic.
revision = "0013works"
down_revision = "0012subjectrequests"
branch_labels = None
depends_on = None

UTC = opdigital.db_types.UTCDateTime(timezone=True)
OLD_ROLES = "role IN ('admin', 'coordinator', 'auditor', 'poll_worker', 'privacy_officer')"
NEW_ROLES = (
    "role IN ('admin', 'coordinator', 'auditor', 'poll_worker', 'privacy_officer', 'monitor')"
)


def upgrade():
    with op.batch_alter_table("region", schema=None) as batch_op:
        batch_op.add_column(sa.Column("boundary", sa.Text(), nullable=True))
        batch_op.add_column(
            sa.Column("boundary_source", sa.String(length=200), nullable=False, server_default="")
        )
        batch_op.add_column(
            sa.Column(
                "boundary_approximate", sa.Boolean(), nullable=False, server_default=sa.false()
            )
        )
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.add_column(sa.Column("latitude", sa.Float(), nullable=True))
        batch_op.add_column(sa.Column("longitude", sa.Float(), nullable=True))
        batch_op.add_column(
            sa.Column("department", sa.String(length=160), nullable=False, server_default="")
        )
        batch_op.add_column(sa.Column("committed_cents", sa.BigInteger(), nullable=True))
        batch_op.add_column(sa.Column("spent_cents", sa.BigInteger(), nullable=True))
        batch_op.create_check_constraint(
            batch_op.f("ck_proposal_location_valid"),
            "(latitude IS NULL) = (longitude IS NULL) AND (latitude IS NULL OR "
            "(latitude BETWEEN -90 AND 90 AND longitude BETWEEN -180 AND 180))",
        )
        batch_op.create_check_constraint(
            batch_op.f("ck_proposal_money_not_negative"),
            "(committed_cents IS NULL OR committed_cents >= 0) AND "
            "(spent_cents IS NULL OR spent_cents >= 0)",
        )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("region_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_user_account_region_id_region"), "region", ["region_id"], ["id"]
        )
        batch_op.drop_constraint(batch_op.f("ck_user_account_role_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_user_account_role_known"), NEW_ROLES)
        batch_op.create_check_constraint(
            batch_op.f("ck_user_account_monitor_bound"),
            "(role = 'monitor') = (region_id IS NOT NULL)",
        )

    op.create_table(
        "work_milestone",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=160), nullable=False),
        sa.Column("planned_on", sa.Date(), nullable=False),
        sa.Column("done_on", sa.Date(), nullable=True),
        sa.Column("weight", sa.Integer(), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("updated_at", UTC, nullable=False),
        sa.CheckConstraint(
            "weight BETWEEN 1 AND 100", name=op.f("ck_work_milestone_weight_in_range")
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
            name=op.f("fk_work_milestone_proposal_id_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_milestone")),
    )
    with op.batch_alter_table("work_milestone", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_milestone_proposal_id"), ["proposal_id"])

    op.create_table(
        "monitoring_report",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("show_author_name", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=10), nullable=False),
        sa.Column("created_at", UTC, nullable=False),
        sa.Column("moderated_by_id", sa.Integer(), nullable=True),
        sa.Column("moderated_at", UTC, nullable=True),
        sa.Column("moderation_note", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "status IN ('pending', 'approved', 'rejected')",
            name=op.f("ck_monitoring_report_status_known"),
        ),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["user_account.id"],
            name=op.f("fk_monitoring_report_author_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["moderated_by_id"],
            ["user_account.id"],
            name=op.f("fk_monitoring_report_moderated_by_id_user_account"),
        ),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
            name=op.f("fk_monitoring_report_proposal_id_proposal"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_monitoring_report")),
    )
    with op.batch_alter_table("monitoring_report", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_monitoring_report_author_id"), ["author_id"])
        batch_op.create_index(batch_op.f("ix_monitoring_report_proposal_id"), ["proposal_id"])

    op.create_table(
        "work_photo",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("proposal_id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=True),
        sa.Column("key", sa.String(length=32), nullable=False),
        sa.Column("alt_text", sa.String(length=300), nullable=False),
        sa.Column("caption", sa.String(length=300), nullable=False),
        sa.Column("taken_on", sa.Date(), nullable=True),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("image", sa.LargeBinary(), nullable=False),
        sa.Column("thumbnail", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=True),
        sa.Column("created_at", UTC, nullable=False),
        sa.CheckConstraint("width > 0 AND height > 0", name=op.f("ck_work_photo_size_positive")),
        sa.ForeignKeyConstraint(
            ["proposal_id"],
            ["proposal.id"],
            name=op.f("fk_work_photo_proposal_id_proposal"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["monitoring_report.id"],
            name=op.f("fk_work_photo_report_id_monitoring_report"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"],
            ["user_account.id"],
            name=op.f("fk_work_photo_uploaded_by_id_user_account"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_photo")),
        sa.UniqueConstraint("key", name=op.f("uq_work_photo_key")),
    )
    with op.batch_alter_table("work_photo", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_work_photo_proposal_id"), ["proposal_id"])
        batch_op.create_index(batch_op.f("ix_work_photo_report_id"), ["report_id"])


def downgrade():
    op.drop_table("work_photo")
    op.drop_table("monitoring_report")
    op.drop_table("work_milestone")
    # The old schema has no Comforça accounts. The audit log refers to them (and refuses
    # changes), so the accounts stay, deactivated, as auditors: first without the check that
    # binds a monitor to a region, which such an account no longer meets.
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_user_account_monitor_bound"), type_="check")
    op.execute("UPDATE user_account SET role = 'auditor', active = false WHERE role = 'monitor'")
    op.execute("UPDATE user_account SET region_id = NULL")
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_user_account_role_known"), type_="check")
        batch_op.create_check_constraint(batch_op.f("ck_user_account_role_known"), OLD_ROLES)
        batch_op.drop_constraint(batch_op.f("fk_user_account_region_id_region"), type_="foreignkey")
        batch_op.drop_column("region_id")
    with op.batch_alter_table("proposal", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("ck_proposal_money_not_negative"), type_="check")
        batch_op.drop_constraint(batch_op.f("ck_proposal_location_valid"), type_="check")
        batch_op.drop_column("spent_cents")
        batch_op.drop_column("committed_cents")
        batch_op.drop_column("department")
        batch_op.drop_column("longitude")
        batch_op.drop_column("latitude")
    with op.batch_alter_table("region", schema=None) as batch_op:
        batch_op.drop_column("boundary_approximate")
        batch_op.drop_column("boundary_source")
        batch_op.drop_column("boundary")
