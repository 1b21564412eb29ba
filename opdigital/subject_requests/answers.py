"""The encarregado's draft answer to a request, in the person's language.

The draft says what is held (an access request) or what was done (the other kinds, from the
request's `outcome`), and always that the electoral roll holds only keyed hashes nobody can read
back. The encarregado edits it before sending; the text sent is not kept.
"""

from __future__ import annotations

from flask import current_app, render_template
from flask_babel import force_locale

from opdigital.subject_requests.models import SubjectRequest
from opdigital.subject_requests.queries import HeldData


def draft(request: SubjectRequest, held: HeldData) -> str:
    config = current_app.config
    language = request.language if request.language in config["LANGUAGES"] else "pt_BR"
    with force_locale(language):
        text = render_template(
            "subject_requests/answer_draft.txt",
            request=request,
            held=held,
            steps=request.outcome or [],
            officer=config["PRIVACY_OFFICER_NAME"] or "",
            contact_days=int(config["PROPOSER_CONTACT_RETENTION_DAYS"]),
            outbox_days=int(config["OUTBOX_RETENTION_DAYS"]),
        )
    # Blank lines left by the template's branches: at most one in a row.
    lines, previous_blank = [], True
    for line in text.splitlines():
        blank = not line.strip()
        if not (blank and previous_blank):
            lines.append(line.rstrip())
        previous_blank = blank
    return "\n".join(lines).strip() + "\n"
