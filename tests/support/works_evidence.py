"""Shared by the execution evidence tests: images made with Pillow, and a followed work.

No tests here.
"""

from __future__ import annotations

from datetime import date
from io import BytesIO
from itertools import count
from types import SimpleNamespace

from PIL import Image

from opdigital.extensions import db
from opdigital.works.models import MonitoringReport, WorkMilestone, WorkPhoto
from opdigital.works.photos import process_upload
from tests.support import factories

_keys = count(1)

# EXIF tags and IFDs (TIFF/EXIF 2.3).
ORIENTATION = 0x0112
MAKE = 0x010F
GPS_IFD = 0x8825
GPS_LATITUDE_REF, GPS_LATITUDE, GPS_LONGITUDE_REF, GPS_LONGITUDE = 1, 2, 3, 4


def image_bytes(fmt: str = "JPEG", size=(120, 80), colour="red", mode="RGB", **save) -> bytes:
    out = BytesIO()
    Image.new(mode, size, colour).save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_gps(size=(300, 200), orientation: int = 6) -> bytes:
    """A JPEG whose EXIF says where it was taken (Belo Horizonte) and which way is up.

    Left half red, right half blue: with orientation 6 (turn 90° clockwise to view) the
    upright image is taller than wide, red on top.
    """
    image = Image.new("RGB", size, "blue")
    image.paste("red", (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[ORIENTATION] = orientation
    exif[MAKE] = "PhoneCam"
    gps = exif.get_ifd(GPS_IFD)
    gps[GPS_LATITUDE_REF] = "S"
    gps[GPS_LATITUDE] = (19.0, 55.0, 15.0)
    gps[GPS_LONGITUDE_REF] = "W"
    gps[GPS_LONGITUDE] = (43.0, 56.0, 16.0)
    out = BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"secret comment")
    return out.getvalue()


def followed_work(**overrides) -> SimpleNamespace:
    """A selected work of a tallied cycle (its execution followed), and a coordinator."""
    region = factories.region(name="Barreiro", slug="barreiro")
    cycle = factories.cycle(slug="op-2025", title="OP Digital 2025", state="tallied")
    work = factories.proposal(
        cycle,
        **(
            {
                "code": "OPD2025-0001",
                "status": "selected",
                "execution_status": "in_works",
                "region_id": region.id,
                "estimated_cost_cents": 1_000_000_00,
            }
            | overrides
        ),
    )
    return SimpleNamespace(cycle=cycle, work=work, region=region, code=work.code)


def add_milestone(work, title: str, planned_on: date, done_on=None, weight: int = 1):
    milestone = WorkMilestone(
        proposal=work, title=title, planned_on=planned_on, done_on=done_on, weight=weight
    )
    db.session.add(milestone)
    db.session.commit()
    return milestone


def stored_photo(work, *, report: MonitoringReport | None = None, alt: str = "A photo") -> str:
    """A photo stored directly (without the staff screen); its key."""
    processed = process_upload(BytesIO(image_bytes()), max_side=200)
    photo = WorkPhoto(
        proposal=work,
        report=report,
        key=f"k{next(_keys)}-{work.id}",
        alt_text=alt,
        width=processed.width,
        height=processed.height,
        image=processed.image,
        thumbnail=processed.thumbnail,
    )
    db.session.add(photo)
    db.session.commit()
    return photo.key


def report_on(work, status: str = "pending") -> MonitoringReport:
    monitor = factories.user("monitor", region_id=work.region_id)
    report = MonitoringReport(proposal=work, author=monitor, body="A obra avançou.", status=status)
    db.session.add(report)
    db.session.commit()
    return report
