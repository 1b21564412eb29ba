"""The receipt's QR code, as SVG markup to put inline in the page (no image request, no JS)."""

from __future__ import annotations

from urllib.parse import quote

import qrcode
import qrcode.image.svg
from markupsafe import Markup
from qrcode.constants import ERROR_CORRECT_M


def receipt_lookup_url(root_url: str, cycle_slug: str, code: str) -> str:
    """The public lookup page with the code in the fragment (after "#").

    Browsers never send the fragment to the server, so the code reaches no access log; the
    page's script submits it by POST (board/views/routes.py). `root_url` is the site's root, as
    `request.host_url` gives it.
    """
    return f"{root_url.rstrip('/')}/ciclos/{quote(cycle_slug)}/comprovante#{quote(code)}"


def qr_svg(data: str, *, title: str) -> Markup:
    """An accessible inline SVG QR code of `data`; `title` is its text alternative."""
    code = qrcode.QRCode(error_correction=ERROR_CORRECT_M, border=4)
    code.add_data(data)
    code.make(fit=True)
    image = code.make_image(image_factory=qrcode.image.svg.SvgPathFillImage)
    svg = image.to_string(encoding="unicode")
    # Drop the fixed size in millimetres so CSS can size it; add a role and a name for
    # screen readers.
    svg = svg.replace("<svg ", '<svg role="img" class="qr" focusable="false" ', 1)
    svg = _strip_attribute(svg, "width")
    svg = _strip_attribute(svg, "height")
    head, sep, tail = svg.partition(">")
    # Safe: the markup is the qrcode library's own output, and the title is escaped.
    return Markup(f"{head}{sep}<title>{Markup.escape(title)}</title>{tail}")  # noqa: S704


def _strip_attribute(svg: str, name: str) -> str:
    start = svg.find(f' {name}="')
    end_of_tag = svg.find(">")
    if start == -1 or start > end_of_tag:
        return svg
    end = svg.find('"', start + len(name) + 3)
    return svg[:start] + svg[end + 1 :]
