"""Scanning for personal data left behind: every table, every Redis key and value, every log
record (the data-subject request and phone voting scan tests).

Needles are found in any case, and a needle of digits alone also among a text's digits however
they are spaced or punctuated ("+55 31 9 9876-5432", "1234 5678 9012").
"""

from __future__ import annotations

import json
import re

import redis
import sqlalchemy as sa

from opdigital.extensions import db


def _cell_text(value) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bytes | memoryview):
        return bytes(value).decode("utf-8", "replace")
    return "" if value is None else str(value)


_NOT_DIGIT = re.compile(r"\D")


def holds(content: str, needles: list[str]) -> list[str]:
    """The needles found in `content`: words in any case, and a needle of digits alone also
    among the text's digits, however they are spaced or punctuated ("+55 31 9 9876-5432")."""
    lowered, digits = content.lower(), _NOT_DIGIT.sub("", content)
    return [
        needle
        for needle in needles
        if needle.lower() in lowered or (needle.isdigit() and needle in digits)
    ]


def tables_holding(app, needles: list[str]) -> list[str]:
    """`table.column: needle` for every cell of every table that holds one of `needles`."""
    found = []
    with app.app_context(), db.engine.connect() as connection:
        for table in db.metadata.sorted_tables:
            for row in connection.execute(sa.select(table)).mappings():
                for column, value in row.items():
                    for needle in holds(_cell_text(value), needles):
                        found.append(f"{table.name}.{column}: {needle}")
    return found


def logs_holding(records, needles: list[str]) -> list[str]:
    found = []
    for record in records:
        line = f"{record.getMessage()} {record.args!r} {record.exc_info!r} {record.exc_text}"
        found += [f"{record.name}: {needle}" for needle in holds(line, needles)]
    return found


def redis_holding(redis_url: str, needles: list[str]) -> list[str]:
    """`key: needle` for every key of the Redis database whose name or value holds a needle."""
    found = []
    connection = redis.Redis.from_url(redis_url)
    for key in connection.scan_iter(count=1000):
        kind = connection.type(key).decode()
        if kind == "string":
            values = [connection.get(key) or b""]
        elif kind == "hash":
            values = [b" ".join(k + b"=" + v for k, v in connection.hgetall(key).items())]
        elif kind == "zset":
            values = [m for m, _ in connection.zrange(key, 0, -1, withscores=True)]
        elif kind == "set":
            values = list(connection.smembers(key))
        elif kind == "list":
            values = connection.lrange(key, 0, -1)
        else:
            values = []
        content = (
            key.decode("utf-8", "replace")
            + " "
            + " ".join(v.decode("utf-8", "replace") for v in values)
        )
        found += [f"{key!r}: {needle}" for needle in holds(content, needles)]
    return found
