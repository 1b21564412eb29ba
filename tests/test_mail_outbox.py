"""The outbox's sender against a real SMTP server (tests/support/smtp_sink.py): what arrives,
when nothing does, retries, refusals, erasure, two senders at once, and the commands."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa

from opdigital.audit.models import AuditEntry
from opdigital.clock import now
from opdigital.extensions import db
from opdigital.mail import outbox
from opdigital.mail.models import OutboxMessage, OutboxStatus
from opdigital.mail.sender import RETRY_DELAYS_MINUTES, message_id, retry_delay, send_due

ADDRESS = "maria@example.org"
UNSUBSCRIBE = "https://op.example/descadastrar/abc123"


def queue(to: str = ADDRESS, *, commit: bool = True, **options) -> OutboxMessage:
    options.setdefault("language", "en")
    message = outbox.enqueue(
        kind="mail.test", to=to, template="test_message", server="smtp.example", **options
    )
    if commit:
        db.session.commit()
    return message


def row(message_id: int) -> OutboxMessage:
    db.session.expire_all()
    return db.session.get(OutboxMessage, message_id)


def make_due(message: OutboxMessage) -> None:
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == message.id)
        .values(next_attempt_at=now() - timedelta(seconds=1))
    )
    db.session.commit()


# --- delivery ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "programme", "content_language"),
    [
        ("en", "OP Digital · Belo Horizonte participatory budget", "en"),
        ("pt_BR", "OP Digital · Orçamento participativo de Belo Horizonte", "pt-BR"),
    ],
)
def test_a_queued_message_arrives_as_written_with_its_headers(
    app, app_ctx, mail_sink, language, programme, content_language
):
    queued = queue(language=language, unsubscribe_url=UNSUBSCRIBE)
    assert mail_sink.messages == []  # queued only: nothing goes out until the sender runs

    report = send_due()

    assert (report.sent, report.retried, report.failed) == (1, 0, 0)
    (received,) = mail_sink.messages
    assert mail_sink.recipients == [ADDRESS]
    sent = row(queued.id)
    assert received["From"] == app.config["MAIL_DEFAULT_SENDER"]
    assert received["To"] == ADDRESS
    assert received["Subject"] == sent.subject
    assert received["Date"].datetime is not None
    assert received["Message-ID"] == message_id(sent, app.config["MAIL_DEFAULT_SENDER"])
    assert received["Auto-Submitted"] == "auto-generated"
    assert received["List-Unsubscribe"] == f"<{UNSUBSCRIBE}>"
    assert received["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert received["Content-Language"] == content_language
    assert received.get_content_type() == "text/plain"
    assert received.get_content_charset() == "utf-8"
    body = received.get_content()
    assert body.replace("\r\n", "\n") == sent.body_text
    assert "smtp.example" in body
    # The footer, in the recipient's language, links to the privacy notice on the public site.
    assert programme in body
    assert f"{app.config['PUBLIC_BASE_URL'].rstrip('/')}/privacidade" in body
    assert (sent.status, sent.attempts, sent.last_error) == ("sent", 1, "")
    assert sent.sent_at is not None and sent.erased_at is None
    assert sent.to_address == ADDRESS  # kept until the retention rule


def test_accents_in_the_subject_and_text_arrive_intact_and_no_unsubscribe_without_a_link(
    app_ctx, mail_sink
):
    message = OutboxMessage(
        kind="proposal.accepted",
        to_address="joão@exemplo.com.br",
        subject="Sua proposta “Praça da Liberdade” foi aceita — ação nº 7",
        body_text="Olá, João!\n\nA proposta de iluminação da praça foi aceita.\n",
        language="pt_BR",
    )
    db.session.add(message)
    db.session.commit()
    assert send_due().sent == 1
    (received,) = mail_sink.messages
    # Encoded words (RFC 2047) on a folded line: mail clients drop the fold's leading space,
    # Python's parser keeps it.
    assert received["Subject"].strip() == "Sua proposta “Praça da Liberdade” foi aceita — ação nº 7"
    assert received.get_content().replace("\r\n", "\n") == message.body_text
    assert "List-Unsubscribe" not in received
    assert "List-Unsubscribe-Post" not in received


def test_the_message_id_is_the_same_at_every_attempt_and_unique_per_message(app, app_ctx):
    first, second = queue(), queue()
    sender = app.config["MAIL_DEFAULT_SENDER"]
    assert message_id(first, sender) == message_id(row(first.id), sender)
    assert message_id(first, sender) != message_id(second, sender)
    assert message_id(first, sender).endswith("@localhost>")  # the sender's domain


def test_nothing_is_sent_before_the_commit(app, app_ctx, mail_sink):
    pending = queue(commit=False)
    with app.app_context():  # another sender, on a connection of its own
        assert send_due().total == 0
    db.session.rollback()  # the change the message reported did not happen
    assert send_due().total == 0
    assert mail_sink.messages == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0

    committed = queue()
    assert send_due().sent == 1
    assert row(committed.id).status == "sent"
    assert len(mail_sink.messages) == 1
    assert pending not in db.session


# --- failures ----------------------------------------------------------------------------------


def test_an_unreachable_server_is_retried_with_growing_delays(app_ctx, mail_sink, time_machine):
    start = now()
    time_machine.move_to(start, tick=False)
    mail_sink.stop()
    message = queue()

    waited = start
    for attempt, minutes in enumerate(RETRY_DELAYS_MINUTES[:3], start=1):
        report = send_due()
        assert (report.sent, report.retried, report.failed) == (0, 1, 0)
        failed = row(message.id)
        assert (failed.status, failed.attempts) == ("queued", attempt)
        assert failed.next_attempt_at == waited + timedelta(minutes=minutes)
        assert "ConnectionRefusedError" in failed.last_error
        assert send_due().total == 0  # not due again before its delay
        waited = failed.next_attempt_at
        time_machine.move_to(waited, tick=False)

    mail_sink.start()
    assert send_due().sent == 1
    delivered = row(message.id)
    assert (delivered.status, delivered.attempts, delivered.last_error) == ("sent", 4, "")
    assert mail_sink.recipients == [ADDRESS]


def test_one_failed_connection_ends_the_batch_without_costing_the_others_an_attempt(
    app_ctx, mail_sink
):
    mail_sink.stop()
    first, second, third = queue(), queue("jose@example.org"), queue("ana@example.org")
    report = send_due()
    assert (report.sent, report.retried, report.failed) == (0, 1, 0)
    assert [row(m.id).attempts for m in (first, second, third)] == [1, 0, 0]
    mail_sink.start()
    assert send_due().sent == 2  # the first waits for its delay
    assert mail_sink.recipients == ["jose@example.org", "ana@example.org"]


def test_the_delays_grow_to_twelve_hours_and_stay_there():
    delays = [retry_delay(n) for n in range(1, 11)]
    assert delays[:4] == [timedelta(minutes=m) for m in (1, 5, 15, 60)]
    assert delays[4:7] == [timedelta(hours=h) for h in (3, 6, 12)]
    assert delays[7:] == [timedelta(hours=12)] * 3
    assert delays == sorted(delays)


def test_a_recipient_refused_for_good_fails_at_once_and_the_batch_goes_on(
    app_ctx, mail_sink, caplog
):
    mail_sink.refuse("nobody@example.org")
    refused = queue("nobody@example.org")
    fine = queue()
    caplog.set_level(logging.DEBUG)

    report = send_due()

    assert (report.sent, report.retried, report.failed) == (1, 0, 1)
    failed = row(refused.id)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.last_error.startswith("550 5.1.1")
    assert "nobody@example.org" not in failed.last_error
    assert mail_sink.recipients == [ADDRESS]
    assert row(fine.id).status == "sent"
    assert send_due().total == 0  # never tried again by itself
    # The logs name messages by id and kind: no address, no text.
    logged = caplog.text
    assert f"outbox message {refused.id} (mail.test)" in logged
    for secret in ("nobody@example.org", ADDRESS, "smtp.example", failed.subject):
        assert secret not in logged


def test_a_deferred_recipient_is_retried_and_the_connection_serves_the_rest(app_ctx, mail_sink):
    mail_sink.defer("greylisted@example.org")
    deferred = queue("greylisted@example.org")
    fine = queue()
    report = send_due()
    assert (report.sent, report.retried, report.failed) == (1, 1, 0)
    waiting = row(deferred.id)
    assert (waiting.status, waiting.attempts) == ("queued", 1)
    assert waiting.last_error.startswith("451 4.7.1")
    assert row(fine.id).status == "sent"


def test_a_message_is_given_up_after_mail_max_attempts(app_ctx, mail_sink, settings):
    settings(MAIL_MAX_ATTEMPTS=3)
    mail_sink.stop()
    message = queue()
    for attempt in (1, 2):
        assert send_due().retried == 1
        assert (row(message.id).status, row(message.id).attempts) == ("queued", attempt)
        make_due(message)
    report = send_due()
    assert (report.retried, report.failed) == (0, 1)
    failed = row(message.id)
    assert (failed.status, failed.attempts) == ("failed", 3)
    assert failed.next_attempt_at <= now()  # the time of its last attempt
    mail_sink.start()
    assert send_due().total == 0
    assert mail_sink.messages == []


@pytest.mark.parametrize(
    "header",
    [
        {"to": "maria@example.org\nBcc: evil@example.net"},
        {"unsubscribe_url": "https://op.example/u\r\nBcc: evil@example.net"},
    ],
)
def test_a_message_that_cannot_be_written_fails_without_stopping_the_others(
    app_ctx, mail_sink, header
):
    broken = queue(**({"to": ADDRESS} | header))
    fine = queue("jose@example.org")
    report = send_due()
    assert (report.sent, report.failed) == (1, 1)
    failed = row(broken.id)
    assert (failed.status, failed.attempts) == ("failed", 1)
    assert failed.last_error.startswith("the message cannot be written (")  # no address
    assert "example" not in failed.last_error
    assert mail_sink.recipients == ["jose@example.org"]  # no header was injected
    assert row(fine.id).status == "sent"


def test_erase_after_send_leaves_neither_the_address_nor_the_text(app_ctx, mail_sink):
    message = queue(erase_after_send=True)
    assert send_due().sent == 1
    assert ADDRESS in mail_sink.recipients  # delivered whole
    erased = row(message.id)
    assert (erased.to_address, erased.body_text) == ("", "")
    assert erased.erased_at == erased.sent_at
    assert (erased.status, erased.kind) == ("sent", "mail.test")


# --- two senders -------------------------------------------------------------------------------


def test_a_message_another_sender_holds_is_skipped_not_sent_twice(app_ctx, mail_sink):
    held, other = queue(), queue("jose@example.org")
    with db.engine.connect() as connection:
        # Another sender in the middle of sending `held`: its row is locked.
        connection.execute(
            sa.select(OutboxMessage.id).where(OutboxMessage.id == held.id).with_for_update()
        )
        report = send_due()
        assert report.sent == 1
        assert mail_sink.recipients == ["jose@example.org"]
        connection.rollback()
    assert row(other.id).status == "sent"
    assert send_due().sent == 1
    assert mail_sink.recipients == ["jose@example.org", ADDRESS]


def test_senders_running_together_send_each_message_once(app, app_ctx, mail_sink):
    messages = [queue(f"person{n}@example.org") for n in range(24)]
    reports = []
    start = threading.Barrier(3, timeout=30)

    def sender() -> None:
        with app.app_context():
            start.wait()
            reports.append(send_due())
            db.session.remove()

    threads = [threading.Thread(target=sender) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert len(reports) == 3
    assert sum(r.sent for r in reports) == 24
    assert sorted(mail_sink.recipients) == sorted(m.to_address for m in messages)
    assert len({m["Message-ID"] for m in mail_sink.messages}) == 24
    assert {(m.status, m.attempts) for m in map(row, (m.id for m in messages))} == {("sent", 1)}


# --- retention ---------------------------------------------------------------------------------


def _erasures() -> list[AuditEntry]:
    return list(
        db.session.scalars(sa.select(AuditEntry).where(AuditEntry.action == "mail.outbox_erased"))
    )


def test_retention_erases_sent_and_failed_messages_after_their_days_once(
    app_ctx, mail_sink, runner, settings, time_machine
):
    settings(OUTBOX_RETENTION_DAYS=30)
    start = now()
    time_machine.move_to(start, tick=False)
    mail_sink.refuse("nobody@example.org")
    sent, failed = queue(), queue("nobody@example.org")
    waiting = queue("later@example.org")
    db.session.execute(
        sa.update(OutboxMessage)
        .where(OutboxMessage.id == waiting.id)
        .values(next_attempt_at=start + timedelta(days=60))
    )
    db.session.commit()
    assert send_due().total == 2

    time_machine.move_to(start + timedelta(days=30), tick=False)
    early = runner.invoke(args=["retention", "run"])
    assert early.exit_code == 0, early.output
    assert row(sent.id).to_address == ADDRESS
    assert not _erasures()

    time_machine.move_to(start + timedelta(days=30, minutes=1), tick=False)
    dry = runner.invoke(args=["retention", "run", "--dry-run"])
    assert "Would erase the address and text of 2 sent or failed e-mails." in dry.output
    assert row(sent.id).to_address == ADDRESS

    done = runner.invoke(args=["retention", "run"])
    assert done.exit_code == 0, done.output
    assert "Erased the address and text of 2 sent or failed e-mails." in done.output
    for message in (row(sent.id), row(failed.id)):
        assert (message.to_address, message.body_text) == ("", "")
        assert message.erased_at == start + timedelta(days=30, minutes=1)
        assert message.subject  # the screen still tells what it was
    still = row(waiting.id)
    assert (still.to_address, still.erased_at) == ("later@example.org", None)
    (entry,) = _erasures()
    assert entry.after == {"messages": 2}
    assert entry.object_id == ""

    again = runner.invoke(args=["retention", "run"])
    assert again.exit_code == 0, again.output
    assert "Erased" not in again.output
    assert len(_erasures()) == 1
    runs = db.session.scalars(
        sa.select(AuditEntry).where(AuditEntry.action == "retention.run").order_by(AuditEntry.id)
    ).all()
    assert [r.after["outbox_messages_erased"] for r in runs] == [0, 2, 0]
    logged = str(
        [(e.before, e.after, e.object_id) for e in db.session.scalars(sa.select(AuditEntry))]
    )
    assert ADDRESS not in logged and "nobody@example.org" not in logged


def test_the_retention_screen_shows_the_e_mails_held(app, app_ctx, client, mail_sink):
    from tests.support import factories
    from tests.support.coordination import sign_in

    queue()
    send_due()
    sign_in(client, factories.user("coordinator"))
    page = client.get("/staff/retention")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "E-mails still holding an address" in text
    assert ADDRESS not in text


# --- the commands ------------------------------------------------------------------------------


def test_mail_send_sends_what_is_due_once_and_prints_the_counts(app_ctx, mail_sink, runner):
    queue()
    mail_sink.refuse("nobody@example.org")
    queue("nobody@example.org")
    result = runner.invoke(args=["mail", "send"])
    assert result.exit_code == 0, result.output
    assert result.output == "Done: 1 sent, 0 to retry, 1 failed.\n"
    again = runner.invoke(args=["mail", "send"])
    assert again.output == "Done: 0 sent, 0 to retry, 0 failed.\n"


def test_mail_test_queues_a_message_the_sender_delivers(app_ctx, mail_sink, runner):
    result = runner.invoke(args=["mail", "test", "Ops@Example.org", "--language", "en"])
    assert result.exit_code == 0, result.output
    assert "O•••@example.org" in result.output
    assert "Ops@" not in result.output
    (queued,) = db.session.scalars(sa.select(OutboxMessage)).all()
    assert (queued.kind, queued.status, queued.language) == ("mail.test", "queued", "en")
    assert runner.invoke(args=["mail", "send"]).exit_code == 0
    (received,) = mail_sink.messages
    assert received["Subject"] == "OP Digital: test message"
    assert "opdigital mail test" in received.get_content()


@pytest.mark.parametrize("address", ["no-at-sign", "a@b@c.org", "x@"])
def test_mail_test_refuses_what_is_not_an_address(app_ctx, runner, address):
    result = runner.invoke(args=["mail", "test", address])
    assert result.exit_code == 2
    assert "Invalid value for ADDRESS" in result.output
    assert db.session.scalar(sa.select(sa.func.count()).select_from(OutboxMessage)) == 0


def test_mail_send_watch_sends_until_sigterm_then_exits_cleanly(
    app, app_ctx, mail_sink, database_url, redis_url
):
    queue()
    env = os.environ | {
        "OPDIGITAL_CONFIG": "testing",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "MAIL_SERVER": mail_sink.host,
        "MAIL_PORT": str(mail_sink.port),
    }
    script = Path(sys.executable).with_name("opdigital")
    process = subprocess.Popen(  # noqa: S603 - our own console script
        [str(script), "mail", "send", "--watch", "--interval", "0.2"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        _wait_for(lambda: len(mail_sink.messages) == 1, process)
        second = queue("jose@example.org")  # found at a later look
        _wait_for(lambda: len(mail_sink.messages) == 2, process)
        # The sink has the message before the sender commits its row as sent.
        _wait_for(lambda: row(second.id).status == "sent", process)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = process.communicate(timeout=30)
    assert process.returncode == 0, err
    assert "1 sent, 0 to retry, 0 failed." in out
    assert out.rstrip().endswith("Stopped.")
    assert ADDRESS not in out + err and "jose@example.org" not in out + err


def _wait_for(condition, process, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if process.poll() is not None:
            raise AssertionError(process.stderr.read())
        assert time.monotonic() < deadline, "the sender did not send in time"
        time.sleep(0.05)


def test_statuses_are_the_three_the_database_allows():
    assert {s.value for s in OutboxStatus} == {"queued", "sent", "failed"}
