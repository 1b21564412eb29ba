"""The tally package as a download: the stored bytes, exactly as signed."""

from __future__ import annotations

from io import BytesIO

from flask import send_file

from opdigital.tally.models import Tally

# Before publication the package is the cycle's signed record, not meant for a shared cache.
PRIVATE_DOWNLOAD = "private, no-store"


def package_download(record: Tally, slug: str, *, cache_control: str | None = None):
    """A zip attachment whose ETag is the package's SHA-256 (conditional and range requests)."""
    response = send_file(
        BytesIO(record.package),
        mimetype="application/zip",
        as_attachment=True,
        download_name=f"{slug}-tally.zip",
        etag=record.sha256,
        last_modified=record.created_at,
    )
    if cache_control:
        response.headers["Cache-Control"] = cache_control
    return response


def private_package_download(record: Tally, slug: str):
    """The stored package for staff and auditors, published or not: never cached on the way."""
    return package_download(record, slug, cache_control=PRIVATE_DOWNLOAD)
