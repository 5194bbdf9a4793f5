"""Access-log review pages: the manager's search and CSV export, the patient's own list."""

from __future__ import annotations

from datetime import timedelta

from flask import Response, abort, render_template, request
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from pallapp.forms.logreview import LogSearchForm
from pallapp.logreview import bp, services
from pallapp.timeutil import today_local

#: The period shown before the manager chooses one.
DEFAULT_DAYS = 30


def _search_form() -> LogSearchForm:
    """The form filled from the query string, with the last DEFAULT_DAYS days by default."""
    data = MultiDict(request.args)
    today = today_local()
    data.setdefault("start", (today - timedelta(days=DEFAULT_DAYS - 1)).isoformat())
    data.setdefault("end", today.isoformat())
    return LogSearchForm(formdata=data)


def _filter(form: LogSearchForm) -> services.LogFilter:
    return services.LogFilter(
        start=form.start.data,
        end=form.end.data,
        patient=form.patient.data or "",
        user=form.user.data or "",
    )


@bp.route("/audit-log")
@login_required
def search():  # type: ignore[no-untyped-def]
    if current_user.role != "manager":
        abort(404)
    form = _search_form()
    rows, more = [], False
    if form.validate():
        rows, more = services.search_log(current_user, _filter(form))
    return render_template(
        "logreview/search.html",
        form=form,
        rows=rows,
        more=more,
        limit=services.PAGE_LIMIT,
        query=request.query_string.decode(),
    )


@bp.route("/audit-log.csv")
@login_required
def export():  # type: ignore[no-untyped-def]
    if current_user.role != "manager":
        abort(404)
    form = _search_form()
    if not form.validate():
        abort(400)
    text = services.export_log(current_user, _filter(form))
    name = f"pallapp-audit-log-{form.start.data}-{form.end.data}.csv"
    return Response(
        text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{name}"'},
    )


@bp.route("/start/access-log")
@login_required
def mine():  # type: ignore[no-untyped-def]
    if current_user.role != "patient":
        abort(404)
    return render_template("logreview/mine.html", rows=services.who_opened_my_record(current_user))
