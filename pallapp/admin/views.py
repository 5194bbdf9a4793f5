from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import ParamSpec

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required
from wtforms import SelectChoice

from pallapp.admin import bp, services
from pallapp.forms import parse_row_number
from pallapp.forms.admin import ConfirmForm, StaffForm, UnitForm
from pallapp.i18n import gettext
from pallapp.models import Role, utcnow
from pallapp.timeutil import today_local

P = ParamSpec("P")


def admin_required(
    view: Callable[P, ResponseReturnValue],
) -> Callable[P, ResponseReturnValue]:
    @wraps(view)
    @login_required
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> ResponseReturnValue:
        if current_user.role != Role.ADMIN:
            abort(403)
        return view(*args, **kwargs)

    return wrapper


@bp.route("/units")
@admin_required
def units() -> ResponseReturnValue:
    return render_template("admin/units.html", units=services.all_units())


@bp.route("/units/new", methods=["GET", "POST"])
@bp.route("/units/<public_id>", methods=["GET", "POST"])
@admin_required
def unit(public_id: str | None = None) -> ResponseReturnValue:
    existing = None
    if public_id is not None:
        existing = services.unit_by_public_id(public_id)
        if existing is None:
            abort(404)
    form = UnitForm(obj=existing)
    if existing is not None and request.method == "GET":
        form.coverage_days.data = list(existing.coverage_weekdays)
    if form.validate_on_submit():
        if services.unit_name_taken(form.name.data, existing):
            form.name.errors.append(gettext("A unit with this name already exists."))
        else:
            services.save_unit(
                current_user,
                existing,
                name=form.name.data,
                kind=form.kind.data,
                phone=form.phone.data,
                assessment_interval_days=form.assessment_interval_days.data,
                end_of_life_interval_days=form.end_of_life_interval_days.data,
                ipos_recall_period=form.ipos_recall_period.data,
                relatives_may_record_doses=form.relatives_may_record_doses.data,
                coverage_weekdays="".join(sorted(form.coverage_days.data or [])),
                coverage_start=form.coverage_start.data if form.coverage_days.data else None,
                coverage_end=form.coverage_end.data if form.coverage_days.data else None,
                alert_email=form.alert_email.data or None,
                escalation_email=form.escalation_email.data or None,
                alert_response_minutes=form.alert_response_minutes.data or 60,
                password_alone_allowed=form.password_alone_allowed.data,
            )
            flash(gettext("The unit is saved."), "success")
            return redirect(url_for("admin.units"))
    return render_template("admin/unit.html", form=form, unit=existing)


@bp.route("/staff")
@admin_required
def staff() -> ResponseReturnValue:
    return render_template(
        "admin/staff.html",
        accounts=services.staff_accounts(),
        units=services.all_units(),
        confirm=ConfirmForm(),
        today=today_local(),
    )


@bp.route("/staff/new", methods=["GET", "POST"])
@admin_required
def new_staff() -> ResponseReturnValue:
    all_units = services.all_units()
    form = StaffForm()
    form.units.choices = [SelectChoice(unit.public_id, unit.name) for unit in all_units]
    if form.validate_on_submit():
        chosen = [unit for unit in all_units if unit.public_id in (form.units.data or [])]
        try:
            issued = services.create_staff_account(
                current_user,
                name=form.name.data,
                email=form.email.data,
                role=Role(form.role.data),
                units=chosen,
            )
        except ValueError:
            form.email.errors.append(gettext("An account with this e-mail address already exists."))
        else:
            link = issued.link
            return render_template(
                "admin/invitation_created.html", invitation=issued.invitation, link=link
            )
    return render_template("admin/new_staff.html", form=form)


@bp.route("/staff/<public_id>/active", methods=["POST"])
@admin_required
def staff_active(public_id: str) -> ResponseReturnValue:
    user = services.user_by_public_id(public_id)
    form = ConfirmForm()
    if user is None or user.role not in [
        r.value for r in (Role.NURSE, Role.PHYSICIAN, Role.MANAGER, Role.ADMIN)
    ]:
        abort(404)
    if not form.validate_on_submit():
        abort(400)
    if user.id == current_user.id:
        flash(gettext("You cannot deactivate your own account."), "error")
    else:
        services.set_active(current_user, user, request.form.get("active") == "1")
        flash(gettext("The account is saved."), "success")
    return redirect(url_for("admin.staff"))


@bp.route("/staff/<public_id>/second-factor", methods=["POST"])
@admin_required
def staff_second_factor(public_id: str) -> ResponseReturnValue:
    """A lost phone with no recovery code left: the administrator removes the second factor
    (audited); the account's sessions end, and it sets a new one up at its next login."""
    user = services.user_by_public_id(public_id)
    form = ConfirmForm()
    if user is None or user.role not in [
        r.value for r in (Role.NURSE, Role.PHYSICIAN, Role.MANAGER, Role.ADMIN)
    ]:
        abort(404)
    if not form.validate_on_submit():
        abort(400)
    if user.id == current_user.id:
        abort(403)
    services.remove_staff_second_factor(current_user, user)
    flash(gettext("The second factor is removed. The account sets up a new one at its next login."), "success")
    return redirect(url_for("admin.staff"))


@bp.route("/staff/<public_id>/units", methods=["POST"])
@admin_required
def staff_units(public_id: str) -> ResponseReturnValue:
    user = services.user_by_public_id(public_id)
    form = ConfirmForm()
    if user is None or not form.validate_on_submit():
        abort(404 if user is None else 400)
    if request.form.get("end"):
        number = parse_row_number(request.form["end"])
        membership = services.membership_by_id(number) if number is not None else None
        if membership is None or membership.user_id != user.id:
            abort(404)
        services.end_membership(current_user, membership)
    elif request.form.get("add"):
        unit = services.unit_by_public_id(request.form["add"])
        if unit is None:
            abort(404)
        services.add_membership(current_user, user, unit)
    flash(gettext("The account is saved."), "success")
    return redirect(url_for("admin.staff"))


@bp.route("/invitations")
@admin_required
def invitations() -> ResponseReturnValue:
    return render_template(
        "admin/invitations.html",
        invitations=services.invitations(),
        now=utcnow(),
        confirm=ConfirmForm(),
    )


@bp.route("/invitations/<public_id>/revoke", methods=["POST"])
@admin_required
def revoke(public_id: str) -> ResponseReturnValue:
    invitation = services.invitation_by_public_id(public_id)
    if invitation is None:
        abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    services.revoke_invitation(current_user, invitation)
    flash(gettext("The invitation is withdrawn."), "success")
    return redirect(url_for("admin.invitations"))
