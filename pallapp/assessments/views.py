"""Assessment pages: choose, fill in, result, history, detail, correction."""

from __future__ import annotations

from datetime import datetime
from uuid import uuid4

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from pallapp import scoring
from pallapp.alerts.services import alerts_for_assessment, open_alerts_repeated_by
from pallapp.assessments import bp, present, services
from pallapp.carerecord import current_care_plan
from pallapp.forms.assessments import CorrectionReasonForm
from pallapp.forms.instruments import assessment_form_class
from pallapp.i18n import gettext
from pallapp.models import Patient, Respondent
from pallapp.paging import requested_page
from pallapp.refusals import Refusal
from pallapp.sending import answer_stored
from pallapp.timeutil import STOCKHOLM, now_local


def _period_words(period: str | None) -> str | None:
    """The recall period as each step of the form says it ("Over the past 7 days"), or None
    when the instrument has none of its own (ESAS-r says "now" through its instruction)."""
    words = scoring.RECALL_PERIOD_INSTRUCTIONS.get(period) if period else None
    return gettext(words) if words else None


def _recall_label(code: str, patient: Patient) -> str | None:
    return _period_words(
        services.recall_period(current_user, patient, code)
    )


def _local(value: datetime | None) -> datetime | None:
    """A datetime-local field's naive value, read as Swedish time."""
    return None if value is None else value.replace(tzinfo=STOCKHOLM)


def home_visit() -> tuple[str, ...]:
    """A nurse's home visit: the forms only staff rate, in registry order (the order they are
    usually filled in), then a dose if one is given. The result page of each offers the next in
    one tap."""
    return tuple(code for code, d in scoring.INSTRUMENTS.items() if not d.self_report)


def _next_in_visit(public_id: str, instrument: str) -> dict[str, str] | None:
    visit = home_visit()
    if not current_user.is_staff or instrument not in visit:
        return None
    position = visit.index(instrument)
    if position + 1 < len(visit):
        following = visit[position + 1]
        return {
            "label": gettext("Next: %(form)s", form=present.instrument_title(following)),
            "url": url_for("assessments.fill", public_id=public_id, code=following),
        }
    return {
        "label": gettext("Next: an as-needed dose"),
        "url": url_for("patients.show", public_id=public_id, _anchor="orders"),
    }


@bp.route("/patients/<public_id>/assessments/new")
@login_required
def choose(public_id: str) -> ResponseReturnValue:
    patient = services.open_for_reporting(current_user, public_id)
    codes = services.instruments_for(current_user)
    return render_template(
        "assessments/choose.html",
        patient=patient,
        instruments=[
            (code, present.instrument_title(code), present.instrument_purpose(code))
            for code in codes
        ],
    )


@bp.route("/patients/<public_id>/assessments/new/<code>", methods=["GET", "POST"])
@login_required
def fill(public_id: str, code: str) -> ResponseReturnValue:
    if code not in services.instruments_for(current_user):
        abort(404)
    if request.method == "GET":
        patient = services.open_for_reporting(current_user, public_id, code)
    else:
        patient = services.patient_for_submission(current_user, public_id)
    proxy = services.may_answer_as_proxy(current_user, patient)
    form_class = assessment_form_class(
        code,
        staff_entry=current_user.is_staff,
        ask_observed_at=current_user.is_staff,
        proxy_choice=proxy,
    )
    form = form_class()
    if request.method == "GET":
        form.client_token.data = uuid4().hex
        if current_user.is_staff:
            form.observed_at.data = now_local().replace(second=0, microsecond=0, tzinfo=None)
    skipped_labels = None
    problem = None
    identical = None
    if form.validate_on_submit():
        skipped = form.skipped()
        confirmed = request.form.get("confirm_incomplete") == "1"
        if skipped and not confirmed:
            definition = scoring.INSTRUMENTS[code]
            skipped_labels = [gettext(definition.item(item).label) for item in skipped]
        else:
            respondent = Respondent(form.respondent.data) if proxy else None
            if not proxy and request.form.get("respondent") == Respondent.RELATIVE.value:
                # Claimed without permission: let the service refuse it, never store it as the
                # patient's own answers.
                respondent = Respondent.RELATIVE
            observed_at = _local(form.observed_at.data) if current_user.is_staff else None
            try:
                submitted = services.submit_assessment(
                    current_user,
                    public_id,
                    instrument=code,
                    answers=form.answers(),
                    client_token=form.client_token.data,
                    respondent=respondent,
                    observed_at=observed_at,
                    ask_if_identical=request.form.get("confirm_identical") != "1",
                    found=patient,
                )
            except scoring.InvalidAnswers:
                problem = gettext("Some answers could not be read. Check the marked questions.")
            except Refusal as refused:
                problem = refused.message
            except services.IdenticalRecently as twin:
                identical = {
                    "at": twin.existing.created_at.astimezone(STOCKHOLM),
                    "url": url_for(
                        "assessments.show",
                        public_id=public_id,
                        assessment_id=twin.existing.public_id,
                    ),
                    "incomplete_confirmed": confirmed,
                }
            else:
                if not submitted.created:
                    flash(
                        gettext("This form had already been sent; here is what was saved."), "info"
                    )
                return answer_stored(
                    url_for(
                        "assessments.show",
                        public_id=public_id,
                        assessment_id=submitted.assessment.public_id,
                    ),
                    created=submitted.created,
                )
    elif request.method == "POST":
        problem = gettext("Please correct the marked answers. Nothing has been saved yet.")
    return render_template(
        "assessments/fill.html",
        patient=patient,
        form=form,
        title=present.instrument_title(code),
        recall_label=_recall_label(code, patient),
        skipped_labels=skipped_labels,
        problem=problem,
        identical=identical,
    )


