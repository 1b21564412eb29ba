"""referenced rows deleted at read committed: a cycle, region or school deleted only there

Revision ID: 0020readcommitted
Revises: 0019rollrefs
Create Date: 2026-12-06 09:00:00.000000

Some references are kept by triggers instead of foreign keys: the votes' cycle and region
(migration 0017) and the roll's region and school (0019). Each refuses to delete or renumber a
row that is still referred to, by looking for the rows that refer to it. A foreign key's check
sees rows committed after the deleting transaction's snapshot (PostgreSQL gives it a snapshot of
its own); a trigger's query sees what its transaction's isolation shows: at READ COMMITTED, a
snapshot taken when it runs (after waiting for the writers that lock the row, as those triggers
make them), but at REPEATABLE READ or SERIALIZABLE, the snapshot of the transaction's start. A
vote or a roll row committed in between would be missed, and the deleted row left referred to.

So a cycle, a region or a school is deleted or renumbered only at READ COMMITTED (PostgreSQL's
and psql's default; the app deletes none of them): at another level the deletion is refused
(`feature_not_supported`) by one more trigger on each table. Other changes to their rows are not
affected.
"""

from alembic import op

revision = "0020readcommitted"
down_revision = "0019rollrefs"
branch_labels = None
depends_on = None

# The tables whose rows other rows refer to through a trigger's check, not a foreign key.
GUARDED = ("cycle", "region", "school")

REFUSE_UNLESS_READ_COMMITTED = """
CREATE OR REPLACE FUNCTION refuse_unless_read_committed() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    IF current_setting('transaction_isolation') <> 'read committed' THEN
        RAISE EXCEPTION 'a % is deleted or renumbered only at READ COMMITTED isolation',
            TG_TABLE_NAME USING ERRCODE = 'feature_not_supported';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$ LANGUAGE plpgsql
"""


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    if not _postgresql():
        return  # SQLite has none of those triggers
    op.execute(REFUSE_UNLESS_READ_COMMITTED)
    for table in GUARDED:
        op.execute(
            f"CREATE TRIGGER {table}_deleted_at_read_committed BEFORE DELETE OR UPDATE OF id"
            f" ON {table} FOR EACH ROW EXECUTE FUNCTION refuse_unless_read_committed()"
        )


def downgrade():
    if not _postgresql():
        return
    for table in GUARDED:
        op.execute(f"DROP TRIGGER {table}_deleted_at_read_committed ON {table}")
    op.execute("DROP FUNCTION refuse_unless_read_committed()")
