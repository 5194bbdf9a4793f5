"""Pages of the register pre-fill: the unit's deaths and one patient's suggested answers."""

from __future__ import annotations

import json

from flask import Response as FlaskResponse
from flask import abort, flash, redirect, render_template, session, url_for
from flask_babel import format_decimal
from flask_login import current_user, login_required
from werkzeug.wrappers import Response

from pallapp.csvout import download
from pallapp.forms.interop import ApiClientForm, RevokeApiClientForm
from pallapp.i18n import gettext
from pallapp.interop import api_clients, bp, fhir_service, spr, spr_service
from pallapp.models import utcnow
from pallapp.timeutil import today_local


def _staff_only() -> None:
    if not current_user.is_staff:
        abort(404)


@bp.route("/spr")
@login_required
def spr_index() -> str | Response:
    _staff_only()
    units = spr_service.spr_units(current_user)
    if len(units) == 1:
        return redirect(url_for("interop.spr_unit", unit_id=units[0].public_id))
    return render_template("interop/spr_index.html", units=units)


@bp.route("/spr/<unit_id>")
@login_required
def spr_unit(unit_id: str) -> str:
    _staff_only()
    try:
        deaths = spr_service.unit_deaths(current_user, unit_id)
    except spr_service.NotForSpr:
        abort(404)
    registered, total, percent = deaths.figure
    return render_template(
        "interop/spr_unit.html", deaths=deaths, registered=registered, total=total,
        percent=percent, target=spr.REGISTRATION_TARGET,
        percent_text=format_decimal(percent, format="#,##0.#") if percent is not None else "",
    )


@bp.route("/spr/<unit_id>/patients/<public_id>")
@login_required
def spr_patient(unit_id: str, public_id: str) -> str:
    _staff_only()
    try:
        prefill = spr_service.patient_prefill(current_user, unit_id, public_id)
    except spr_service.NotForSpr:
        abort(404)
    return render_template(
        "interop/spr_patient.html", prefill=prefill, unanswerable=spr.UNANSWERABLE,
        value_labels=spr.VALUE_LABELS,
    )


# POSTed with the CSRF token, as every export: a link elsewhere cannot start one.
@bp.route("/spr/<unit_id>/prefill.csv", methods=["POST"])
@login_required
def spr_csv(unit_id: str) -> Response:
    _staff_only()
    try:
        text = spr_service.prefill_csv(current_user, unit_id, gettext)
    except spr_service.NotForSpr:
        abort(404)
    return download(text, f"spr-prefill-{today_local().isoformat()}.csv")


@bp.route("/exports/<unit_id>/fhir.json", methods=["POST"])
@login_required
def export_fhir(unit_id: str) -> Response:
    _staff_only()
    try:
        bundle = fhir_service.unit_bundle(current_user, unit_id)
    except LookupError:
        abort(404)
    name = f"assessments-{today_local().isoformat()}.fhir.json"
    return FlaskResponse(
        json.dumps(bundle, ensure_ascii=False, indent=1),
        mimetype="application/fhir+json",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


# --- API credentials (managers) ----------------------------------------------------------------


@bp.route("/units/<unit_id>/api-clients", methods=["GET", "POST"])
@login_required
def api_clients_page(unit_id: str) -> str | Response:
    form = ApiClientForm()
    try:
        if form.validate_on_submit():
            issued = api_clients.issue(
                current_user, unit_id, form.name.data or "", int(form.valid_days.data or 0)
            )
            # Post/redirect/get: the token rides once in the (signed, HttpOnly) session cookie
            # of the manager who issued it, and the page shows it once and forgets it.
            session["issued_api_token"] = [issued.client.public_id, issued.token]
            return redirect(url_for("interop.api_clients_page", unit_id=unit_id))
        unit, clients = api_clients.unit_clients(current_user, unit_id)
    except api_clients.NotForApiClients:
        abort(404)
    shown = session.pop("issued_api_token", None)
    issued_now = None
    if shown is not None:
        client = next((c for c in clients if c.public_id == shown[0]), None)
        issued_now = api_clients.Issued(client, shown[1]) if client is not None else None
    return render_template(
        "interop/api_clients.html", unit=unit, clients=clients, form=form, issued=issued_now,
        revoke_form=RevokeApiClientForm(), now=utcnow(), fhir_base=fhir_service.fhir_base(),
    )


@bp.route("/units/<unit_id>/api-clients/<client_id>/revoke", methods=["POST"])
@login_required
def revoke_api_client(unit_id: str, client_id: str) -> Response:
    form = RevokeApiClientForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        api_clients.revoke(current_user, unit_id, client_id)
    except api_clients.NotForApiClients:
        abort(404)
    flash(gettext("The credential was revoked."))
    return redirect(url_for("interop.api_clients_page", unit_id=unit_id))
