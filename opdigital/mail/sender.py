"""Delivering the outbox: `send_due` sends every queued message whose time has come.

Each message is claimed in a transaction of its own (`SELECT ... FOR UPDATE SKIP LOCKED`), sent,
and its outcome committed before the next is claimed: two senders never hold the same row, so
they never send one message twice, and a batch that stops half-way leaves the rest queued. All
messages of a batch go through one SMTP connection.

Delivery is at least once, not exactly once: if the process dies after the SMTP server accepted
a message but before its row is committed as sent, the row is still queued and that one message
is sent again by the next run. Its Message-ID is the same both times (it is made from the row),
so a mail client or server may recognise the copy.

Logs name a message by its id and kind only, never by its recipient or its text: whoever may
read the logs must not learn who was written to (a data-subject deletion must leave nothing in
them either).
"""

from __future__ import annotations

import logging
import smtplib
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

import sqlalchemy as sa
from flask import current_app
from flask_mailman import EmailMessage

from opdigital.clock import now
from opdigital.extensions import db, mail
from opdigital.mail.models import OutboxMessage, OutboxStatus

log = logging.getLogger(__name__)

# Minutes to wait after the 1st, 2nd, ... failed attempt; the last one repeats.
RETRY_DELAYS_MINUTES = (1, 5, 15, 60, 3 * 60, 6 * 60, 12 * 60)
MAX_ERROR = 500  # OutboxMessage.last_error's length


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after `attempts` failed attempts (1 or more)."""
    index = min(max(attempts, 1), len(RETRY_DELAYS_MINUTES)) - 1
    return timedelta(minutes=RETRY_DELAYS_MINUTES[index])


@dataclass
class SendReport:
    sent: int = 0
    retried: int = 0  # failed for now, queued again for later
    failed: int = 0  # given up: refused for good, or MAIL_MAX_ATTEMPTS reached

    @property
    def total(self) -> int:
        return self.sent + self.retried + self.failed

    def __str__(self) -> str:
        return f"{self.sent} sent, {self.retried} to retry, {self.failed} failed"


class Transient(Exception):
    """A delivery that may work later (server unreachable, 4xx)."""

    def __init__(self, error: str, reason: str, *, connection_lost: bool = False):
        super().__init__(error)
        self.error = error  # for `last_error`, e.g. "451 4.3.0 Try again later"
        self.reason = reason  # for the log: the reply code or the exception's name
        self.connection_lost = connection_lost  # the batch stops: the rest would fail alike


class Permanent(Exception):
    """A delivery the server refused for good (5xx) or that cannot be written at all."""

    def __init__(self, error: str, reason: str):
        super().__init__(error)
        self.error = error
        self.reason = reason


def _claim_next() -> OutboxMessage | None:
    """Lock the next due message for this transaction; rows other senders hold are skipped."""
    return db.session.scalar(
        sa.select(OutboxMessage)
        .where(OutboxMessage.status == OutboxStatus.QUEUED.value)
        .where(OutboxMessage.next_attempt_at <= now())
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id)
        .limit(1)
        .with_for_update(skip_locked=True)
        .execution_options(populate_existing=True)
    )


def _connection():
    """Flask-Mailman's SMTP backend with the settings as they are now (read at each batch, not
    when the app was built, so that a changed setting applies without a new app)."""
    config = current_app.config
    return mail.get_connection(
        host=config["MAIL_SERVER"],
        port=config["MAIL_PORT"],
        username=config.get("MAIL_USERNAME"),
        password=config.get("MAIL_PASSWORD"),
        use_tls=bool(config.get("MAIL_USE_TLS")),
        use_ssl=bool(config.get("MAIL_USE_SSL")),
        timeout=config.get("MAIL_TIMEOUT"),
    )


def _sender_domain(sender: str) -> str:
    _name, address = parseaddr(sender)
    return address.rpartition("@")[2] or "localhost"


def message_id(message: OutboxMessage, sender: str) -> str:
    """The same Message-ID for every attempt of one row, and another for every other row: the
    row's creation time to the microsecond and its id (ids alone repeat after a restore)."""
    stamp = message.created_at.strftime("%Y%m%d%H%M%S%f")
    return f"<{stamp}.{message.id}.outbox@{_sender_domain(sender)}>"


def build(message: OutboxMessage) -> EmailMessage:
    """The e-mail for one outbox row: plain UTF-8 text with the headers of an automatic
    message (RFC 3834) and, for a proposer's messages, one-click unsubscribe (RFC 8058)."""
    sender = current_app.config["MAIL_DEFAULT_SENDER"]
    headers = {
        "Message-ID": message_id(message, sender),
        "Auto-Submitted": "auto-generated",
        "Content-Language": message.language.replace("_", "-"),
    }
    if message.unsubscribe_url:
        headers["List-Unsubscribe"] = f"<{message.unsubscribe_url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    # Date is added by Flask-Mailman when the message is written, i.e. at each attempt.
    return EmailMessage(
        subject=message.subject,
        body=message.body_text,
        from_email=sender,
        to=[message.to_address],
        headers=headers,
    )


def _short(text: str, address: str) -> str:
    """An error for `last_error`: one line, at most MAX_ERROR characters, and without the
    recipient's address (servers often repeat it; the row's address is erased later)."""
    text = " ".join(str(text).split())
    if address:
        text = _replace_ignoring_case(text, address, "<recipient>")
    return text[:MAX_ERROR]


