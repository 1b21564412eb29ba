"""The public side of a work's execution evidence: the stored JPEGs, the size allowed for photo
uploads, and the evidence shown on the work's public page.

Published photos (staff's, and those of approved Comforça reports, of a work: a selected
proposal of a cycle whose result is known) are public and cached for a week; others answer
404, except to signed-in staff, who moderate them (and whose copies are never cached). A
deleted photo may live on in caches for that week.
"""

from __future__ import annotations

from flask import Response, abort, current_app, render_template, request
from flask_login import current_user

from opdigital.works.photos import thumbnail_size
from opdigital.works.queries import (
    WorkEvidence,
    is_published,
    is_work,
    photo_file,
    work_evidence,
)
from opdigital.works.views import bp

STAFF_ROLES = ("admin", "coordinator")
PUBLISHED_CACHE = "public, max-age=604800"
UNPUBLISHED_CACHE = "private, no-store"
# Room for the form's other fields and the multipart boundaries around the photo.
FORM_OVERHEAD_BYTES = 64 * 1024


@bp.app_template_global("work_evidence")
def evidence_of(proposal) -> WorkEvidence | None:
    """A selected work's evidence, for templates/works/_evidence.html (included by the public
    proposal page, which belongs to another blueprint); None for other proposals."""
    return work_evidence(proposal) if is_work(proposal) else None


@bp.app_template_global("photo_thumbnail_size")
def photo_thumbnail_size(width: int, height: int) -> tuple[int, int]:
    return thumbnail_size(width, height)


def photo_upload_limit() -> int:
    return current_app.config["PHOTO_MAX_UPLOAD_MB"] * 1024 * 1024 + FORM_OVERHEAD_BYTES


@bp.url_value_preprocessor
def allow_photo_uploads(endpoint: str | None, values: dict | None) -> None:
    """Let a signed-in user's multipart form on these pages (a photo) exceed MAX_CONTENT_LENGTH.

    Set here because URL value preprocessors run before every `before_request` function, and
    the app's own (the CSRF check, the NUL guard in factory.py) read the form, which is parsed
    once under the limit in force at that moment. Anonymous visitors keep the app's limit:
    every upload form is behind a sign-in, and their body is read before the sign-in check.
    """
    if (
        request.method == "POST"
        and request.mimetype == "multipart/form-data"
        and current_user.is_authenticated
    ):
        request.max_content_length = photo_upload_limit()


@bp.errorhandler(413)
def upload_too_large(error):
    page = render_template("works/too_large.html", max_mb=current_app.config["PHOTO_MAX_UPLOAD_MB"])
    return page, 413


def _serve(key: str, *, thumbnail: bool):
    staff = current_user.is_authenticated and current_user.has_role(*STAFF_ROLES)
    photo = photo_file(key, thumbnail=thumbnail, published_only=not staff)
    if photo is None:
        abort(404)
    response = Response(photo.thumbnail if thumbnail else photo.image, mimetype="image/jpeg")
    published = not staff or is_published(photo)
    response.headers["Cache-Control"] = PUBLISHED_CACHE if published else UNPUBLISHED_CACHE
    response.headers["X-Content-Type-Options"] = "nosniff"
    # A key's bytes never change (a new photo gets a new key): the key is a strong validator.
    response.set_etag(f"{key}-{'thumbnail' if thumbnail else 'full'}")
    return response.make_conditional(request)


@bp.get("/fotos/<key>.jpg")
def photo(key: str):
    return _serve(key, thumbnail=False)


@bp.get("/fotos/<key>/miniatura.jpg")
def photo_thumbnail(key: str):
    return _serve(key, thumbnail=True)
