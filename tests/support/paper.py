"""Shared by the paper-ballot tests: a voting cycle with an open point, its poll workers, voters
on the roll, and the entry form's fields. No tests here."""

from __future__ import annotations

from types import SimpleNamespace

import sqlalchemy as sa

from opdigital.accounts.models import User
from opdigital.clock import now
from opdigital.extensions import db
from opdigital.paper.models import PaperBatch
from opdigital.polling.services import set_point_open
from opdigital.polling.views.shared_device import LAST_SEEN
from tests.support import factories
from tests.support import polling as ps
from tests.support import voting as vs
from tests.support.client import english_client, login_as


def paper_world(app, *, voters: int = 0, first: int = 300, open_point: bool = True):
    """An open knapsack cycle (`vs.voting_cycle`: 2-3 works within the budget), a voting point
    with two poll workers, another point with one, a coordinator, and `voters` títulos on the
    roll. Plain values, usable outside the app context."""
    with app.app_context():
        region = factories.region()
        world = vs.voting_cycle(region=region)
        point = ps.point("CRAS Barreiro", region_id=region.id)
        other = ps.point("CRAS Venda Nova", region_id=region.id)
        coordinator = factories.user("coordinator")
        numbers = [vs.make_titulo(first + n) for n in range(voters)]
        for number in numbers:
            vs.register(number, region=region)
        if open_point:
            set_point_open(point.id, world.cycle.id, True, coordinator)
        values = SimpleNamespace(
            cycle_id=world.cycle.id,
            slug=world.slug,
            ids=world.ids,
            region_id=region.id,
            point_id=point.id,
            other_point_id=other.id,
            coordinator=SimpleNamespace(id=coordinator.id, email=coordinator.email),
            voters=numbers,
        )
    values.worker = ps.poll_worker(app, values.point_id, values.cycle_id)
    values.worker2 = ps.poll_worker(app, values.point_id, values.cycle_id)
    values.stranger = ps.poll_worker(app, values.other_point_id, values.cycle_id)
    return values


def client_of(app, person):
    """An English-reading browser signed in as `person`."""
    client = english_client(app)
    login_as(client, person)
    with client.session_transaction() as session:  # a poll worker's idle clock, as at sign-in
        session[LAST_SEEN] = now().timestamp()
    return client


def user(person) -> User:
    return db.session.get(User, person.id)


def base(world) -> str:
    return f"/staff/paper/{world.slug}"


def point_url(world, page: str = "", point_id: int | None = None) -> str:
    url = f"{base(world)}/points/{point_id or world.point_id}"
    return f"{url}/{page}" if page else url


def batch_url(world, batch_id: int, page: str = "") -> str:
    url = f"{base(world)}/batches/{batch_id}"
    return f"{url}/{page}" if page else url


def entry_form(sheets) -> dict:
    """The entry form's fields for `sheets`: (serial, [proposal ids] or "spoiled"), in rows."""
    data: dict = {}
    for row, (serial, marks) in enumerate(sheets, start=1):
        data[f"serial-{row}"] = str(serial)
        if marks == "spoiled":
            data[f"spoiled-{row}"] = "1"
        else:
            data[f"work-{row}"] = [str(i) for i in marks]
    return data


def batch_id(app, world, number: int = 1) -> int:
    with app.app_context():
        return db.session.scalar(
            sa.select(PaperBatch.id).where(
                PaperBatch.cycle_id == world.cycle_id, PaperBatch.number == number
            )
        )
