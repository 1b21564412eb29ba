"""ballot guard: each sealed ballot looked up by its key, with a plan made for the board as it is

Revision ID: 0004sealguard
Revises: 0003board
Create Date: 2026-11-26 06:00:00

0003's statement-level guard compared the deleted ballots with the board in one static query:
PL/pgSQL keeps a static query's plan for the connection's lifetime, and the one it kept scanned
the whole board, so every sealing took time in proportion to the votes already sealed (12 ms per
batch of 32 at 19,000 entries, growing without bound). A per-row lookup in static SQL fared
better alone but still cost PostgreSQL about 0.3 ms per sealed ballot under voting load, its
cached plan again. This version runs the lookup by (cycle, receipt hash) as dynamic SQL, planned
each time for the board as it is now: measured under load, the guard then costs a few
microseconds per ballot, whatever the board's size (benchmarks/seal_board.py, cast_votes.py).
"""

from alembic import op

revision = "0004sealguard"
down_revision = "0003board"
branch_labels = None
depends_on = None

GUARD_PLANNED_EACH_TIME = """
CREATE OR REPLACE FUNCTION keep_ballot_until_sealed() RETURNS trigger AS $$
DECLARE
    g record;
    sealed boolean;
BEGIN
    -- Statement level: one call per sealing, one lookup by key per ballot leaving. Dynamic
    -- SQL, planned each time for the board as it is now: a static query's plan is kept for the
    -- connection's lifetime, and under load the kept one cost 0.3 ms per ballot (see above).
    FOR g IN SELECT cycle_id, receipt_hash, choices FROM gone LOOP
        EXECUTE 'SELECT EXISTS (SELECT 1 FROM board_entry AS b'
            ' WHERE b.cycle_id = $1 AND b.receipt_hash = $2'
            ' AND b.choices::jsonb = $3::jsonb)'
            INTO sealed USING g.cycle_id, g.receipt_hash, g.choices;
        IF NOT sealed THEN
            RAISE EXCEPTION 'ballot rows change only by being sealed onto the board'
                USING ERRCODE = 'insufficient_privilege';
        END IF;
    END LOOP;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql
"""


def upgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(GUARD_PLANNED_EACH_TIME)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.execute(_previous_guard())


def _previous_guard() -> str:
    """0003's function text, read from that migration (one copy of it in the code base)."""
    import importlib.util
    from pathlib import Path

    path = Path(__file__).with_name("0003_board.py")
    spec = importlib.util.spec_from_file_location("migration_0003_board", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BALLOT_GUARD_FUNCTION
