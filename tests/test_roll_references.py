"""The roll's references to regions and schools, checked per statement (migration 0019).

`registry_entry` names its region and school without a foreign key; triggers keep the same
promise: no statement may leave a roll row naming a region or school that does not exist, and
no region or school the roll names may be deleted or renumbered, with the same locking as a
foreign key when two transactions race. On the real PostgreSQL test database.
"""

from __future__ import annotations

import threading

import psycopg
import pytest
import sqlalchemy as sa

from opdigital.extensions import db
from tests.support import factories

MISSING = 999_999

INSERT = (
    "INSERT INTO registry_entry (scope, voter_key, birth_date, region_id, school_id)"
    " VALUES ('city', %s, '1980-01-01', %s, %s)"
)


def _roll() -> list[tuple]:
    db.session.expire_all()
    return [
        tuple(row)
        for row in db.session.execute(
            sa.text("SELECT voter_key, region_id, school_id FROM registry_entry ORDER BY voter_key")
        )
    ]


@pytest.fixture
def places(app_ctx, database_dsn):
    region = factories.region(slug="barreiro")
    school = factories.school(region)
    db.session.commit()
    return region.id, school.id, database_dsn


def test_a_statement_naming_a_missing_region_or_school_writes_nothing(places):
    region, school, dsn = places
    with psycopg.connect(dsn) as conn:
        conn.execute(INSERT, ("a" * 64, region, school))
        conn.commit()
        bad_statements = [
            # one bad row among good ones: the whole statement is refused
            (
                "INSERT INTO registry_entry (scope, voter_key, birth_date, region_id)"
                " SELECT 'city', md5(n::text) || md5(n::text), '1980-01-01',"
                " CASE WHEN n = 500 THEN %s ELSE %s END FROM generate_series(1, 1000) AS n",
                (MISSING, region),
                "region 999999",
            ),
            (INSERT, ("b" * 64, region, MISSING), "school 999999"),
            ("UPDATE registry_entry SET region_id = %s", (MISSING,), "region 999999"),
            ("UPDATE registry_entry SET school_id = %s", (MISSING,), "school 999999"),
        ]
        for sql, values, named in bad_statements:
            with pytest.raises(psycopg.errors.ForeignKeyViolation, match=named):
                conn.execute(sql, values)
            conn.rollback()
        copying = "COPY registry_entry (scope, voter_key, birth_date, region_id) FROM STDIN"
        with (
            pytest.raises(psycopg.errors.ForeignKeyViolation, match="region 999999"),
            conn.cursor().copy(copying) as copy,
        ):
            copy.write(f"city\t{'c' * 64}\t1980-01-01\t{region}\n")
            copy.write(f"city\t{'d' * 64}\t1980-01-01\t{MISSING}\n")
        conn.rollback()
        # No region nor school (a delegate's entry) is allowed, as a null foreign key was.
        conn.execute(INSERT, ("e" * 64, None, None))
        conn.commit()
    assert _roll() == [("a" * 64, region, school), ("e" * 64, None, None)]


def test_a_region_or_school_the_roll_names_is_kept(places):
    region, school, dsn = places
    spare_region = factories.region(slug="venda-nova")
    spare_school = factories.school(spare_region)
    db.session.commit()
    with psycopg.connect(dsn) as conn:
        conn.execute(INSERT, ("a" * 64, region, school))
        conn.commit()
        for table, key in (("school", school), ("region", region)):
            for sql in (
                f"DELETE FROM {table} WHERE id = %s",  # noqa: S608 - our own table names
                f"UPDATE {table} SET id = id + 1000 WHERE id = %s",  # noqa: S608
            ):
                with pytest.raises(psycopg.errors.ForeignKeyViolation, match="roll names is kept"):
                    conn.execute(sql, (key,))
                conn.rollback()
        # Only at READ COMMITTED: a stronger isolation's snapshot could miss newer roll rows.
        conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        with pytest.raises(psycopg.errors.FeatureNotSupported, match="only at READ COMMITTED"):
            conn.execute("DELETE FROM region WHERE id = %s", (spare_region.id,))
        conn.rollback()
        # Their other columns change as before; those the roll does not name can go.
        conn.execute("UPDATE region SET name = 'Barreiro de Cima' WHERE id = %s", (region,))
        conn.execute("DELETE FROM school WHERE id = %s", (spare_school.id,))
        conn.execute("DELETE FROM region WHERE id = %s", (spare_region.id,))
        conn.commit()
    assert _roll() == [("a" * 64, region, school)]


def _in_thread(work) -> tuple[threading.Thread, list]:
    outcome: list = []

    def run() -> None:
        try:
            outcome.append(work())
        except Exception as e:  # the test reads it
            outcome.append(e)

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def test_deleting_a_region_waits_for_a_roll_write_under_way_then_is_refused(places):
    region, _, dsn = places
    with psycopg.connect(dsn) as writing, psycopg.connect(dsn, autocommit=True) as deleting:
        writing.execute(INSERT, ("a" * 64, region, None))  # not committed yet

        def delete() -> None:
            deleting.execute("DELETE FROM region WHERE id = %s", (region,))

        thread, outcome = _in_thread(delete)
        thread.join(0.5)
        assert thread.is_alive()  # the write's lock holds the region, as a foreign key's would
        writing.commit()
        thread.join(10)
        assert isinstance(outcome[0], psycopg.errors.ForeignKeyViolation)
    assert _roll() == [("a" * 64, region, None)]


def test_a_roll_write_waits_for_a_region_being_deleted_then_is_refused(places):
    _, _, dsn = places
    doomed = factories.region(slug="pampulha")
    db.session.commit()
    with psycopg.connect(dsn) as deleting, psycopg.connect(dsn, autocommit=True) as writing:
        deleting.execute("DELETE FROM region WHERE id = %s", (doomed.id,))  # not committed yet

        def write() -> None:
            writing.execute(INSERT, ("a" * 64, doomed.id, None))

        thread, outcome = _in_thread(write)
        thread.join(0.5)
        assert thread.is_alive()  # waits on the region's row
        deleting.commit()
        thread.join(10)
        assert isinstance(outcome[0], psycopg.errors.ForeignKeyViolation)
    assert _roll() == []
