"""staff session token: signing out, a new password, a role change or deactivation end sessions

Revision ID: 0005staffsessions
Revises: 0004sealguard
Create Date: 2026-12-05 06:00:00

Sessions live in signed cookies, so until now nothing on the server could end one: a cookie
copied before a sign-out kept working. Each account now has a random session token, carried in
its sessions' cookies (`User.get_id`) and replaced by those events; the user loader refuses a
cookie whose token is no longer the account's. Existing accounts get a fresh random token here,
so sessions signed in before this release end too (their cookies carry no token at all).
"""

import secrets

import sqlalchemy as sa
from alembic import op

revision = "0005staffsessions"
down_revision = "0004sealguard"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_token", sa.String(length=64), nullable=True))
    accounts = sa.table("user_account", sa.column("id", sa.Integer), sa.column("session_token"))
    connection = op.get_bind()
    for (account_id,) in connection.execute(sa.select(accounts.c.id)).all():
        connection.execute(
            accounts.update()
            .where(accounts.c.id == account_id)
            .values(session_token=secrets.token_urlsafe(32))
        )
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.alter_column("session_token", existing_type=sa.String(length=64), nullable=False)


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("session_token")
