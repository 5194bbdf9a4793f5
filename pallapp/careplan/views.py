"""Care plan, milestone, order and dose pages. Views parse, call a service, render."""

from __future__ import annotations

from uuid import uuid4

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from werkzeug import Response

from pallapp import scoring
from pallapp.careplan import bp, present
from pallapp.careplan import common as careplan_common
from pallapp.careplan import doses as dose_service
from pallapp.careplan import milestones as milestone_service
from pallapp.careplan import orders as order_service
from pallapp.careplan import plan as plan_service
from pallapp.careplan.common import Need
from pallapp.forms import parse_row_number
from pallapp.forms.careplan import (
    CarePlanForm,
    ChangeOrderForm,
    CorrectDoseForm,
    DoseForm,
    EvaluateForm,
    MilestoneForm,
    OrderForm,
    StopOrderForm,
)
from pallapp.i18n import gettext
from pallapp.models import (
    CARE_PLAN_FIELD_LABELS,
    CARE_PLAN_FIELDS,
    Effect,
    MilestoneKind,
    PrnAdministration,
    PrnOrder,
    utcnow,
)
from pallapp.refusals import Refusal
from pallapp.sending import answer_stored
from pallapp.timeutil import STOCKHOLM, now_local, today_local


@bp.app_template_global()
def interval_words(minutes: int | None) -> str | None:
    return present.interval_words(minutes)


@bp.app_template_global()
def effect_label(code: str) -> str:
    return Effect(code).label


bp.add_app_template_global(present.ordered_dose, "ordered_dose")
bp.add_app_template_global(present.given_dose, "given_dose")


def _order_or_404(public_id: str, order_id: str, need: Need) -> PrnOrder:
    try:
        return order_service.get_order(current_user, public_id, order_id, need)
    except careplan_common.Refused:
        abort(404)


def _show_patient(public_id: str) -> Response:
    return redirect(url_for("patients.show", public_id=public_id))


# --- care plan ---------------------------------------------------------------------------


@bp.route("/patients/<public_id>/care-plan")
@login_required
def plan(public_id: str) -> ResponseReturnValue:
    patient, current = plan_service.read_care_plan(current_user, public_id)
    needs = careplan_common.needs(current_user, patient, (Need.VIEW_CARE_PLAN, Need.CHANGE))
    return render_template(
        "careplan/plan.html",
        patient=patient,
        plan=current,
        full=Need.VIEW_CARE_PLAN in needs,
        fields=[(name, CARE_PLAN_FIELD_LABELS[name]) for name in CARE_PLAN_FIELDS],
        may_change=Need.CHANGE in needs,
    )


@bp.route("/patients/<public_id>/care-plan/edit", methods=["GET", "POST"])
@login_required
def edit_plan(public_id: str) -> ResponseReturnValue:
    patient, current = plan_service.care_plan_for_editing(current_user, public_id)
    form = CarePlanForm(obj=current if request.method == "GET" else None)
    if request.method == "GET":
        form.based_on.data = str(current.version) if current else ""
    problem = None
    if form.validate_on_submit():
        based_on = parse_row_number(form.based_on.data)
        values = {name: getattr(form, name).data for name in CARE_PLAN_FIELDS}
        try:
            plan_service.save_care_plan(current_user, public_id, values, based_on=based_on)
        except Refusal as refused:
            problem = refused.message
        else:
            flash(gettext("The care plan is saved. Earlier versions are kept in the history."), "success")
            return redirect(url_for("careplan.plan", public_id=public_id))
    return render_template(
        "careplan/plan_edit.html", patient=patient, form=form, plan=current, problem=problem
    )


@bp.route("/patients/<public_id>/care-plan/history")
@login_required
def plan_history(public_id: str) -> ResponseReturnValue:
    patient, versions = plan_service.care_plan_history(current_user, public_id)
    return render_template(
        "careplan/plan_history.html",
        patient=patient,
        versions=versions,
        fields=[(name, CARE_PLAN_FIELD_LABELS[name]) for name in CARE_PLAN_FIELDS],
        changed={
            version.id: ", ".join(str(CARE_PLAN_FIELD_LABELS[name]) for name in version.changed_fields)
            for version in versions
        },
    )


