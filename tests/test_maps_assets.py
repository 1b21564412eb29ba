"""Leaflet is served from our own static files (vendored from npm, with its licence), and no
template loads a script, a style sheet or a font from another origin."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LEAFLET = ROOT / "static" / "vendor" / "leaflet"
VERSION = "1.9.4"


def test_leaflet_is_vendored_with_its_licence_and_version():
    assert f'version="{VERSION}"' in (LEAFLET / "leaflet.js").read_text()
    assert (LEAFLET / "leaflet.css").is_file()
    assert "BSD 2-Clause" in (LEAFLET / "LICENSE").read_text()
    readme = (LEAFLET / "README.md").read_text()
    assert f"Leaflet {VERSION}" in readme and f"npm pack leaflet@{VERSION}" in readme
    for image in ("layers.png", "layers-2x.png", "marker-icon.png", "marker-shadow.png"):
        assert (LEAFLET / "images" / image).is_file(), image


def test_no_template_loads_anything_from_another_origin():
    # A src or a stylesheet href that is absolute (scheme or protocol-relative) in any template.
    external = re.compile(r"""(?:src|href)\s*=\s*["'](?:[a-z]+:)?//""", re.IGNORECASE)
    offenders = []
    for template in (ROOT / "templates").rglob("*.html"):
        for line in template.read_text().splitlines():
            if external.search(line) and ("<script" in line or "stylesheet" in line):
                offenders.append(f"{template.relative_to(ROOT)}: {line.strip()}")
    assert not offenders, offenders


def test_the_map_script_and_leaflet_are_served_from_this_site(client):
    for path in ("/static/vendor/leaflet/leaflet.js", "/static/js/map.js", "/static/css/maps.css"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "script-src 'self';" in response.headers["Content-Security-Policy"]


def test_the_map_script_writes_no_server_text_as_html():
    script = (ROOT / "static" / "js" / "map.js").read_text()
    # Text reaches the page through textContent; the one innerHTML read escapes the attribution.
    assert "innerHTML =" not in script
