"""Photos of works: an upload made safe to publish, and its record.

Shared by the staff's execution evidence and the Comforça's reports. An upload is never stored
as sent: it is decoded by Pillow (JPEG, PNG or WebP only), turned upright from its EXIF
orientation, and drawn into a new RGB image that carries none of the file's metadata (EXIF with
its GPS position, the camera's serial number, XMP, ICC profiles, comments), then encoded as a
progressive JPEG at most `max_side` pixels on its longer side, with a thumbnail.
"""

from __future__ import annotations

import secrets
import warnings
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from typing import BinaryIO

from flask_babel import lazy_gettext as _l
from PIL import Image, ImageCms, ImageOps, UnidentifiedImageError

from opdigital.audit import services as audit
from opdigital.clock import today_in_city
from opdigital.errors import ValidationFailed
from opdigital.extensions import db
from opdigital.proposals.models import Proposal
from opdigital.text_safety import has_control_characters
from opdigital.works.models import MonitoringReport, WorkPhoto

# The only decoders an upload reaches: each format Pillow knows is code that parses untrusted
# bytes, and people send photos from phones and cameras in these three.
FORMATS = ("JPEG", "PNG", "WEBP")
# Checked from the header, before any pixel is decoded: a 50-megapixel photo already takes
# 150 MB once decoded, and a small file can claim far more (a "decompression bomb").
MAX_PIXELS = 50_000_000
THUMBNAIL_SIDE = 480
JPEG_QUALITY = 85
ALT_TEXT_MAX = 300
CAPTION_MAX = 300


@dataclass(frozen=True)
class ProcessedPhoto:
    """A photo ready to store: JPEG bytes without metadata, and the full image's size."""

    image: bytes
    thumbnail: bytes
    width: int
    height: int


def thumbnail_size(width: int, height: int, side: int = THUMBNAIL_SIDE) -> tuple[int, int]:
    """The size of an image of `width` x `height` fitted into `side` x `side` (never enlarged).

    Pages give it to <img> so the layout does not jump while thumbnails load.
    """
    scale = min(1.0, side / max(width, height))
    return max(1, round(width * scale)), max(1, round(height * scale))


def process_upload(stream: BinaryIO, *, max_side: int) -> ProcessedPhoto:
    """Decode an uploaded photo and re-encode it without metadata; ValidationFailed if it is not
    a JPEG, PNG or WebP image, is damaged, or has too many pixels.

    The caller bounds the upload's size in bytes (the request's limit); here only pixels count.
    """
    data = stream.read()
    if not data:
        raise ValidationFailed(_l("The file is empty. Choose a photo."), code="photo_empty")
    image = _decode(data, max_side)
    upright = _to_rgb(ImageOps.exif_transpose(image))
    clean = _without_metadata(upright)
    clean.thumbnail((max_side, max_side), Image.Resampling.LANCZOS)
    thumbnail = clean.resize(thumbnail_size(*clean.size), Image.Resampling.LANCZOS)
    return ProcessedPhoto(
        image=_jpeg(clean), thumbnail=_jpeg(thumbnail), width=clean.width, height=clean.height
    )


def _decode(data: bytes, max_side: int) -> Image.Image:
    not_an_image = ValidationFailed(
        _l("This file is not a photo in JPEG, PNG or WebP format."), code="photo_not_image"
    )
    damaged = ValidationFailed(
        _l("This photo is damaged or incomplete. Export it again and send it."),
        code="photo_damaged",
    )
    try:
        with warnings.catch_warnings():
            # Pillow only warns between MAX_IMAGE_PIXELS and twice that: refuse those too.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            # verify() checks the file's structure without decoding it, and leaves the image
            # unusable: the file is opened again to be decoded.
            with Image.open(BytesIO(data), formats=FORMATS) as probe:
                _check_pixels(probe)
                probe.verify()
            image = Image.open(BytesIO(data), formats=FORMATS)
            _check_pixels(image)
            if image.format == "JPEG":
                # Decode a large JPEG at a reduced scale (never below max_side): less memory.
                image.draft("RGB", (max_side, max_side))
            image.load()
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as e:
        raise _too_many_pixels() from e
    except UnidentifiedImageError as e:
        raise not_an_image from e
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as e:
        # What Pillow raises for truncated or malformed data, depending on the decoder.
        raise damaged from e
    return image


