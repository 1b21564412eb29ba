"""Data-subject requests on the web: the public form and the person's page (`person`), and the
encarregado's queue (`staff`, privacy officers and admins only).

`bp` and its hooks live here; the route modules import `bp` and none of each other.
"""

from __future__ import annotations

from flask import Blueprint
from flask_babel import lazy_gettext as _l

from opdigital.subject_requests.forms import kind_choices

bp = Blueprint("subject_requests", __name__)


@bp.after_request
def keep_out_of_caches(response):
    """Every page here is about one person's request: never kept by a browser or a proxy, and
    never named in a Referer (the person's page address carries its token)."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.context_processor
def inject_labels() -> dict:
    return {
        "kind_labels": {value: label for value, label, _help in kind_choices()},
        "status_labels": {
            "awaiting_verification": _l("Waiting for the code"),
            "open": _l("Confirmed, being handled"),
            "answered": _l("Answered"),
        },
        "contact_kind_labels": {"email": _l("E-mail"), "phone": _l("Phone")},
    }


# The route modules register on `bp`.
from opdigital.subject_requests.views import person, staff  # noqa: E402, F401
