"""A database of its own on the suite's PostgreSQL server, for the tests that build a schema
from nothing (the installed wheel, the migrations' downgrades)."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import psycopg
from sqlalchemy.engine import make_url


@contextlib.contextmanager
def fresh_database(prefix: str = "opdigital_fresh") -> Iterator[str]:
    """An empty database (its URL), dropped afterwards."""
    base = os.environ.get("DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
    server = make_url(base.replace("postgres://", "postgresql://", 1)).set(drivername="postgresql")
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = server.render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
