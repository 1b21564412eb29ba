"""Work photos: what an upload becomes (no metadata, upright, resized), what is refused, the
upload's size limit, and who may see a stored photo."""

from __future__ import annotations

import os
from io import BytesIO
from types import SimpleNamespace

import pytest
import sqlalchemy as sa
from PIL import Image

from opdigital.audit.models import AuditEntry
from opdigital.errors import ValidationFailed
from opdigital.extensions import db
from opdigital.works.models import WorkPhoto
from opdigital.works.photos import MAX_PIXELS, THUMBNAIL_SIDE, process_upload
from tests.support import factories
from tests.support import works_evidence as we
from tests.support.coordination import sign_in, text, token


def _upload(app, client, code: str, data: bytes, filename="photo.jpg", **fields):
    form = {
        "photo-csrf_token": token(app, client),
        "photo-photo": (BytesIO(data), filename),
        "photo-alt_text": "The new ramp at the square",
        "photo-caption": "",
        "photo-taken_on": "",
    } | {f"photo-{name}": value for name, value in fields.items()}
    return client.post(f"/staff/works/{code}/photos", data=form, content_type="multipart/form-data")


def _photos() -> list[WorkPhoto]:
    db.session.expire_all()
    return list(
        db.session.scalars(
            sa.select(WorkPhoto)
            .options(sa.orm.undefer(WorkPhoto.image), sa.orm.undefer(WorkPhoto.thumbnail))
            .order_by(WorkPhoto.id)
        )
    )


def _assert_no_metadata(jpeg: bytes) -> Image.Image:
    image = Image.open(BytesIO(jpeg))
    assert image.format == "JPEG"
    exif = image.getexif()
    assert len(exif) == 0
    assert len(exif.get_ifd(we.GPS_IFD)) == 0
    assert "exif" not in image.info
    assert "icc_profile" not in image.info
    assert "comment" not in image.info
    assert b"PhoneCam" not in jpeg and b"secret comment" not in jpeg
    return image


# --- process_upload --------------------------------------------------------------------------


def test_metadata_is_stripped_and_orientation_applied(app_ctx):
    processed = process_upload(BytesIO(we.jpeg_with_gps((300, 200))), max_side=1600)
    image = _assert_no_metadata(processed.image)
    # Orientation 6: the 300 x 200 file is shown 200 x 300, its left (red) half on top.
    assert (processed.width, processed.height) == image.size == (200, 300)
    top, bottom = image.getpixel((100, 20)), image.getpixel((100, 280))
    assert top[0] > 200 and top[2] < 60, top
    assert bottom[2] > 200 and bottom[0] < 60, bottom
    assert image.info.get("progressive") == 1
    _assert_no_metadata(processed.thumbnail)


def test_large_photos_are_resized_with_a_thumbnail(app_ctx):
    processed = process_upload(BytesIO(we.image_bytes(size=(3000, 1500))), max_side=1600)
    assert (processed.width, processed.height) == (1600, 800)
    thumbnail = Image.open(BytesIO(processed.thumbnail))
    assert thumbnail.size == (THUMBNAIL_SIDE, 240)


@pytest.mark.parametrize(
    ("fmt", "mode", "colour"),
    [("PNG", "RGBA", (0, 0, 0, 0)), ("PNG", "P", 3), ("WEBP", "RGB", "blue"), ("PNG", "L", 90)],
)
def test_png_and_webp_are_accepted_as_rgb_jpeg(app_ctx, fmt, mode, colour):
    data = we.image_bytes(fmt, mode=mode, colour=colour)
    processed = process_upload(BytesIO(data), max_side=1600)
    image = _assert_no_metadata(processed.image)
    assert image.mode == "RGB" and image.size == (120, 80)
    if mode == "RGBA":
        assert image.getpixel((5, 5)) == (255, 255, 255)  # transparency on white, not black


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (b"", "photo_empty"),
        (b"Not a photo at all, just some text.\n", "photo_not_image"),
        (we.image_bytes("GIF"), "photo_not_image"),
        (we.image_bytes("BMP"), "photo_not_image"),
        (we.image_bytes("JPEG", size=(400, 300))[:600], "photo_damaged"),
        (we.image_bytes("PNG", size=(400, 300))[:80], "photo_damaged"),
    ],
    ids=["empty", "text", "gif", "bmp", "truncated-jpeg", "truncated-png"],
)
def test_what_is_not_a_usable_photo_is_refused(app_ctx, data, code):
    with pytest.raises(ValidationFailed) as refused:
        process_upload(BytesIO(data), max_side=1600)
    assert refused.value.code == code


