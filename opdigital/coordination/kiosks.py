"""Staff screens for a voting point's kiosks: enrol the device in hand, list, revoke.

Enrolment happens on the device itself: the coordinator signs in there, opens the point's kiosk
page and enrols "this device". The answer sets the kiosk's cookie (kiosk/devices.py) and ends the
coordinator's session in that browser, so the kiosk never stays signed in as staff.
"""

from __future__ import annotations

from flask import flash, make_response, redirect, render_template, session, url_for
from flask_babel import gettext as _
from flask_login import logout_user

from opdigital.coordination import bp
from opdigital.coordination.common import actor
from opdigital.errors import DomainError
from opdigital.extensions import db
from opdigital.kiosk import services as kiosks
from opdigital.kiosk.devices import set_device_cookie
from opdigital.kiosk.forms import EnrolForm, RevokeForm
from opdigital.kiosk.models import KioskDevice
from opdigital.voting.limits import current_client
from opdigital.voting.models import VotingPoint
from opdigital.web import is_read


def _page(point: VotingPoint, form: EnrolForm, status: int = 200, error: str | None = None):
    client = current_client()
    this_device = db.session.get(KioskDevice, client.kiosk_id) if client.is_kiosk else None
    page = render_template(
        "coordination/kiosks.html",
        point=point,
        devices=kiosks.devices_of_point(point.id),
        form=form,
        this_device=this_device,
        error=error,
    )
    # The device's next user is a voter: its back button must not bring this page back.
    return page, status, {"Cache-Control": "no-store"}


@bp.route("/voting-points/<int:point_id>/kiosks", methods=["GET", "POST"])
def kiosks_of_point(point_id: int):
    """The point's kiosks, and the form that enrols the device this page is open on."""
    point = db.get_or_404(VotingPoint, point_id)
    form = EnrolForm()
    if is_read():
        return _page(point, form)
    if not form.validate():
        return _page(point, form, 422)
    replacing = current_client().kiosk_id
    try:
        enrolled = kiosks.enrol_device(point, form.label.data, actor(), replacing=replacing)
    except DomainError as e:
        return _page(point, form, e.status, str(e))
    # The staff session ends in this browser (the account's other sessions stay): the device
    # now belongs to voters.
    logout_user()
    session.clear()
    flash(_("This device is now a kiosk of %(point)s.", point=point.name), "success")
    response = make_response(redirect(url_for("kiosk.start"), code=303))
    set_device_cookie(response, enrolled.device.id, enrolled.secret)
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.post("/voting-points/<int:point_id>/kiosks/<int:device_id>/revoke")
def revoke_kiosk(point_id: int, device_id: int):
    """Revoke a kiosk: its cookie stops working at once."""
    point = db.get_or_404(VotingPoint, point_id)
    form = RevokeForm()
    if not form.validate():
        return _page(point, EnrolForm(formdata=None), 400, _("The form expired. Please try again."))
    try:
        device = kiosks.get_device(point.id, device_id)
        kiosks.revoke_device(device, actor())
    except DomainError as e:
        return _page(point, EnrolForm(formdata=None), e.status, str(e))
    flash(
        _("Kiosk “%(label)s” revoked: it no longer works as a kiosk.", label=device.label),
        "success",
    )
    return redirect(url_for("coordination.kiosks_of_point", point_id=point.id), code=303)