def _too_many_pixels() -> ValidationFailed:
    return ValidationFailed(
        _l(
            "This photo has too many pixels (at most %(megapixels)s megapixels). "
            "Send a smaller version.",
            megapixels=MAX_PIXELS // 1_000_000,
        ),
        code="photo_too_many_pixels",
    )


def _check_pixels(image: Image.Image) -> None:
    width, height = image.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise _too_many_pixels()


def _to_rgb(image: Image.Image) -> Image.Image:
    """Colours as they were meant (the ICC profile applied), transparency on white."""
    icc = image.info.get("icc_profile")
    if icc and image.mode in ("RGB", "RGBA", "CMYK"):
        try:
            source = ImageCms.ImageCmsProfile(BytesIO(icc))
            output = "RGBA" if image.mode == "RGBA" else "RGB"
            image = ImageCms.profileToProfile(
                image, source, ImageCms.createProfile("sRGB"), outputMode=output
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            pass  # a broken profile: the colours are used as they are
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, "white")
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale PNG: scale to 8 bits (a plain conversion would clip to white).
        image = image.point(lambda v: v / 256).convert("L")
    return image.convert("RGB")


def _without_metadata(image: Image.Image) -> Image.Image:
    """A new image with these pixels and nothing else: no `info`, so no EXIF, XMP or ICC."""
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    return clean


def _jpeg(image: Image.Image) -> bytes:
    out = BytesIO()
    image.save(out, "JPEG", quality=JPEG_QUALITY, progressive=True, optimize=True)
    return out.getvalue()


# --- the record --------------------------------------------------------------------------------


def _clean_text(value: str, limit: int, required_message=None) -> str:
    value = (value or "").strip()
    if required_message is not None and not value:
        raise ValidationFailed(required_message, code="photo_alt_missing")
    if len(value) > limit:
        raise ValidationFailed(_l("At most %(n)s characters.", n=limit), code="photo_text_too_long")
    if has_control_characters(value):
        raise ValidationFailed(
            _l("Write this on one line, without line breaks, tabs or control characters."),
            code="invalid_character",
        )
    return value


def add_photo(
    proposal: Proposal,
    processed: ProcessedPhoto,
    *,
    alt_text: str,
    caption: str = "",
    taken_on: date | None = None,
    actor,
    report: MonitoringReport | None = None,
) -> WorkPhoto:
    """Add a processed photo to a work, or to a Comforça `report` on it. Does NOT commit: the
    caller commits (the staff upload at once; a report together with its photos).

    A staff photo (no `report`) is public at once and audited here (`work.photo_add`); a
    report's photo is published with its report, whose own record says who sent it.
    """
    alt_text = _clean_text(
        alt_text, ALT_TEXT_MAX, _l("Describe the photo for people who cannot see it.")
    )
    caption = _clean_text(caption, CAPTION_MAX)
    if taken_on is not None and taken_on > today_in_city():
        raise ValidationFailed(
            _l("The day the photo was taken cannot be in the future."), code="photo_future"
        )
    # The same object when it is the same row (the session's identity map), flushed or not.
    if report is not None and report.proposal is not proposal:
        raise ValidationFailed(_l("This report is about another work."), code="wrong_work")
    photo = WorkPhoto(
        proposal=proposal,
        report=report,
        key=secrets.token_urlsafe(18),  # 24 characters, 144 random bits
        alt_text=alt_text,
        caption=caption,
        taken_on=taken_on,
        width=processed.width,
        height=processed.height,
        image=processed.image,
        thumbnail=processed.thumbnail,
        uploaded_by_id=getattr(actor, "id", None),
    )
    db.session.add(photo)
    if report is None:
        db.session.flush()  # the photo's id for the audit entry
        audit.record(
            actor,
            "work.photo_add",
            proposal,
            after={
                "photo_id": photo.id,
                "key": photo.key,
                "alt_text": alt_text,
                "caption": caption,
                "taken_on": taken_on.isoformat() if taken_on else None,
                "width": photo.width,
                "height": photo.height,
            },
        )
    return photo