def test_a_decompression_bomb_is_refused_before_decoding(app_ctx):
    # A few kilobytes that would decode to 400 million pixels.
    bomb = we.image_bytes("PNG", size=(20_000, 20_000), mode="1", colour=0)
    assert len(bomb) < 100_000
    with pytest.raises(ValidationFailed) as refused:
        process_upload(BytesIO(bomb), max_side=1600)
    assert refused.value.code == "photo_too_many_pixels"
    # Just over our own limit, below Pillow's: refused too.
    side = int(MAX_PIXELS**0.5) + 10
    big = we.image_bytes("PNG", size=(side, side), mode="1", colour=0)
    with pytest.raises(ValidationFailed, match="megapixels"):
        process_upload(BytesIO(big), max_side=1600)


# --- through the staff screen ------------------------------------------------------------------


def test_uploaded_photo_is_stored_without_exif_or_gps(app, client, coordinator):
    w = we.followed_work()
    response = _upload(
        app,
        client,
        w.code,
        we.jpeg_with_gps(),
        caption="Obra da rampa",
        taken_on="03/02/2026",
    )
    assert response.status_code == 302, text(response)
    assert response.headers["Location"].endswith(f"/staff/works/{w.code}#photos")
    [photo] = _photos()
    assert (photo.alt_text, photo.caption, str(photo.taken_on)) == (
        "The new ramp at the square",
        "Obra da rampa",
        "2026-02-03",
    )
    assert photo.report_id is None and photo.uploaded_by_id == coordinator.id
    for stored in (photo.image, photo.thumbnail):
        image = _assert_no_metadata(stored)
        assert image.height > image.width  # turned upright
    entry = db.session.scalar(sa.select(AuditEntry).where(AuditEntry.action == "work.photo_add"))
    assert entry.object_id == w.code and entry.after["key"] == photo.key
    assert entry.actor_id == coordinator.id
    # The public page shows it with its alt text and links to the full image.
    page = client.get(f"/propostas/{w.code}").get_data(as_text=True)
    assert f'src="/fotos/{photo.key}/miniatura.jpg"' in page
    assert 'alt="The new ramp at the square"' in page
    assert f'href="/fotos/{photo.key}.jpg"' in page


@pytest.mark.parametrize(("fmt", "mode"), [("PNG", "RGBA"), ("WEBP", "RGB")])
def test_png_and_webp_uploads_are_stored_as_jpeg(app, client, coordinator, fmt, mode):
    w = we.followed_work()
    data = we.image_bytes(fmt, mode=mode, colour="blue", size=(640, 480))
    response = _upload(app, client, w.code, data, filename=f"photo.{fmt.lower()}")
    assert response.status_code == 302
    [photo] = _photos()
    image = _assert_no_metadata(photo.image)
    assert image.size == (photo.width, photo.height) == (640, 480)
    assert Image.open(BytesIO(photo.thumbnail)).size == (THUMBNAIL_SIDE, 360)


@pytest.mark.parametrize(
    "data",
    [
        b"%PDF-1.4 not a photo",
        we.image_bytes("JPEG", size=(400, 300))[:700],
        we.image_bytes("PNG", size=(20_000, 20_000), mode="1", colour=0),
    ],
    ids=["text", "truncated", "bomb"],
)
def test_bad_files_are_refused_on_the_form(app, client, coordinator, english_by_default, data):
    w = we.followed_work()
    response = _upload(app, client, w.code, data)
    assert response.status_code == 422
    assert 'id="photo-photo-error"' in response.get_data(as_text=True)
    assert _photos() == []


def test_alt_text_is_required(app, client, coordinator):
    w = we.followed_work()
    response = _upload(app, client, w.code, we.image_bytes(), alt_text="  ")
    assert response.status_code == 422
    assert "Describe the photo for people who cannot see it." in text(response)
    assert _photos() == []


