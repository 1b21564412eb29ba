"""Every page people see has landmarks, one h1, and a label on every field.

The pages are crawled from the demo data, signed out and as each staff role, so new pages and
forms are checked without listing them here.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from opdigital.demo.loader import load_demo
from opdigital.extensions import db
from opdigital.models import User
from tests.support.client import login_as
from tests.support.pages import PageAudit


def _audit(client, url: str) -> PageAudit:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    page = PageAudit()
    page.feed(response.get_data(as_text=True))
    assert page.problems() == [], url
    return page


def _crawl(client, start: list[str], prefixes: tuple[str, ...], limit: int = 60) -> set[str]:
    """Breadth-first over local links under `prefixes`, one page per distinct path shape."""
    seen_paths, seen_shapes, queue = set(), set(), list(start)
    while queue and len(seen_paths) < limit:
        url = queue.pop(0)
        path = urlsplit(url).path
        shape = re.sub(r"\d+", "N", path)
        if path in seen_paths or shape in seen_shapes and "?" not in url:
            continue
        seen_paths.add(path)
        seen_shapes.add(shape)
        page = _audit(client, url)
        for href in page.links:
            parts = urlsplit(href)
            if parts.netloc or not parts.path.startswith(prefixes):
                continue
            if parts.path.endswith(
                (".ics", ".json", ".csv", ".zip", ".pb", ".atom", ".geojson")
            ) or parts.path.startswith("/lang/"):
                continue
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return seen_paths


@pytest.fixture
def demo(app):
    with app.app_context():
        load_demo()
        users = {u.role: u.id for u in db.session.scalars(db.select(User))}
    return users


def test_public_pages_are_accessible(client, demo):
    visited = _crawl(client, ["/", "/login"], ("/ciclos", "/propostas", "/login", "/obras"))
    assert any(p.startswith("/ciclos/") and p.endswith("/nova") for p in visited)
    assert any(p.startswith("/propostas/") for p in visited)
    assert "/obras" in visited
    assert len(visited) >= 8


@pytest.mark.parametrize(
    ("role", "start"),
    [("coordinator", "/staff/"), ("admin", "/staff/accounts"), ("auditor", "/audit/")],
)
def test_staff_pages_are_accessible(app, client, demo, role, start):
    with app.app_context():
        login_as(client, db.session.get(User, demo[role]))
    visited = _crawl(client, [start], ("/staff", "/audit"))
    assert len(visited) >= {"coordinator": 10, "admin": 3, "auditor": 1}[role], visited
