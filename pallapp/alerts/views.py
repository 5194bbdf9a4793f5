"""The alert list of a unit's staff, acknowledging an alert, and the unit's alert load."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask_babel import gettext
from flask_login import current_user, login_required

from pallapp import scoring
from pallapp.alerts import bp, services
from pallapp.models import utcnow


def _staff_only() -> None:
    if not current_user.is_staff:
        abort(403)


@bp.route("/alerts")
@login_required
def index():  # type: ignore[no-untyped-def]
    _staff_only()
    now = utcnow()
    listing = services.alerts_for(current_user, now)
    return render_template(
        "alerts/index.html",
        alerts=listing.alerts,
        failed=listing.failed_messages,
        load=services.unit_load(current_user, now),
        titles={
            alert.id: gettext(scoring.FLAG_CODES[alert.flag.code].title)
            if alert.flag.code in scoring.FLAG_CODES
            else alert.flag.code
            for alert in listing.alerts
        },
    )


@bp.route("/alerts/<public_id>/acknowledge", methods=["POST"])
@login_required
def acknowledge(public_id: str):  # type: ignore[no-untyped-def]
    _staff_only()
    try:
        services.acknowledge(current_user, public_id, utcnow())
    except services.AlertNotOpen:
        flash(gettext("Someone has already acknowledged this alert."), "info")
    else:
        flash(gettext("Alert acknowledged. Acknowledge the flag with a note once it is dealt with."), "success")
    return redirect(url_for("alerts.index"))