@bp.route("/patients/<public_id>/assessments/<assessment_id>")
@login_required
def show(public_id: str, assessment_id: str) -> ResponseReturnValue:
    # The same query opens the record and says whether the user may correct it.
    patient, needs = services.patient_for_reading(current_user, public_id)
    assessment = services.get_assessment(current_user, patient, assessment_id, needs=needs)
    band, band_label = present.overall_band(assessment)
    self_report = current_user.role in ("patient", "relative")
    return render_template(
        "assessments/show.html",
        patient=patient,
        assessment=assessment,
        title=present.instrument_title(assessment.instrument),
        answers=present.answer_rows(assessment),
        entry_line=present.entry_line(assessment),
        context=present.context_rows(assessment),
        scores=present.score_rows(assessment),
        band=band,
        band_label=band_label,
        missing=present.missing_labels(assessment),
        flags=present.flag_views(assessment),
        severe=services.has_severe_rating(assessment),
        self_report=self_report,
        units=[episode.unit for episode in patient.active_episodes(now_local().date())],
        alerts=alerts_for_assessment(assessment.flags) if self_report else [],
        repeated=open_alerts_repeated_by(patient, assessment.flags) if self_report else [],
        care_plan=current_care_plan(patient) if self_report else None,
        may_correct=current_user.is_staff
        and assessment.superseded_by is None
        and services.Need.CHANGE in needs,
        next_in_visit=_next_in_visit(public_id, assessment.instrument),
    )


@bp.route("/patients/<public_id>/assessments")
@login_required
def history(public_id: str) -> ResponseReturnValue:
    patient, assessments = services.history(current_user, public_id, requested_page())
    if not assessments.items and assessments.number > 1:
        abort(404)  # past the last page
    rows = [
        {
            "assessment": assessment,
            "title": present.instrument_title(assessment.instrument),
            "band": present.overall_band(assessment),
            "flags": present.flag_views(assessment),
            "scores": present.score_rows(assessment)[:1],
        }
        for assessment in assessments.items
    ]
    return render_template(
        "assessments/history.html", patient=patient, rows=rows, page=assessments
    )


@bp.route("/patients/<public_id>/assessments/<assessment_id>/correct", methods=["GET", "POST"])
@login_required
def correct(public_id: str, assessment_id: str) -> ResponseReturnValue:
    patient = services.patient_for_correction(current_user, public_id)
    original = services.get_assessment(current_user, patient, assessment_id)
    form_class = assessment_form_class(
        original.instrument, staff_entry=True, ask_observed_at=False, proxy_choice=False
    )
    form = form_class()
    reason_form = CorrectionReasonForm()
    if request.method == "GET":
        form.load_answers(original.answers)
        form.client_token.data = uuid4().hex
    problem = None
    if request.method == "POST":
        valid = form.validate_on_submit()
        reason_valid = reason_form.validate()
        if valid and reason_valid:
            try:
                submitted = services.correct_assessment(
                    current_user,
                    public_id,
                    assessment_id,
                    answers=form.answers(),
                    reason=reason_form.reason.data or "",
                    client_token=form.client_token.data,
                )
            except scoring.InvalidAnswers:
                problem = gettext("Some answers could not be read. Check the marked questions.")
            except Refusal as refused:
                problem = refused.message
            else:
                flash(gettext("The correction is saved. The earlier version is kept in the history."), "success")
                return redirect(
                    url_for(
                        "assessments.show",
                        public_id=public_id,
                        assessment_id=submitted.assessment.public_id,
                    )
                )
        else:
            problem = gettext("Please correct the marked answers. Nothing has been saved yet.")
    return render_template(
        "assessments/correct.html",
        patient=patient,
        original=original,
        form=form,
        reason_form=reason_form,
        title=present.instrument_title(original.instrument),
        recall_label=_period_words(original.recall_period),
        problem=problem,
    )
