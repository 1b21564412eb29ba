"""The execution evidence forms under hostile input, as tests/test_fuzz_forms.py does for the
others (its strategies and checks): no 500, a refusal changes nothing, a change is audited,
accepted text is stored as typed.

Apart because these forms have prefixes (several forms on one screen), so their CSRF field is
`<prefix>-csrf_token`, which the shared cases do not send.
"""

from __future__ import annotations

from datetime import timedelta
from types import SimpleNamespace

import pytest
from hypothesis import HealthCheck, given, settings
from werkzeug.datastructures import MultiDict

from opdigital.clock import today_in_city
from opdigital.extensions import db
from tests.support import factories
from tests.support import works_evidence as we
from tests.support.client import login_as
from tests.support.coordination import token
from tests.support.form_fuzz import audit_count, check_answer, table_digests
from tests.test_fuzz_forms import EXAMPLES, form_data

pytestmark = pytest.mark.fuzz

YESTERDAY = (today_in_city() - timedelta(days=1)).strftime("%d/%m/%Y")
CASES = {
    "figures": (
        "figures",
        lambda w: f"/staff/works/{w.code}/figures",
        {"department": "SUDECAP", "committed": "400.000,00", "spent": "100.000,00"},
        {"department"},
    ),
    "add_milestone": (
        "milestone",
        lambda w: f"/staff/works/{w.code}/milestones",
        {
            "title": "Projeto",
            "planned_on": "01/03/2026",
            "done_on": "",
            "weight": "2",
            "note": "Contratado.",
        },
        {"title", "note"},
    ),
    "edit_milestone": (
        "milestone",
        lambda w: f"/staff/works/{w.code}/milestones/{w.milestone_id}",
        {
            "title": "Obra",
            "planned_on": "2026-05-01",
            "done_on": YESTERDAY,
            "weight": "5",
            "note": "",
        },
        {"title", "note"},
    ),
    "milestone_done": (
        "done-{w.milestone_id}",
        lambda w: f"/staff/works/{w.code}/milestones/{w.milestone_id}/done",
        {"done_on": YESTERDAY},
        set(),
    ),
}


@pytest.fixture
def work(app):
    with app.app_context():
        w = we.followed_work()
        user = factories.user("coordinator")
        milestone = we.add_milestone(w.work, "Obra", today_in_city())
        ids = SimpleNamespace(code=w.code, user_id=user.id, milestone_id=milestone.id)
        db.session.remove()
    return ids


@pytest.mark.parametrize("name", sorted(CASES))
def test_evidence_form_survives_hostile_input(app, work, name):
    prefix, url, fields, text = CASES[name]
    prefix = prefix.format(w=work)

    @given(pairs=form_data(fields))
    @settings(
        max_examples=EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
    )
    def post(pairs):
        client = app.test_client()
        login_as(client, SimpleNamespace(id=work.user_id))
        with app.app_context():
            before, audits = table_digests(), audit_count()
            db.session.remove()
        sent = [(f"{prefix}-{name}", value) for name, value in pairs]
        data = MultiDict([(f"{prefix}-csrf_token", token(app, client)), *sent])
        response = client.post(url(work), data=data)
        check_answer(app, response.status_code, pairs, before, audits, text=text)

    post()
