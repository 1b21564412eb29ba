"""ballot guard: one index lookup per sealed ballot, not a scan of the whole board

Revision ID: 0004sealguard
Revises: 0003board
Create Date: 2026-11-26 06:00:00

0003's statement-level guard compared the deleted ballots with the board in one query, which
PostgreSQL planned as a scan of the whole board: every sealing took time in proportion to the
votes already sealed (12 ms per batch of 32 at 19,000 entries, growing without bound). This
version looks each leaving ballot up by its unique (cycle, receipt hash) key: the same rule, at
a cost that does not grow with the board.
"""

from alembic import op

revision = "0004sealguard"
down_revision = "0003board"
branch_labels = None
depends_on = None

GUARD_PER_ROW = """
CREATE OR REPLACE FUNCTION keep_ballot_until_sealed() RETURNS trigger AS $$
DECLARE
    g record;
BEGIN
    -- Statement level (one call per sealing), one index lookup per ballot leaving.
    FOR g IN SELECT cycle_id, receipt_hash, choices FROM gone LOOP
        PERFORM 1 FROM board_entry AS b
        WHERE b.cycle_id = g.cycle_id AND b.receipt_hash = g.receipt_hash
          AND b.choices::jsonb = g.choices::jsonb;
        IF NOT FOUND THEN
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
        op.execute(GUARD_PER_ROW)


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
