"""`opdigital mail send` (the background sender; docs/deploy.md, "Mail") and `opdigital mail
test` (an operator's check of the SMTP settings)."""

from __future__ import annotations

import logging
import signal
import threading

import click
from flask import current_app
from flask.cli import with_appcontext

log = logging.getLogger(__name__)


@click.group("mail")
def mail_group() -> None:
    """Send the outbox's e-mails; check the mail settings."""


@mail_group.command("send")
@click.option("--watch", is_flag=True, help="Keep sending until stopped (SIGTERM or Ctrl-C).")
@click.option(
    "--interval",
    type=click.FloatRange(min=0.1),
    default=10.0,
    show_default=True,
    help="With --watch: seconds between two looks at the outbox.",
)
@with_appcontext
def send_command(watch: bool, interval: float) -> None:
    """Send the queued e-mails that are due, retrying failed ones with growing delays.

    Without --watch, once (for cron); with --watch, until SIGTERM or SIGINT, which let the
    message being sent finish and then exit with status 0. Run one per deployment with
    --watch (a second one is safe: senders never share a message).
    """
    from sqlalchemy.exc import OperationalError

    from opdigital.extensions import db
    from opdigital.mail.sender import send_due

    if not watch:
        click.echo(f"Done: {send_due()}.")
        return
    stop = threading.Event()
    previous = {
        number: signal.signal(number, lambda *_: stop.set())
        for number in (signal.SIGTERM, signal.SIGINT)
    }
    try:
        click.echo(f"Sending e-mail every {interval:g} s until stopped.")
        while not stop.is_set():
            try:
                report = send_due(stop=stop)
            except OperationalError:
                # The database is away (a restart, a failover): try again at the next tick.
                log.warning("the outbox could not be read; trying again in %g s", interval)
            else:
                if report.total:
                    click.echo(f"{report}.")
            db.session.remove()
            stop.wait(interval)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)
    click.echo("Stopped.")


@mail_group.command("test")
@click.argument("address")
@click.option(
    "--language",
    type=click.Choice(["pt_BR", "en"]),
    default="pt_BR",
    show_default=True,
    help="The language of the message.",
)
@with_appcontext
def test_command(address: str, language: str) -> None:
    """Queue a test message to ADDRESS; `opdigital mail send` then delivers it, or shows why
    not (also on the staff outbox screen)."""
    from email_validator import EmailNotValidError, validate_email

    from opdigital.mail.queries import mask_address
    from opdigital.mail.services import queue_test_message

    try:
        address = validate_email(address, check_deliverability=False).normalized
    except EmailNotValidError as e:
        raise click.BadParameter(str(e), param_hint="ADDRESS") from e
    message = queue_test_message(address, language)
    config = current_app.config
    click.echo(
        f"Queued test message {message.id} to {mask_address(address)} "
        f"(through {config['MAIL_SERVER']}:{config['MAIL_PORT']}); "
        "`opdigital mail send` delivers it."
    )
