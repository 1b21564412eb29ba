"""The bare write path: what a plain Flask app does for a vote, and nothing else.

The yardstick of `benchmarks.cast_votes` (issue 16, target 5): the cast must accept at least as
many votes per second as this app, run side by side on the same machine, under the same
gunicorn settings, against the same PostgreSQL and Redis. Its POST handler parses the cast's
JSON body, writes two rows in one transaction (shaped like `participation`, whose primary key
keeps one row per voter, and `ballot`, the choices with a receipt's hash) and increments one
Redis counter, then answers 201 with a small JSON body.

It does what a plain app would, the ordinary way: Flask's request and `jsonify`, a SQLAlchemy
Core engine on psycopg 3 (the app's driver and pool) with `engine.begin()` (BEGIN, two INSERTs,
COMMIT), redis-py's `INCR`. It checks nothing else: no roll, no eligibility, no ballot rule, no
voting window, no rate limit, no board. Not part of the app; never imported by it.

    gunicorn benchmarks.bare_write:app   (BARE_DATABASE_URL, BARE_REDIS_URL, BARE_KEY_PREFIX)
"""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from datetime import date

import redis
import sqlalchemy as sa
from flask import Flask, jsonify, request
from sqlalchemy.exc import IntegrityError

TABLES = """
    CREATE TABLE IF NOT EXISTS bare_participation (
        cycle_id integer NOT NULL,
        voter_key varchar(64) NOT NULL,
        voted_on date NOT NULL,
        channel varchar(8) NOT NULL,
        PRIMARY KEY (cycle_id, voter_key)
    );
    CREATE TABLE IF NOT EXISTS bare_ballot (
        id bigserial PRIMARY KEY,
        cycle_id integer NOT NULL,
        receipt_hash varchar(64) NOT NULL UNIQUE,
        choices json NOT NULL
    );
    CREATE INDEX IF NOT EXISTS bare_ballot_cycle ON bare_ballot (cycle_id);
"""

_PARTICIPATION = sa.text(
    "INSERT INTO bare_participation (cycle_id, voter_key, voted_on, channel) "
    "VALUES (:cycle, :voter, :day, 'api')"
)
_BALLOT = sa.text(
    "INSERT INTO bare_ballot (cycle_id, receipt_hash, choices) "
    "VALUES (:cycle, :receipt_hash, CAST(:choices AS json))"
)


def create_tables(database_url: str) -> None:
    """The two tables, in the database at `database_url` (a SQLAlchemy URL)."""
    engine = sa.create_engine(database_url)
    with engine.begin() as connection:
        connection.exec_driver_sql(TABLES)
    engine.dispose()


def counter_key(prefix: str) -> str:
    """The Redis key the app increments (it never expires: the benchmark deletes it)."""
    return f"{prefix}:votes"


def create_app() -> Flask:
    app = Flask(__name__)
    engine = sa.create_engine(os.environ["BARE_DATABASE_URL"])
    store = redis.Redis.from_url(os.environ["BARE_REDIS_URL"])
    counter = counter_key(os.environ.get("BARE_KEY_PREFIX", "bare-write"))

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.post("/cycles/<int:cycle>/ballots")
    def cast(cycle: int):
        body = request.get_json()
        voter = body["credentials"]["titulo"]
        receipt = secrets.token_hex(10)
        values = {
            "cycle": cycle,
            "voter": voter,
            "day": date.today(),
            "receipt_hash": hashlib.sha256(receipt.encode()).hexdigest(),
            "choices": json.dumps(body["choices"]),
        }
        try:
            with engine.begin() as connection:
                connection.execute(_PARTICIPATION, values)
                connection.execute(_BALLOT, values)
        except IntegrityError:
            return jsonify(error="already_voted"), 409
        store.incr(counter)
        return jsonify(receipt=receipt), 201

    return app


if os.environ.get("BARE_DATABASE_URL"):
    app = create_app()
