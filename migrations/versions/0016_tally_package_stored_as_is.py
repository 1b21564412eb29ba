"""tally package: stored as it is, not compressed again by PostgreSQL

Revision ID: 0016tallyexternal
Revises: 0015sealfast
Create Date: 2026-12-17 10:00:00.000000

A tally package is a zip (its board is already deflated): PostgreSQL's default storage for a
bytea column ("extended") still tries to compress every value over 2 kB before moving it out of
the row, and gives up only after reading it all. For a million-ballot package (57 MB) that
attempt was 0.6 of the 0.9 s its INSERT took. "external" keeps it out of the row uncompressed;
the bytes read back are the same. Storage applies to values written from now on; packages
already stored stay as they are (and read the same). SQLite has no such setting.
"""

from alembic import op

revision = "0016tallyexternal"
down_revision = "0015sealfast"
branch_labels = None
depends_on = None


def _storage(kind: str) -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"ALTER TABLE tally ALTER COLUMN package SET STORAGE {kind}")


def upgrade():
    _storage("EXTERNAL")


def downgrade():
    _storage("EXTENDED")
