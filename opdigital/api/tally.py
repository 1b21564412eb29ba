"""The signing key and the published tally in the JSON API."""

from __future__ import annotations

from flask import jsonify

from opdigital.api import bp
from opdigital.cycles.queries import public_cycle
from opdigital.tally import services as tallies
from opdigital.tally.downloads import package_download
from opdigital.tally.summary import public_key_dict


@bp.get("/keys")
def signing_keys():
    """The public key that signs tally packages (an empty list until one is generated)."""
    key = public_key_dict()
    return jsonify(keys=[key] if key else [])


@bp.get("/cycles/<slug>/tally.zip")
def tally_package(slug: str):
    """The signed tally package, byte for byte as signed, once results are published."""
    record = tallies.published_tally(public_cycle(slug))
    return package_download(record, slug)


@bp.get("/cycles/<slug>/results")
def results(slug: str):
    """The published result (the package's result.json) with the package's hash and key."""
    record = tallies.published_tally(public_cycle(slug))
    return jsonify(
        cycle=slug,
        package_sha256=record.sha256,
        key_fingerprint=record.key_fingerprint,
        result=record.result,
    )
