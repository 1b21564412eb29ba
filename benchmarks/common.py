"""What the benchmarks share: a throw-away PostgreSQL database with the app's schema."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator

import psycopg
from sqlalchemy.engine import make_url

REGIONS = [
    "barreiro", "centro-sul", "leste", "nordeste", "noroeste", "norte", "oeste", "pampulha",
    "venda-nova",
]  # fmt: skip


@contextlib.contextmanager
def scratch_database() -> Iterator[str]:
    """Create a database on $DATABASE_URL's server, yield its SQLAlchemy URL, then drop it."""
    server = make_url(
        os.environ.get("DATABASE_URL", "postgresql://root@127.0.0.1:5432/test").replace(
            "postgres://", "postgresql://", 1
        )
    ).set(drivername="postgresql")
    admin_dsn = server.render_as_string(hide_password=False)
    name = f"opdigital_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(admin_dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        url = server.set(database=name, drivername="postgresql+psycopg")
        yield url.render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin_dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def migrated_app(database_url: str):
    """The app on that database, migrated, with the nine regions of Belo Horizonte."""
    from flask_migrate import upgrade

    from opdigital.extensions import db
    from opdigital.regions.models import Region

    app = app_on(database_url)
    with app.app_context():
        upgrade()
        for n, slug in enumerate(REGIONS, 1):
            db.session.add(Region(slug=slug, name=slug.title(), population=300_000 + n))
        db.session.commit()
    return app


def app_on(database_url: str):
    """The app on a database `migrated_app` prepared (nothing added)."""
    from opdigital import create_app

    return create_app(
        "testing", SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_STORAGE_URI="memory://"
    )


def cpu_seconds_by_program() -> dict[str, float]:
    """CPU time (user + system) used so far by every process, summed per program (Linux /proc).

    A benchmark reads it before and after its run: CPU per request is a steadier figure than
    throughput on a shared machine, and it shows where the time goes (app, database, Redis).
    """
    ticks = os.sysconf("SC_CLK_TCK")
    totals: dict[str, float] = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/stat") as f:
                stat = f.read()
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                command = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat[stat.rindex(")") + 2 :].split()
        program = "gunicorn" if "gunicorn" in command else name
        totals[program] = totals.get(program, 0.0) + (int(fields[11]) + int(fields[12])) / ticks
    return totals
