"""The alert list of a unit's staff, acknowledging an alert, and the unit's alert load."""

from __future__ import annotations

from typing import cast

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from pallapp import scoring
from pallapp.alerts import bp, services
from pallapp.flags import expected
from pallapp.forms.alerts import ExpectedLevelForm
from pallapp.i18n import gettext
from pallapp.models import utcnow
from pallapp.refusals import Refusal


def _staff_only() -> None:
    if not current_user.is_staff:
        abort(403)


@bp.route("/alerts")
@login_required
def index() -> ResponseReturnValue:
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
def acknowledge(public_id: str) -> ResponseReturnValue:
    _staff_only()
    try:
        services.acknowledge(current_user, public_id, utcnow())
    except services.AlertNotOpen:
        flash(gettext("Someone has already acknowledged this alert."), "info")
    else:
        flash(gettext("Alert acknowledged. Acknowledge the flag with a note once it is dealt with."), "success")
    return redirect(url_for("alerts.index"))


@bp.route("/patients/<public_id>/expected-levels/new", methods=["GET", "POST"])
@login_required
def new_expected_level(public_id: str) -> ResponseReturnValue:
    _staff_only()
    patient = expected.patient_to_mark(current_user, public_id)
    form = ExpectedLevelForm()
    problem = None
    if form.validate_on_submit():
        instrument, _sep, item = form.item.data.partition(":")
        try:
            expected.mark_expected(
                current_user, public_id, instrument=instrument, item=item,
                # InputRequired on both: a valid form has whole numbers there.
                level=cast(int, form.level.data), days=cast(int, form.days.data), reason=form.reason.data,
                now=utcnow(),
            )
        except Refusal as refused:
            problem = refused.message
        else:
            flash(gettext("The level is marked as expected."), "success")
            return redirect(url_for("patients.show", public_id=public_id))
    return render_template(
        "alerts/expected_new.html", patient=patient, form=form, problem=problem,
        max_days=expected.MAX_DAYS,
    )


@bp.route("/patients/<public_id>/expected-levels/<marking_id>/end", methods=["POST"])
@login_required
def end_expected_level(public_id: str, marking_id: str) -> ResponseReturnValue:
    _staff_only()
    expected.end_marking(current_user, public_id, marking_id, utcnow())
    flash(gettext("The marking has ended: every severe rating alerts again."), "success")
    return redirect(url_for("patients.show", public_id=public_id))
