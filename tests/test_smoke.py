import sqlalchemy as sa

from opdigital.extensions import db


def test_migrations_create_every_table(app_ctx):
    tables = set(sa.inspect(db.engine).get_table_names())
    assert {t.name for t in db.metadata.sorted_tables} <= tables
