"""The form of a patient's own reporting plan refuses a line in use without its interval."""

from __future__ import annotations

from pallapp.forms.reporting import ReportingPlanForm


def _posted(app, interval: str) -> ReportingPlanForm:
    data = {
        "line_1-instrument": "esas_r", "line_1-respondent": "patient",
        "line_1-interval_days": interval, "line_2-instrument": "", "line_3-instrument": "",
        "reason": "Snabba förändringar",
    }
    with app.test_request_context("/", method="POST", data=data):
        form = ReportingPlanForm(meta={"csrf": False})
        form.validate()
        return form


def test_a_line_in_use_without_an_interval_is_refused_in_the_form(app):
    # Optional() on the interval stops its own checks when it is empty; the line still needs
    # one (before, the empty interval reached the database, which refused NULL: a server error).
    form = _posted(app, "")
    assert form.errors == {"line_1": {"interval_days": ["Give how often, in days."]}}


def test_a_line_with_its_interval_and_unused_lines_without_one_pass(app):
    form = _posted(app, "3")
    assert form.errors == {}
    assert form.line_1.form.interval_days.data == 3
