"""The staff outbox screen (/staff/outbox): admins only, addresses masked, texts never shown,
and "Retry now" audited."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.clock import now
from opdigital.extensions import db
from opdigital.mail import outbox
from opdigital.mail.models import OutboxMessage
from opdigital.mail.queries import mask_address
from opdigital.mail.sender import send_due
from tests.support import factories
from tests.support.client import assert_access_by_role
from tests.support.coordination import post, sign_in, text

URL = "/staff/outbox/"


def queue(to: str) -> OutboxMessage:
    message = outbox.enqueue(
        kind="mail.test", to=to, template="test_message", language="en", server="smtp.example"
    )
    db.session.commit()
    return message


@pytest.fixture
def admin(client, app_ctx):
    user = factories.user("admin")
    sign_in(client, user)
    return user


def _retries() -> list[AuditEntry]:
    return list(db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "mail.retry")))


@pytest.mark.parametrize(
    ("address", "masked"),
    [
        ("maria@example.org", "m•••@example.org"),
        ("m@example.org", "m•••@example.org"),
        ("joão.silva@prefeitura.example", "j•••@prefeitura.example"),
        ("", ""),
    ],
)
def test_addresses_are_masked_to_their_first_letter_and_domain(address, masked):
    assert mask_address(address) == masked


def test_only_admins_see_the_outbox(app):
    staff = factories.staff_per_role(app)
    assert_access_by_role(app, URL, staff, {"admin": 200, "coordinator": 403, "auditor": 403})


def test_the_screen_counts_lists_and_masks(client, admin, mail_sink):
    mail_sink.refuse("nobody@example.org")
    sent = queue("maria@example.org")
    failed = queue("nobody@example.org")
    send_due()
    waiting = queue("jose@example.org")

    page = client.get(URL)

    assert page.status_code == 200
    body = page.get_data(as_text=True)
    for address in ("maria@example.org", "nobody@example.org", "jose@example.org"):
        assert address not in body
    for masked in ("m•••@example.org", "n•••@example.org", "j•••@example.org"):
        assert masked in body
    assert db.session.get(OutboxMessage, sent.id).body_text.splitlines()[0] not in body
    assert "550 5.1.1 Mailbox unavailable" in body  # the failed one's last error
    assert 'data-status="queued">1<' in body
    assert 'data-status="sent">1<' in body
    assert 'data-status="failed">1<' in body
    # Newest first; "Retry now" for the waiting and the failed message, not the sent one.
    order = [body.index(f'data-message="{m.id}"') for m in (waiting, failed, sent)]
    assert order == sorted(order)
    retry_forms = {m.id: f"/staff/outbox/{m.id}/retry" in body for m in (sent, failed, waiting)}
    assert retry_forms == {sent.id: False, failed.id: True, waiting.id: True}
    assert f'href="{URL}"' in client.get("/").get_data(as_text=True)  # in the admin's menu


def test_the_list_filters_by_status_and_pages(client, admin, mail_sink):
    mail_sink.refuse("nobody@example.org")
    queue("nobody@example.org")
    queue("maria@example.org")
    send_due()
    failed_only = client.get(URL + "?status=failed").get_data(as_text=True)
    assert "n•••@example.org" in failed_only and "m•••@example.org" not in failed_only
    assert client.get(URL + "?status=nonsense").status_code == 400
    assert client.get(URL + "?page=abc").status_code == 200
    assert client.get(URL + "?page=7").status_code == 404


def test_an_erased_message_shows_no_address(client, admin, mail_sink):
    message = outbox.enqueue(
        kind="subject_request.code",
        to="maria@example.org",
        template="test_message",
        server="smtp.example",
        erase_after_send=True,
    )
    db.session.commit()
    send_due()
    page = text(client.get(URL))
    assert "m•••@example.org" not in page
    assert "erased" in page
    assert f"/staff/outbox/{message.id}/retry" not in client.get(URL).get_data(as_text=True)


def test_retry_now_queues_a_failed_message_and_is_audited(app, client, admin, mail_sink):
    mail_sink.refuse("nobody@example.org")
    message = queue("nobody@example.org")
    send_due()
    assert db.session.get(OutboxMessage, message.id).status == "failed"

    response = post(app, client, f"/staff/outbox/{message.id}/retry")

    assert response.status_code == 303
    assert response.headers["Location"] == URL
    db.session.expire_all()
    retried = db.session.get(OutboxMessage, message.id)
    assert (retried.status, retried.attempts) == ("queued", 1)  # its attempts are kept
    assert retried.next_attempt_at <= now()
    (entry,) = _retries()
    assert (entry.actor_id, entry.object_type, entry.object_id) == (
        admin.id,
        "outboxmessage",
        str(message.id),
    )
    assert entry.before == {"status": "failed", "attempts": 1}
    assert entry.after == {"status": "queued"}
    assert "nobody" not in str((entry.before, entry.after, entry.object_id))
    assert "will be sent at the next run" in text(client.get(URL))

    mail_sink.refused.clear()  # the mailbox exists now
    assert send_due().sent == 1
    assert mail_sink.recipients == ["nobody@example.org"]


def test_retry_now_brings_a_waiting_message_forward(app, client, admin, mail_sink):
    message = queue("maria@example.org")
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(next_attempt_at=now() + timedelta(hours=6), attempts=5)
    )
    db.session.commit()
    assert send_due().total == 0
    assert post(app, client, f"/staff/outbox/{message.id}/retry").status_code == 303
    assert send_due().sent == 1


def test_retry_now_refuses_sent_erased_and_unknown_messages(app, client, admin, mail_sink):
    sent = queue("maria@example.org")
    erased = outbox.enqueue(
        kind="mail.test",
        to="jose@example.org",
        template="test_message",
        server="smtp.example",
        erase_after_send=True,
    )
    db.session.commit()
    send_due()
    for message, reason in ((sent, "was sent already"), (erased, "was erased")):
        response = post(app, client, f"/staff/outbox/{message.id}/retry")
        assert response.status_code == 303
        assert reason in text(client.get(URL))
        db.session.expire_all()
        assert db.session.get(OutboxMessage, message.id).status == "sent"
    assert post(app, client, "/staff/outbox/999999/retry").status_code == 404
    assert not _retries()
    assert len(mail_sink.messages) == 2


def test_retry_needs_an_admin_and_a_csrf_token(app, client, app_ctx, mail_sink):
    mail_sink.refuse("nobody@example.org")
    message = queue("nobody@example.org")
    send_due()
    url = f"/staff/outbox/{message.id}/retry"
    # Anonymous visitors are sent to sign in: tests/test_security_matrix.py.
    sign_in(client, factories.user("coordinator"))
    assert post(app, client, url).status_code == 403
    admin_client = app.test_client()
    sign_in(admin_client, factories.user("admin"))
    assert admin_client.post(url).status_code == 400  # no CSRF token
    db.session.expire_all()
    assert db.session.get(OutboxMessage, message.id).status == "failed"
    assert not _retries()