def test_a_future_day_or_a_bad_date_is_refused(app, client, coordinator):
    w = we.followed_work()
    response = _upload(app, client, w.code, we.image_bytes(), taken_on="31/12/2999")
    assert response.status_code == 422
    assert "cannot be in the future" in text(response)
    response = _upload(app, client, w.code, we.image_bytes(), taken_on="32/13/2026")
    assert response.status_code == 422
    assert "Enter a date, for example 31/12/2026." in text(response)
    assert _photos() == []


def _noise_png(size_bytes: int) -> bytes:
    side = int((size_bytes / 3) ** 0.5) + 1
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = BytesIO()
    image.save(out, "PNG", compress_level=0)
    data = out.getvalue()
    assert len(data) >= size_bytes
    return data


def test_photos_may_exceed_the_apps_request_limit(app, client, coordinator):
    """MAX_CONTENT_LENGTH is 2 MB; a photo up to PHOTO_MAX_UPLOAD_MB goes through."""
    w = we.followed_work()
    big = _noise_png(3 * 1024 * 1024)
    assert len(big) > app.config["MAX_CONTENT_LENGTH"]
    response = _upload(app, client, w.code, big, filename="big.png")
    assert response.status_code == 302, response.status_code
    assert len(_photos()) == 1


def test_a_photo_over_the_limit_gets_413_and_a_clear_page(
    app, client, coordinator, settings, english_by_default
):
    w = we.followed_work()
    settings(PHOTO_MAX_UPLOAD_MB=1)
    response = _upload(app, client, w.code, _noise_png(1_200_000), filename="big.png")
    assert response.status_code == 413
    assert "The photo is too large" in text(response)
    assert "larger than 1 MB" in text(response)
    assert _photos() == []


def test_anonymous_visitors_keep_the_apps_limit(app, client):
    with app.app_context():
        w = we.followed_work()
    data = {"photo-photo": (BytesIO(_noise_png(2_200_000)), "big.png")}
    response = client.post(
        f"/staff/works/{w.code}/photos", data=data, content_type="multipart/form-data"
    )
    assert response.status_code == 413


# --- serving -----------------------------------------------------------------------------------


def test_published_photos_are_public_and_cached(app, client):
    with app.app_context():
        w = we.followed_work()
        key = we.stored_photo(w.work)
    response = client.get(f"/fotos/{key}.jpg")
    assert response.status_code == 200
    assert response.mimetype == "image/jpeg"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"].startswith("public, max-age=")
    assert Image.open(BytesIO(response.data)).size == (120, 80)
    thumbnail = client.get(f"/fotos/{key}/miniatura.jpg")
    assert thumbnail.status_code == 200 and thumbnail.mimetype == "image/jpeg"
    again = client.get(f"/fotos/{key}.jpg", headers={"If-None-Match": response.headers["ETag"]})
    assert again.status_code == 304


def test_unpublished_photos_are_hidden_from_the_public_shown_to_staff(app, client):
    with app.app_context():
        w = we.followed_work()
        pending = we.stored_photo(w.work, report=we.report_on(w.work, "pending"))
        rejected = we.stored_photo(w.work, report=we.report_on(w.work, "rejected"))
        approved = we.stored_photo(w.work, report=we.report_on(w.work, "approved"))
        coordinator = SimpleNamespace(id=factories.user("coordinator").id)
        auditor = SimpleNamespace(id=factories.user("auditor").id)
    for key in (pending, rejected):
        assert client.get(f"/fotos/{key}.jpg").status_code == 404
        assert client.get(f"/fotos/{key}/miniatura.jpg").status_code == 404
    assert client.get(f"/fotos/{approved}.jpg").status_code == 200
    assert client.get("/fotos/no-such-key.jpg").status_code == 404
    sign_in(client, auditor)
    assert client.get(f"/fotos/{pending}.jpg").status_code == 404  # not a moderator
    sign_in(client, coordinator)
    response = client.get(f"/fotos/{pending}.jpg")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert client.get(f"/fotos/{approved}.jpg").headers["Cache-Control"].startswith("public")


def test_photos_of_a_work_no_longer_selected_are_hidden(app, client):
    with app.app_context():
        w = we.followed_work()
        key = we.stored_photo(w.work)
        w.work.status = "not_selected"
        db.session.commit()
    assert client.get(f"/fotos/{key}.jpg").status_code == 404
