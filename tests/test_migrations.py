"""The migrations and the models describe the same schema (no model change without one)."""

from __future__ import annotations

import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade

from opdigital.extensions import db
from opdigital.settings import _sqlalchemy_url
from tests.support import factories
from tests.support.databases import fresh_database


def test_models_and_migrations_agree(app_ctx):
    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_the_migrations_go_down_and_up_again_with_accounts_they_constrain(make_app):
    """Down to 0010 and back with a Comforça member (0013 binds them to a region) and an
    encarregado (0012's role) in place: they become inactive auditors, nothing is refused."""
    with fresh_database("opdigital_migrations") as url:
        other = make_app("testing", SQLALCHEMY_DATABASE_URI=_sqlalchemy_url(url))
        with other.app_context():
            upgrade()
            region = factories.region()
            factories.user("monitor", region_id=region.id)
            factories.user("privacy_officer")
            factories.user("admin")
            downgrade(revision="0010retention")
            rows = db.session.execute(
                sa.text("SELECT role, active FROM user_account ORDER BY id")
            ).all()
            assert [tuple(row) for row in rows] == [
                ("auditor", False),
                ("auditor", False),
                ("admin", True),
            ]
            db.session.commit()
            upgrade()
            with db.engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                assert compare_metadata(context, db.metadata) == []
            db.session.remove()
