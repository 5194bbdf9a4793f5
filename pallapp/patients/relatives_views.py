"""Pages for relatives' access and the accounts around a patient (services: relatives.py)."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from pallapp.forms.relatives import AccountForm, EndAccessForm
from pallapp.i18n import gettext
from pallapp.models import utcnow
from pallapp.patients import bp, relatives


@bp.route("/patients/<public_id>/relatives")
@login_required
def relatives_page(public_id: str) -> ResponseReturnValue:
    overview = relatives.relatives_overview(current_user, public_id)
    return render_template(
        "patients/relatives.html", overview=overview, confirm=AccountForm(), now=utcnow()
    )


@bp.route("/patients/<public_id>/relatives/<link_id>/end", methods=["GET", "POST"])
@login_required
def end_relative_access(public_id: str, link_id: str) -> ResponseReturnValue:
    form = EndAccessForm()
    back = url_for("patients.relatives_page", public_id=public_id)
    try:
        if form.validate_on_submit():
            link = relatives.end_relative_access(
                current_user, public_id, link_id, form.reason.data or ""
            )
            flash(
                gettext(
                    "%(name)s no longer has access and has been logged out.",
                    name=link.relative.name,
                ),
                "success",
            )
            return redirect(back)
        link = relatives.relative_link_for(current_user, public_id, link_id)
    except relatives.NotFound:
        abort(404)
    if not link.is_active:
        flash(gettext("This access has already ended."), "info")
        return redirect(back)
    return render_template("patients/end_relative_access.html", form=form, link=link, back=back)


@bp.route("/patients/<public_id>/accounts/<account_id>/active", methods=["POST"])
@login_required
def account_active(public_id: str, account_id: str) -> ResponseReturnValue:
    # The button sends active=0 or 1; the access check comes first (a stranger gets a 404).
    active = {"0": False, "1": True}.get(request.form.get("active", ""))
    try:
        account = relatives.set_account_active(current_user, public_id, account_id, active)
    except relatives.NotFound:
        abort(404)
    except ValueError:
        abort(400)
    if account.active:
        flash(gettext("The account of %(name)s is active.", name=account.name), "success")
    else:
        flash(
            gettext(
                "The account of %(name)s is deactivated and logged out everywhere.",
                name=account.name,
            ),
            "success",
        )
    return redirect(url_for("patients.relatives_page", public_id=public_id))


@bp.route("/patients/<public_id>/invitations/<invitation_id>/withdraw", methods=["POST"])
@login_required
def withdraw_invitation(public_id: str, invitation_id: str) -> ResponseReturnValue:
    try:
        relatives.withdraw_invitation(current_user, public_id, invitation_id)
    except relatives.NotFound:
        abort(404)
    flash(gettext("The invitation is withdrawn."), "success")
    # Withdrawn from the patient's invitation page or from "Relatives and accounts": back there.
    back = "patients.invite" if request.form.get("back") == "invite" else "patients.relatives_page"
    return redirect(url_for(back, public_id=public_id))
