"""Writing a message into the outbox: the one way the app sends e-mail.

A message is rendered when it is queued, in the recipient's language, from
`templates/mail/<template>.txt`: the template's first line is the subject, then a blank line,
then the body (plain text, so every mail client and screen reader shows it as written). The
caller commits: the message is sent only if the change it reports is committed with it.
"""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale

from opdigital.extensions import db
from opdigital.mail.models import OutboxMessage

MAX_SUBJECT = 200


def render(template: str, language: str, **context) -> tuple[str, str]:
    """(subject, body) of `mail/<template>.txt` rendered in `language`."""
    language = language if language in current_app.config["LANGUAGES"] else "pt_BR"
    with force_locale(language):
        text = render_template(f"mail/{template}.txt", language=language, **context)
    subject, _blank, body = text.strip("\n").partition("\n\n")
    return " ".join(subject.split())[:MAX_SUBJECT], body.strip() + "\n"


def enqueue(
    *,
    kind: str,
    to: str,
    template: str,
    language: str = "pt_BR",
    proposal_id: int | None = None,
    erase_after_send: bool = False,
    unsubscribe_url: str = "",
    **context,
) -> OutboxMessage:
    """Queue one message to `to` (no commit). `context` goes to the template, with
    `unsubscribe_url` (also kept for the List-Unsubscribe header)."""
    subject, body = render(template, language, unsubscribe_url=unsubscribe_url, **context)
    message = OutboxMessage(
        kind=kind,
        to_address=to.strip(),
        subject=subject,
        body_text=body,
        language=language,
        proposal_id=proposal_id,
        erase_after_send=erase_after_send,
        unsubscribe_url=unsubscribe_url,
    )
    db.session.add(message)
    return message
