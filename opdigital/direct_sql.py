"""One statement, committed by itself, through the database driver directly (PostgreSQL).

For the one request where it matters, the cast: SQLAlchemy's per-statement work (execution
context, result objects, the connection's transaction bookkeeping) costs more CPU than the
driver's call on a busy voting day. The statement is still written once, as SQLAlchemy text,
and compiled once; errors come out as the same SQLAlchemy exceptions the rest of the app
handles.

Each thread keeps one connection for these statements, in autocommit, with its cursor: taken
from SQLAlchemy's pool once (so it is made with the engine's settings), and kept out of it.
Borrowing a pooled connection for every cast, switching it to autocommit and back and making a
cursor cost about as much app CPU as the statement's own call (75 of 150 us a cast, measured
in-process). So each worker thread holds one connection more than its pool lends; a lost
connection (a database restart) is invalidated, so its request fails as any other would (503)
and the next statement takes a fresh one from the pool; a forked process never uses its
parent's.
"""

from __future__ import annotations

import contextlib
import os
import threading

import psycopg
import sqlalchemy as sa

from opdigital.extensions import db

_compiled: dict[sa.TextClause, str] = {}


class _Kept(threading.local):
    """This thread's connection for `run_alone`: the pool's proxy, its cursor, and the engine
    and process it belongs to."""

    pooled = None
    cursor: psycopg.Cursor | None = None
    engine: sa.Engine | None = None
    pid = 0


_kept = _Kept()


def run_alone(statement: sa.TextClause, values: dict) -> tuple:
    """Run `statement` in autocommit (one statement, one transaction): its first row.

    The statement is durable when this returns: no separate COMMIT round trip.
    """
    sql = _compiled.get(statement)
    if sql is None:
        sql = _compiled[statement] = str(statement.compile(dialect=db.engine.dialect))
    cursor = _cursor(sql, values)
    try:
        cursor.execute(sql, values, prepare=True)
        return cursor.fetchone()
    except psycopg.Error as error:
        lost = isinstance(error, psycopg.OperationalError) or cursor.connection.closed
        if lost:
            _forget(error)
        raise _wrapped(sql, values, error, lost=lost) from error


def _cursor(sql: str, values: dict) -> psycopg.Cursor:
    """This thread's cursor, on a connection in autocommit (taken from the pool the first
    time, or after the engine was replaced, the process forked or the connection was lost)."""
    engine = db.engine
    if _kept.cursor is not None and _kept.engine is engine and _kept.pid == os.getpid():
        return _kept.cursor
    if _kept.pid == os.getpid():
        _forget()  # its engine was replaced (disposed of, in tests)
    _kept.pooled = _kept.cursor = _kept.engine = None  # a parent's connection is left alone
    try:
        pooled = engine.raw_connection()
    except psycopg.Error as error:  # no connection to be had: the database is down
        raise _wrapped(sql, values, error, lost=True) from error
    connection: psycopg.Connection = pooled.driver_connection
    connection.autocommit = True
    _kept.pooled, _kept.cursor = pooled, connection.cursor()
    _kept.engine, _kept.pid = engine, os.getpid()
    return _kept.cursor


def _forget(error: BaseException | None = None) -> None:
    """Drop this thread's connection: invalidated (closed, and the pool told), never reused."""
    pooled = _kept.pooled
    _kept.pooled = _kept.cursor = _kept.engine = None
    if pooled is not None:
        with contextlib.suppress(Exception):  # closing a connection nobody will use again
            pooled.invalidate(error)


def forget_connection() -> None:
    """Close this thread's kept connection, if any (tests that stop the database)."""
    if _kept.pid == os.getpid():
        _forget()


def _wrapped(sql: str, values: dict, error: psycopg.Error, *, lost: bool) -> sa.exc.DBAPIError:
    """The SQLAlchemy exception SQLAlchemy would have raised (OperationalError: 503, etc.)."""
    return sa.exc.DBAPIError.instance(
        sql, values, error, psycopg.Error, hide_parameters=True, connection_invalidated=lost
    )