# --- milestones --------------------------------------------------------------------------


@bp.route("/patients/<public_id>/milestones")
@login_required
def milestones(public_id: str) -> ResponseReturnValue:
    patient, rows = milestone_service.list_milestones(current_user, public_id)
    return render_template(
        "careplan/milestones.html",
        patient=patient,
        milestones=rows,
        may_change=careplan_common.may(current_user, patient, Need.CHANGE),
    )


@bp.route("/patients/<public_id>/milestones/new", methods=["GET", "POST"])
@login_required
def new_milestone(public_id: str) -> ResponseReturnValue:
    patient = careplan_common.patient_for_new_record(current_user, public_id, Need.CHANGE, "milestone")
    form = MilestoneForm()
    if request.method == "GET":
        form.occurred_on.data = today_local()
        if request.args.get("kind") in set(MilestoneKind):
            form.kind.data = request.args["kind"]
    problem = None
    if form.validate_on_submit():
        try:
            milestone_service.record_milestone(
                current_user,
                public_id,
                kind=form.kind.data,
                occurred_on=form.occurred_on.data,
                participants=form.participants.data or "",
                note=form.note.data or "",
                place=form.place.data or None,
                death_expected=form.answer(form.death_expected),
                free_of_pressure_ulcers=form.answer(form.free_of_pressure_ulcers),
            )
        except Refusal as refused:
            problem = refused.message
        else:
            flash(gettext("The milestone is saved."), "success")
            return redirect(url_for("careplan.milestones", public_id=public_id))
    return render_template("careplan/milestone_new.html", patient=patient, form=form, problem=problem)


# --- orders ------------------------------------------------------------------------------


@bp.route("/patients/<public_id>/orders")
@login_required
def orders(public_id: str) -> ResponseReturnValue:
    patient, all_versions = order_service.list_orders(current_user, public_id)
    now = utcnow()
    needs = careplan_common.needs(current_user, patient, (Need.PRESCRIBE, Need.RECORD_DOSE))
    return render_template(
        "careplan/orders.html",
        patient=patient,
        rows=present.order_rows(patient, now, all_versions),
        earlier=[order for order in all_versions if not order.is_active(now)],
        standard=[(code, present.indication_label(code)) for code in scoring.REQUIRED_PRN_INDICATIONS],
        route_notes=present.route_notes(patient, all_versions, now),
        may_prescribe=Need.PRESCRIBE in needs,
        may_record_dose=Need.RECORD_DOSE in needs,
        present=present,
    )


def _order_details(form: OrderForm) -> order_service.OrderDetails:
    return order_service.OrderDetails(
        indication=form.indication.data,
        indication_text=form.indication_text.data or "",
        drug=form.drug.data,
        strength=form.strength.data or "",
        dose=form.dose.data,
        dose_unit=form.dose_unit.data,
        route=form.route.data,
        min_interval_minutes=form.min_interval.minutes,
        max_doses_per_24h=form.max_doses_per_24h.data,
        instructions=form.instructions.data or "",
    )


@bp.route("/patients/<public_id>/orders/new", methods=["GET", "POST"])
@login_required
def new_order(public_id: str) -> ResponseReturnValue:
    patient = careplan_common.patient_for_new_record(current_user, public_id, Need.PRESCRIBE, "prn_order")
    form = OrderForm()
    if request.method == "GET" and request.args.get("indication") in scoring.PRN_INDICATIONS:
        # Quick-add fills in the indication only: the app never proposes a drug or a dose.
        form.indication.data = request.args["indication"]
    problem = None
    if form.validate_on_submit():
        try:
            order_service.create_order(
                current_user, public_id, _order_details(form), start_at=form.start_at.data
            )
        except Refusal as refused:
            problem = refused.message
        else:
            flash(gettext("The order is saved."), "success")
            return redirect(url_for("careplan.orders", public_id=public_id))
    return render_template(
        "careplan/order_form.html", patient=patient, form=form, problem=problem, order=None
    )


