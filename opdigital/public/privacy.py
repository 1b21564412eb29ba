"""The privacy notice (LGPD): `/privacidade`, and the record of processing as JSON.

Both are generated from `opdigital.privacy.record`, the one record of what the app keeps.
"""

from __future__ import annotations

from flask import current_app, jsonify, render_template

from opdigital.kiosk.devices import COOKIE_MAX_AGE
from opdigital.kiosk.layout import layout_context
from opdigital.privacy import record
from opdigital.public import bp
from opdigital.voting.limits import current_client


@bp.get("/privacidade")
def privacy():
    """The notice: controller, encarregado, each kind of data, rights, cookies."""
    return render_template(
        "public/privacy.html",
        who=record.controller(current_app.config),
        activities=record.ACTIVITIES,
        without_personal_data=record.WITHOUT_PERSONAL_DATA,
        rights=record.RIGHTS,
        session_cookie=current_app.config.get("SESSION_COOKIE_NAME", "session"),
        kiosk_cookie_days=COOKIE_MAX_AGE.days,
        **layout_context(current_client),
    )


@bp.get("/privacidade.json")
def privacy_json():
    """The record of processing (LGPD art. 37), machine-readable, in the visitor's language."""
    return jsonify(record.document(current_app.config))