def _replace_ignoring_case(text: str, old: str, new: str) -> str:
    lowered, target = text.lower(), old.lower()
    parts, start = [], 0
    while (found := lowered.find(target, start)) != -1:
        parts += [text[start:found], new]
        start = found + len(old)
    return "".join(parts) + text[start:]


def _reply(code: int, reply: bytes | str) -> str:
    if isinstance(reply, bytes):
        reply = reply.decode("utf-8", "replace")
    return f"{code} {reply}"


def _classify(error: Exception) -> Transient | Permanent:
    """SMTP's own rule (RFC 5321, 4.2.1): 5xx is final, 4xx and no answer are worth a retry."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        # One recipient per message: its (code, reply) is the only entry.
        code, reply = next(iter(error.recipients.values()), (451, b"recipient refused"))
        kind = Permanent if 500 <= code < 600 else Transient
        return kind(_reply(code, reply), str(code))
    if isinstance(error, smtplib.SMTPResponseException):
        code = error.smtp_code
        text = _reply(code, error.smtp_error)
        if 500 <= code < 600:
            return Permanent(text, str(code))
        return Transient(text, str(code), connection_lost=code == 421)  # 421: closing
    name = type(error).__name__
    return Transient(f"{name}: {error}", name, connection_lost=True)


def _deliver(connection, message: OutboxMessage) -> None:
    """Send one message; Transient or Permanent when it is not accepted."""
    if not message.to_address:
        raise Permanent("no recipient address", "no-recipient")
    try:
        connection.send_messages([build(message)])
    except (smtplib.SMTPException, OSError) as error:
        raise _classify(error) from error
    except ValueError as error:
        # A header or an address that cannot be written (Flask-Mailman's BadHeaderError, an
        # invalid address): this message's fault, for good. Its text may quote the address.
        name = type(error).__name__
        raise Permanent(f"the message cannot be written ({name})", name) from error
    except Exception as error:
        # Unforeseen: retried like a lost connection, so that it cannot hold the queue for
        # ever (it fails after MAIL_MAX_ATTEMPTS), and visible on the outbox screen.
        name = type(error).__name__
        raise Transient(f"unexpected error ({name})", name, connection_lost=True) from error


def _record_sent(message: OutboxMessage, at: datetime) -> None:
    message.status = OutboxStatus.SENT.value
    message.attempts += 1
    message.sent_at = at
    message.last_error = ""
    if message.erase_after_send:
        message.to_address = ""
        message.body_text = ""
        message.erased_at = at


def _record_failure(message: OutboxMessage, error: Transient | Permanent, at: datetime) -> str:
    """Queue the message again later, or give up; the outcome ("retry" or "failed")."""
    message.attempts += 1
    message.last_error = _short(error.error, message.to_address)
    if isinstance(error, Permanent) or message.attempts >= current_app.config["MAIL_MAX_ATTEMPTS"]:
        message.status = OutboxStatus.FAILED.value
        # No next attempt: the column keeps when the last one was made (the retention rule
        # counts a failed message's days from it).
        message.next_attempt_at = at
        return "failed"
    message.next_attempt_at = at + retry_delay(message.attempts)
    return "retry"


def _open(connection) -> Transient | None:
    try:
        connection.open()
    except (smtplib.SMTPException, OSError) as error:
        _close(connection)  # a connection made before STARTTLS or the login failed
        problem = _classify(error)
        # Connecting, STARTTLS or signing in failed: the settings or the server, never one
        # message's fault, so even a 5xx here (a refused login) is only worth a retry.
        return Transient(problem.error, problem.reason, connection_lost=True)
    return None


def send_due(limit: int | None = None, stop: threading.Event | None = None) -> SendReport:
    """Send the queued messages that are due, oldest first, at most `limit` of them; until
    `stop` is set, if given (the message in hand is finished first). Commits after each message:
    call it with no changes of your own pending."""
    report = SendReport()
    connection = _connection()
    opened = False
    try:
        while (limit is None or report.total < limit) and not (stop and stop.is_set()):
            message = _claim_next()
            if message is None:
                break
            problem = None if opened else _open(connection)
            opened = problem is None
            if opened:
                problem = _attempt(connection, message)
            _record(message, problem, report)
            db.session.commit()
            if isinstance(problem, Transient) and problem.connection_lost:
                break  # the server is unreachable now: the others wait for the next run
    except BaseException:
        db.session.rollback()  # the message in hand stays queued, its lock released
        raise
    finally:
        if opened:
            _close(connection)
    return report


def _attempt(connection, message: OutboxMessage) -> Transient | Permanent | None:
    try:
        _deliver(connection, message)
    except (Transient, Permanent) as problem:
        return problem
    return None


def _record(message: OutboxMessage, problem: Transient | Permanent | None, report) -> None:
    at = now()
    if problem is None:
        _record_sent(message, at)
        report.sent += 1
        log.info("outbox message %d (%s) sent", message.id, message.kind)
        return
    outcome = _record_failure(message, problem, at)
    if outcome == "failed":
        report.failed += 1
    else:
        report.retried += 1
    # The reply code or the error's name only: a server's reply may quote the address.
    log.warning(
        "outbox message %d (%s) not sent, %s after %d attempts: %s",
        message.id,
        message.kind,
        "given up" if outcome == "failed" else "will retry",
        message.attempts,
        problem.reason,
    )


def _close(connection) -> None:
    try:
        connection.close()
    except (smtplib.SMTPException, OSError):
        log.info("the SMTP connection did not close cleanly")
