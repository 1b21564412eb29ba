"""ballot guard: one query per sealing, each ballot looked up by the board's (cycle, receipt) key

Revision ID: 0015sealfast
Revises: 0014phone
Create Date: 2026-12-16 10:00:00.000000

The guard's rule is unchanged: on PostgreSQL a ballot row leaves `ballot` only once the board
holds an entry of the same cycle, with the same receipt hash and the same choices.

0004 ran one dynamic query per deleted ballot: about 28 us of PostgreSQL per sealed ballot (7 ms
a batch of 256), more than half of what sealing cost the database, and each lookup was planned
for its own constant cycle id, so the planner trusted that cycle's statistics. A cycle the last
ANALYZE had not seen (a new vote, beside a past one's million entries) was estimated at one
entry, and every lookup then read all of its entries through the primary key: 250 ms a batch
once the new board held 10,000 entries, growing until the next ANALYZE.

This version checks the whole batch in one query, still dynamic SQL, planned at each sealing for
the board as it is now (a plan kept for the connection, as 0003's was, stays the one made for a
nearly empty board). Each ballot is a correlated subquery on the board (`OFFSET 0` keeps it one,
not a join): its key comes as a parameter, whose estimate is the board's size over the number of
cycles, never one cycle's statistics, so the lookup takes the (cycle_id, receipt_hash) unique
index. The function's settings leave no other plan worth taking (no scans of the whole board, no
hash or merge join) and switch off JIT, which any disabled plan's cost would set off.
"""

from alembic import op

revision = "0015sealfast"
down_revision = "0014phone"
branch_labels = None
depends_on = None

GUARD_ONE_QUERY = """
CREATE OR REPLACE FUNCTION keep_ballot_until_sealed() RETURNS trigger AS $$
DECLARE
    unsealed boolean;
BEGIN
    -- Statement level, one query per sealing; dynamic SQL, so planned for the board as it is
    -- now (see migration 0015). OFFSET 0 keeps each lookup a subquery by the unique key.
    EXECUTE 'SELECT EXISTS (SELECT 1 FROM gone AS g WHERE NOT EXISTS ('
        'SELECT 1 FROM board_entry AS b'
        ' WHERE b.cycle_id = g.cycle_id AND b.receipt_hash = g.receipt_hash'
        ' AND b.choices::jsonb = g.choices::jsonb OFFSET 0))'
        INTO unsealed;
    IF unsealed THEN
        RAISE EXCEPTION 'ballot rows change only by being sealed onto the board'
            USING ERRCODE = 'insufficient_privilege';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
SET enable_seqscan = off SET enable_bitmapscan = off SET enable_hashjoin = off
SET enable_mergejoin = off SET enable_material = off SET jit = off
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(GUARD_ONE_QUERY)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        # CREATE OR REPLACE also drops this version's settings (SET ...) from the function.
        op.execute(_previous_guard())


def _previous_guard() -> str:
    """0004's function text, read from that migration (one copy of it in the code base)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name("0004_seal_guard_per_row.py")
    spec = importlib.util.spec_from_file_location("migration_0004_seal_guard", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.GUARD_PLANNED_EACH_TIME
