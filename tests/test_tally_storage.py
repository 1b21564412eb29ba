"""The tally package column on PostgreSQL: stored as it is (migration 0016), read back the same."""

from __future__ import annotations

import os

import sqlalchemy as sa
from flask_migrate import downgrade, upgrade

from opdigital.extensions import db
from opdigital.settings import _sqlalchemy_url
from opdigital.tally.models import Tally
from tests.support import factories
from tests.support.databases import fresh_database

STORAGE = sa.text(
    "SELECT attstorage FROM pg_attribute WHERE attrelid = 'tally'::regclass AND attname = 'package'"
)


def test_the_package_is_stored_uncompressed_and_read_back_byte_for_byte(make_app):
    with fresh_database("opdigital_tallystorage") as url:
        other = make_app("testing", SQLALCHEMY_DATABASE_URI=_sqlalchemy_url(url))
        with other.app_context():
            upgrade()
            assert db.session.execute(STORAGE).scalar() == "e"  # external: not compressed
            # Compressible bytes, which "extended" storage would have compressed.
            package = os.urandom(64) + b"\0" * 3_000_000
            cycle_id = factories.cycle(state="closed").id
            db.session.add(
                Tally(cycle_id=cycle_id, package=package, sha256="", key_fingerprint="", result={})
            )
            db.session.flush()
            stored = db.session.execute(
                sa.text("SELECT package, pg_column_size(package) FROM tally WHERE cycle_id = :c"),
                {"c": cycle_id},
            ).one()
            assert stored[0] == package
            assert stored[1] >= len(package)  # kept as it is, not compressed
            db.session.commit()
            downgrade(revision="0015sealfast")
            assert db.session.execute(STORAGE).scalar() == "x"
            db.session.commit()
            upgrade()
            assert db.session.execute(STORAGE).scalar() == "e"
            db.session.remove()
