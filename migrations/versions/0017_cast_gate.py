"""cast gate: casts share an advisory lock on their cycle, not a lock on the cycle's row

Revision ID: 0017castgate
Revises: 0016tallyexternal
Create Date: 2026-12-05 22:00:00.000000

Every cast locked the one `cycle` row of its vote: `FOR KEY SHARE` in the cast statement, and the
same lock again from each foreign key to `cycle` (participation, ballot, turnout_count), and a
region row from participation's foreign key to `region`. Concurrent KEY SHARE lockers of one row
make PostgreSQL build a MultiXact for every new locker and write the row's lock to the WAL: at
four concurrent casts, 15-25% of the cast statement's PostgreSQL CPU.

Now the cast statement calls `cast_gate(cycle, at)`: it takes a shared transaction-level
advisory lock on (CAST_LOCK, cycle), which lives in the lock manager's memory only, then checks,
with a snapshot taken after the lock was granted (the function is VOLATILE), that the cycle is
voting and inside its voting phase. Leaving the voting state takes the exclusive advisory lock
before committing (`cycles.lifecycle`), so a close waits for the casts under way, and a cast that
asks after it sees the cycle closed and writes nothing, as the row lock made it before.

The foreign keys of the cast's rows to `cycle` and `region` go: the rows take their cycle from
the gate (the cycle row itself) and their region from the roll (whose own key holds it to
`region`); paper votes take theirs under a share lock on the cycle row. Cycles and regions are
never deleted by the app; so that the database still refuses to leave a vote pointing nowhere,
a trigger refuses to delete (or renumber) a cycle or a region that votes refer to (the cycle's
check waits, with the exclusive advisory lock, for the casts under way).
"""

import sqlalchemy as sa
from alembic import op

revision = "0017castgate"
down_revision = "0016tallyexternal"
branch_labels = None
depends_on = None

# The first half of the advisory lock's two-int key (opdigital.voting.services.CAST_LOCK; the
# paper module's namespaces are 120401 and 120402).
CAST_LOCK = 120403

CAST_GATE = f"""
CREATE OR REPLACE FUNCTION cast_gate(cycle integer, at timestamptz) RETURNS integer AS $$
BEGIN
    -- Held until the cast's transaction ends: a state change out of 'voting' waits for it.
    PERFORM pg_advisory_xact_lock_shared({CAST_LOCK}, cycle);
    -- VOLATILE: this query's snapshot is taken now, after the lock, so a close committed while
    -- the cast waited is seen.
    RETURN (
        SELECT c.id FROM cycle AS c
        WHERE c.id = cycle AND c.state = 'voting' AND EXISTS (
            SELECT 1 FROM phase AS p
            WHERE p.cycle_id = c.id AND p.kind = 'voting'
              AND p.starts_at <= at AND p.ends_at > at));
END;
$$ LANGUAGE plpgsql VOLATILE
"""

KEEP_CYCLE = f"""
CREATE OR REPLACE FUNCTION keep_voted_cycle() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    PERFORM pg_advisory_xact_lock({CAST_LOCK}, OLD.id);  -- casts under way finish first
    IF EXISTS (SELECT 1 FROM participation WHERE cycle_id = OLD.id)
       OR EXISTS (SELECT 1 FROM ballot WHERE cycle_id = OLD.id)
       OR EXISTS (SELECT 1 FROM turnout_count WHERE cycle_id = OLD.id) THEN
        RAISE EXCEPTION 'a cycle with votes is kept'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$ LANGUAGE plpgsql
"""

KEEP_REGION = """
CREATE OR REPLACE FUNCTION keep_voted_region() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'UPDATE' AND NEW.id = OLD.id THEN
        RETURN NEW;
    END IF;
    IF EXISTS (SELECT 1 FROM participation WHERE region_id = OLD.id) THEN
        RAISE EXCEPTION 'a region that votes refer to is kept'
            USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END;
$$ LANGUAGE plpgsql
"""

# (table, column, referred table)
DROPPED = (
    ("participation", "cycle_id", "cycle"),
    ("participation", "region_id", "region"),
    ("ballot", "cycle_id", "cycle"),
    ("turnout_count", "cycle_id", "cycle"),
)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade():
    for table, column, referred in DROPPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_constraint(f"fk_{table}_{column}_{referred}", type_="foreignkey")
    if _postgresql():
        op.execute(CAST_GATE)
        op.execute(KEEP_CYCLE)
        op.execute(KEEP_REGION)
        op.execute(
            "CREATE TRIGGER cycle_kept_while_voted BEFORE DELETE OR UPDATE OF id ON cycle "
            "FOR EACH ROW EXECUTE FUNCTION keep_voted_cycle()"
        )
        op.execute(
            "CREATE TRIGGER region_kept_while_voted BEFORE DELETE OR UPDATE OF id ON region "
            "FOR EACH ROW EXECUTE FUNCTION keep_voted_region()"
        )


def downgrade():
    if _postgresql():
        op.execute("DROP TRIGGER IF EXISTS region_kept_while_voted ON region")
        op.execute("DROP TRIGGER IF EXISTS cycle_kept_while_voted ON cycle")
        op.execute("DROP FUNCTION IF EXISTS keep_voted_region()")
        op.execute("DROP FUNCTION IF EXISTS keep_voted_cycle()")
        op.execute("DROP FUNCTION IF EXISTS cast_gate(integer, timestamptz)")
    for table, column, referred in DROPPED:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.create_foreign_key(
                f"fk_{table}_{column}_{referred}", referred, [column], ["id"]
            )
