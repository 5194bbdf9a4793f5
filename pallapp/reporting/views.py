"""A patient's reporting plan: what is due when, and staff's own plan for the patient."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from pallapp import scoring
from pallapp.flags.plan import PlanLine
from pallapp.forms.reporting import RESPONDENTS, ReportingPlanForm
from pallapp.i18n import gettext
from pallapp.models import utcnow
from pallapp.refusals import Refusal
from pallapp.reporting import bp, services


@bp.route("/patients/<public_id>/reporting-plan", methods=["GET", "POST"])
@login_required
def plan(public_id: str) -> ResponseReturnValue:
    if not current_user.is_staff:
        abort(403)
    now = utcnow()
    patient, current, statuses = services.plan_page(current_user, public_id, now)
    form = ReportingPlanForm()
    if form.validate_on_submit():
        lines = [
            PlanLine(line.instrument.data, line.respondent.data, line.interval_days.data)  # type: ignore[arg-type]  # set: PlanLineForm.validate
            for line in form.lines()
            if line.instrument.data
        ]
        try:
            services.set_patient_plan(current_user, public_id, lines, form.reason.data, now)
        except Refusal as refused:
            form.reason.errors.append(refused.message)
        else:
            flash(gettext("The reporting plan is saved."), "success")
            return redirect(url_for("reporting.plan", public_id=public_id))
    elif not form.is_submitted():
        for line_form, line in zip(form.lines(), current.lines, strict=False):
            line_form.instrument.data = line.instrument
            line_form.respondent.data = line.respondent
            line_form.interval_days.data = line.interval_days
    return render_template(
        "reporting/plan.html",
        patient=patient,
        plan=current,
        statuses=statuses,
        form=form,
        instrument_title=lambda code: gettext(scoring.INSTRUMENTS[code].title),
        respondents=dict(RESPONDENTS),
    )