@bp.route("/patients/<public_id>/orders/<order_id>/change", methods=["GET", "POST"])
@login_required
def change_order(public_id: str, order_id: str) -> ResponseReturnValue:
    order = _order_or_404(public_id, order_id, Need.PRESCRIBE)
    form = ChangeOrderForm(obj=order if request.method == "GET" else None)
    if request.method == "GET" and order.min_interval_minutes:
        hours = order.min_interval_minutes / 60
        form.min_interval.data = f"{hours:g}".replace(".", ",")
    problem = None
    if form.validate_on_submit():
        try:
            order_service.change_order(
                current_user, public_id, order_id, _order_details(form), reason=form.reason.data
            )
        except Refusal as refused:
            problem = refused.message
        else:
            flash(gettext("The order is changed. The earlier version is kept."), "success")
            return redirect(url_for("careplan.orders", public_id=public_id))
    return render_template(
        "careplan/order_form.html", patient=order.patient, form=form, problem=problem, order=order
    )


@bp.route("/patients/<public_id>/orders/<order_id>/stop", methods=["GET", "POST"])
@login_required
def stop_order(public_id: str, order_id: str) -> ResponseReturnValue:
    order = _order_or_404(public_id, order_id, Need.PRESCRIBE)
    form = StopOrderForm()
    problem = None
    if form.validate_on_submit():
        try:
            order_service.stop_order(current_user, public_id, order_id, reason=form.reason.data)
        except Refusal as refused:
            problem = refused.message
        else:
            flash(gettext("The order is stopped."), "success")
            return redirect(url_for("careplan.orders", public_id=public_id))
    return render_template(
        "careplan/order_stop.html",
        patient=order.patient,
        order=order,
        label=present.order_label(order),
        form=form,
        problem=problem,
    )


# --- doses -------------------------------------------------------------------------------


def _dose_warning(
    form: DoseForm, needs: dose_service.DoseNeedsConfirmation, order: PrnOrder
) -> present.DoseWarning:
    """The warning in words; the fields that differ from the order, and a ticked confirmation
    without a reason, are marked as field errors."""
    unexplained = not (form.over_limit_reason.data or "").strip()
    if needs.over_limit is not None and form.confirm_over_limit.data and unexplained:
        form.over_limit_reason.errors.append(
            gettext("Write why the dose was given outside the order's limits.")
        )
    if needs.mismatch is not None:
        if not form.confirm_dose_mismatch.data:
            params = needs.mismatch.params
            differs = gettext("Differs from the order: see the warning above.")
            for name, field in (
                ("given_amount", form.dose),
                ("given_unit", form.dose_unit),
                ("given_route", form.route),
            ):
                if name in params:
                    field.errors.append(differs)
        elif not (form.dose_mismatch_reason.data or "").strip():
            form.dose_mismatch_reason.errors.append(
                gettext("Write why the dose differs from the order.")
            )
    return present.dose_warning(needs.over_limit, needs.mismatch, needs.colliding, order)


def _dose_page(
    order: PrnOrder,
    form: DoseForm,
    warning: present.DoseWarning | None,
    problem: str | None,
    original: PrnAdministration | None = None,
    device: bool = False,
) -> str:
    """The dose form (recording a dose, or correcting one: `original`), with the ordered dose
    beside the amount, so that a slip of the decimal sign is seen before it is saved."""
    form.dose.description = gettext("Ordered: %(dose)s", dose=present.ordered_dose(order))
    return render_template(
        "careplan/dose_form.html",
        patient=order.patient,
        order=order,
        label=present.order_label(order),
        interval=present.interval_words(order.min_interval_minutes),
        form=form,
        warning=warning,
        problem=problem,
        original=original,
        device=device,
    )


