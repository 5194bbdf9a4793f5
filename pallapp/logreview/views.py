"""Access-log review pages: the manager's search and CSV export, the patient's own list."""

from __future__ import annotations

from datetime import timedelta

from flask import abort, render_template, request
from flask.typing import ResponseReturnValue
from flask_login import current_user, login_required

from pallapp.csvout import download
from pallapp.forms.logreview import LogSearchForm
from pallapp.logreview import bp, labels, services
from pallapp.timeutil import today_local

#: The period shown before the manager chooses one.
DEFAULT_DAYS = 30


def _search_form() -> LogSearchForm:
    """The posted form, or on GET the last DEFAULT_DAYS days for every patient and user."""
    form = LogSearchForm()
    if request.method == "GET":
        today = today_local()
        form.start.data = today - timedelta(days=DEFAULT_DAYS - 1)
        form.end.data = today
    return form


def _filter(form: LogSearchForm) -> services.LogFilter:
    return services.LogFilter(
        start=form.start.data,
        end=form.end.data,
        patient=form.patient.data or "",
        user=form.user.data or "",
        action=form.action.data or "",
        without_care_relationship=bool(form.no_care_relationship.data),
        exclude_own=bool(form.exclude_mine.data),
        sample=form.sample.data,
        seed=form.seed.data,
    )


@bp.route("/audit-log", methods=["GET", "POST"])
@login_required
def search() -> ResponseReturnValue:
    if current_user.role != "manager":
        abort(404)
    form = _search_form()
    found = None
    valid = form.validate() if request.method == "POST" else True
    if valid:
        found = services.search_log(current_user, _filter(form))
        if found.seed is not None:
            # Shown in the form: the CSV button and a later review draw the same sample.
            form.seed.data = found.seed
            form.seed.raw_data = [str(found.seed)]  # else the empty field sent is shown again
    return _page(form, found)


def _page(form: LogSearchForm, found: services.LogPage | None) -> str:
    return render_template(
        "logreview/search.html",
        form=form,
        found=found,
        limit=services.PAGE_LIMIT,
        event_text=labels.event_text,
        outcome_text=labels.outcome_text,
    )


@bp.route("/audit-log.csv", methods=["POST"])
@login_required
def export() -> ResponseReturnValue:
    if current_user.role != "manager":
        abort(404)
    form = LogSearchForm()
    if not form.validate():
        return _page(form, None)  # the search page, with what to correct
    text = services.export_log(current_user, _filter(form))
    return download(text, f"pallapp-audit-log-{form.start.data}-{form.end.data}.csv")


@bp.route("/start/access-log")
@login_required
def mine() -> ResponseReturnValue:
    if current_user.role != "patient":
        abort(404)
    return render_template("logreview/mine.html", rows=services.who_opened_my_record(current_user))
