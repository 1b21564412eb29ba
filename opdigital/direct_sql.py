"""One statement, committed by itself, through the database driver directly (PostgreSQL).

For the one request where it matters, the cast: SQLAlchemy's per-statement work (execution
context, result objects, the connection's transaction bookkeeping) costs more CPU than the
driver's call on a busy voting day. The statement is still written once, as SQLAlchemy text,
and compiled once; connections still come from SQLAlchemy's pool, and errors come out as the
same SQLAlchemy exceptions the rest of the app handles (a lost connection is invalidated, so the
pool recovers as it would for any query).
"""

from __future__ import annotations

import psycopg
import sqlalchemy as sa

from opdigital.extensions import db

_compiled: dict[sa.TextClause, str] = {}


def run_alone(statement: sa.TextClause, values: dict) -> tuple:
    """Run `statement` in autocommit (one statement, one transaction): its first row.

    The statement is durable when this returns: no separate COMMIT round trip.
    """
    sql = _compiled.get(statement)
    if sql is None:
        sql = _compiled[statement] = str(statement.compile(dialect=db.engine.dialect))
    try:
        pooled = db.engine.raw_connection()
    except psycopg.Error as error:  # no connection to be had: the database is down
        raise _wrapped(sql, values, error, lost=True) from error
    try:
        connection: psycopg.Connection = pooled.driver_connection
        connection.autocommit = True
        try:
            with connection.cursor() as cursor:
                cursor.execute(sql, values, prepare=True)
                return cursor.fetchone()
        finally:
            if not connection.closed:
                connection.autocommit = False  # as the pool lends its connections
    except psycopg.Error as error:
        lost = isinstance(error, psycopg.OperationalError) or pooled.driver_connection.closed
        if lost:
            pooled.invalidate(error)
        raise _wrapped(sql, values, error, lost=lost) from error
    finally:
        pooled.close()  # back to the pool (a no-op once invalidated)


def _wrapped(sql: str, values: dict, error: psycopg.Error, *, lost: bool) -> sa.exc.DBAPIError:
    """The SQLAlchemy exception SQLAlchemy would have raised (OperationalError: 503, etc.)."""
    return sa.exc.DBAPIError.instance(
        sql, values, error, psycopg.Error, hide_parameters=True, connection_invalidated=lost
    )