@bp.route("/patients/<public_id>/orders/<order_id>/dose", methods=["GET", "POST"])
@login_required
def record_dose(public_id: str, order_id: str) -> ResponseReturnValue:
    order = _order_or_404(public_id, order_id, Need.RECORD_DOSE)
    form = DoseForm()
    if request.method == "GET":
        form.client_token.data = uuid4().hex
        form.given_at.data = now_local().replace(second=0, microsecond=0)
        # The unit and route are the order's; the dose given is written by whoever gave it.
        form.dose_unit.data = order.dose_unit
        form.route.data = order.route
    warning: present.DoseWarning | None = None
    problem = None
    if form.validate_on_submit():
        try:
            recorded = dose_service.record_dose(
                current_user,
                public_id,
                order_id,
                given_at=form.given_at.data,
                dose=form.dose.data,
                dose_unit=form.dose_unit.data,
                route=form.route.data,
                symptom_before=form.symptom_before.data,
                client_token=form.client_token.data,
                over_limit_confirmed=form.confirm_over_limit.data,
                over_limit_reason=form.over_limit_reason.data or "",
                dose_mismatch_confirmed=form.confirm_dose_mismatch.data,
                dose_mismatch_reason=form.dose_mismatch_reason.data or "",
                found=order,
            )
        except dose_service.DoseNeedsConfirmation as needs:
            warning = _dose_warning(form, needs, order)
        except Refusal as refused:
            problem = refused.message
        else:
            if not recorded.created:
                flash(gettext("This dose had already been saved."), "info")
            else:
                flash(gettext("The dose is saved. Remember to assess its effect later."), "success")
            return answer_stored(
                url_for("patients.show", public_id=public_id), created=recorded.created
            )
    return _dose_page(order, form, warning, problem, device=True)


@bp.route("/patients/<public_id>/doses/<dose_id>/correct", methods=["GET", "POST"])
@login_required
def correct_dose(public_id: str, dose_id: str) -> ResponseReturnValue:
    try:
        original = dose_service.get_dose(current_user, public_id, dose_id)
    except careplan_common.Refused:
        abort(404)
    form = CorrectDoseForm()
    if request.method == "GET":
        form.client_token.data = uuid4().hex
        form.given_at.data = original.given_at.astimezone(STOCKHOLM)
        form.dose.data = original.dose
        form.dose_unit.data = original.dose_unit
        form.route.data = original.route
        form.symptom_before.data = original.symptom_before
    warning: present.DoseWarning | None = None
    problem = None
    if form.validate_on_submit():
        entry = dose_service.DoseEntry(
            given_at=form.given_at.data,
            dose=form.dose.data,
            dose_unit=form.dose_unit.data,
            route=form.route.data,
            symptom_before=form.symptom_before.data,
        )
        try:
            dose_service.correct_dose(
                current_user,
                public_id,
                dose_id,
                entry,
                reason=form.reason.data,
                client_token=form.client_token.data,
                over_limit_confirmed=form.confirm_over_limit.data,
                over_limit_reason=form.over_limit_reason.data or "",
                dose_mismatch_confirmed=form.confirm_dose_mismatch.data,
                dose_mismatch_reason=form.dose_mismatch_reason.data or "",
            )
        except dose_service.DoseNeedsConfirmation as needs:
            warning = _dose_warning(form, needs, original.order)
        except Refusal as refused:
            problem = refused.message
        else:
            flash(gettext("The correction is saved. The earlier version is kept."), "success")
            return _show_patient(public_id)
    return _dose_page(original.order, form, warning, problem, original)


@bp.route("/patients/<public_id>/doses/<dose_id>/evaluate", methods=["GET", "POST"])
@login_required
def evaluate_dose(public_id: str, dose_id: str) -> ResponseReturnValue:
    try:
        dose = dose_service.get_dose(current_user, public_id, dose_id)
    except careplan_common.Refused:
        abort(404)
    form = EvaluateForm()
    if request.method == "GET":
        form.evaluated_at.data = now_local().replace(second=0, microsecond=0)
    problem = None
    if form.validate_on_submit():
        try:
            dose_service.evaluate_dose(
                current_user,
                public_id,
                dose_id,
                effect=form.effect.data,
                symptom_after=form.symptom_after.data,
                evaluated_at=form.evaluated_at.data,
            )
        except Refusal as refused:
            problem = refused.message
        else:
            flash(gettext("The effect is saved."), "success")
            return _show_patient(public_id)
    return render_template(
        "careplan/evaluate.html",
        patient=dose.order.patient,
        dose=dose,
        label=present.order_label(dose.order),
        form=form,
        problem=problem,
    )
