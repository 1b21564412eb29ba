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

    from opdigital import create_app
    from opdigital.extensions import db
    from opdigital.regions.models import Region

    app = create_app(
        "testing", SQLALCHEMY_DATABASE_URI=database_url, RATELIMIT_STORAGE_URI="memory://"
    )
    with app.app_context():
        upgrade()
        for n, slug in enumerate(REGIONS, 1):
            db.session.add(Region(slug=slug, name=slug.title(), population=300_000 + n))
        db.session.commit()
    return app
