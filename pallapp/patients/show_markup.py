"""The repeated parts of the patient page drawn in Python, for `patients/show.html` and
`careplan/_home_visit.html`: the latest scores, the open flags, the as-needed orders with their
doses, the doses to evaluate and the milestones.

Those loops were most of the page's template time: in Jinja each `_()` goes through the i18n
extension and the context, each filter and global through a call, each value through escaping
into a new Markup. Here every text is translated once per page, every distinct date formatted
once (`pallapp.i18n` keeps them), and each part is one string.

What comes out is byte for byte what the templates drew: translated texts are trusted as the
autoescaped template trusted them (Jinja's newstyle gettext: `Markup(translation) % values`,
the values escaped), data are escaped as `{{ value }}` escaped them (`markupsafe.escape`, which
also leaves a lazy translated text as the template left it). tests/app/patients/
test_show_markup.py keeps the old loops (and the order row the orders page still includes) and
compares, in both languages, for each role's permissions.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from flask import current_app, request, url_for
from markupsafe import Markup, escape

from pallapp.carerecord import ShownDose, ShownMilestone
from pallapp.homevisit import FlagGroupView, HomeVisit, OrderRow
from pallapp.i18n import current_translations, date_text, datetime_text
from pallapp.models import Effect, MilestoneKind
from pallapp.present import interval_words
from pallapp.review.common import KeyScore
from pallapp.review.overview_words import key_score_words
from pallapp.urls import url_builder

#: The patient page's links that take the patient's id alone (`patient_urls`).
PATIENT_ENDPOINTS = (
    "assessments.choose",
    "assessments.history",
    "review.trends",
    "review.flags",
    "review.summary",
    "patients.invite",
    "patients.relatives_page",
    "careplan.plan",
    "careplan.orders",
    "careplan.new_milestone",
)
#: Characters that `url_for` leaves as they are in a path segment (as `pallapp.urls`).
_UNESCAPED = re.compile(r"[A-Za-z0-9_-]+")
_MARKER = "pallapp-patient-marker"

#: What `markupsafe.escape` replaces in a string.
_SPECIAL = re.compile(r"[&<>'\"]")


def _text(value: object) -> str:
    """`{{ value }}` in an autoescaped template, as a string (no Markup built for the usual
    plain text)."""
    if type(value) is str and _SPECIAL.search(value) is None:
        return value
    return str(escape(value))


class _Texts:
    """`_()` and `ngettext()` as the autoescaped template gave them, each message translated
    once per page, and the `local_datetime` filter, each moment formatted once per page."""

    def __init__(self) -> None:
        self._translations = current_translations()
        self._plain: dict[str, str] = {}
        self._moments: dict[Any, str] = {}
        self._doses: dict[tuple[Any, ...], str] = {}

    def __call__(self, msgid: str) -> str:
        # Jinja formats a translation with no values too ("%%" becomes "%").
        found = self._plain.get(msgid)
        if found is None:
            found = self._plain[msgid] = str(
                Markup(self._translations.ugettext(msgid)) % {}  # noqa: S704 (our catalogue, as _() trusts it)
            )
        return found

    def format(self, msgid: str, **values: object) -> str:
        # `Markup(translation) % values` escapes each value that is not a number; the same
        # text without a Markup per value.
        return _formatted(self._translations.ugettext(msgid), values)

    def nformat(self, singular: str, plural: str, num: int, **values: object) -> str:
        values.setdefault("num", num)
        return _formatted(self._translations.ungettext(singular, plural, num), values)

    def moment(self, value: Any) -> str:
        """The `local_datetime` filter (not escaped)."""
        found = self._moments.get(value)
        if found is None:
            found = self._moments[value] = _datetime(value)
        return found

    def given(self, dose: ShownDose) -> str:
        """`given_dose(dose)` (not escaped), each amount put in words once per page."""
        key = (dose.amount, dose.dose, dose.dose_unit)
        found = self._doses.get(key)
        if found is None:
            found = self._doses[key] = _template_global("given_dose")(dose)
        return found


def _template_global(name: str) -> Callable[[Any], str]:
    # The care plan's `ordered_dose` and `given_dose`, as the templates call them: the care
    # plan pages' presentation is theirs to import (the layer contracts), its template globals
    # are every page's.
    found: Callable[[Any], str] = current_app.jinja_env.globals[name]  # type: ignore[assignment]  # registered by the careplan blueprint
    return found


def _formatted(translation: str, values: dict[str, object]) -> str:
    return str(translation) % {
        key: value if type(value) is int else _text(value) for key, value in values.items()
    }


def _datetime(value: Any) -> str:
    # The `local_datetime` filter.
    return "" if value is None else datetime_text(value, "short")


def _date(value: Any) -> str:
    # The `local_date` filter.
    return "" if value is None else date_text(value, "medium")


def _joined(values: Iterable[object]) -> str:
    # `values|join(", ")` in an autoescaped template.
    return ", ".join(_text(value) for value in values)


def key_scores(scores: Sequence[KeyScore]) -> Markup:
    """What `review/_macros.html`'s `key_scores(scores)` draws."""
    t = _Texts()
    rows = []
    for score in key_score_words(scores):
        band = (
            f'<span class="band band-{_text(score.band)}">{_text(score.band_label)}</span>'
            if score.band_label
            else ""
        )
        rows.append(
            f'\n  <li><span class="ks-title">{_text(score.title)}</span>'
            f'\n    <span class="ks-value">{_text(score.label)}: {_text(score.value)}</span>'
            f"\n    {band}"
            f'\n    <span class="meta">{_text(_date(score.observed_on))}</span></li>\n  '
        )
    if not rows:
        rows.append(f'\n  <li class="meta">{t("No ratings yet.")}</li>\n  ')
    return Markup(f'\n<ul class="key-scores">\n  {"".join(rows)}\n</ul>\n')  # noqa: S704 (every value above is escaped)


def flag_groups(groups: Sequence[FlagGroupView], route_notes: Sequence[str]) -> Markup:
    """The loop over `visit.flag_groups` in `careplan/_home_visit.html`, its `{% else %}`
    included."""
    t = _Texts()
    parts = []
    for group in groups:
        flag = group.view
        items = f" · {_joined(group.items)}" if group.items else ""
        if group.count > 1:
            when = t.nformat(
                "%(num)d time, first %(first)s, newest %(newest)s",
                "%(num)d times, first %(first)s, newest %(newest)s",
                group.count,
                first=t.moment(group.first),
                newest=t.moment(group.newest),
            )
        else:
            when = _text(t.moment(group.first))
        notes = (
            "".join(f"<p>{_text(note)}</p>" for note in route_notes)
            if flag.code == "prn_missing"
            else ""
        )
        parts.append(
            f'\n  <details class="flag flag-{_text(flag.severity)}" data-code="{_text(flag.code)}">'
            f"\n    <summary><strong>{_text(flag.title)}</strong> · "
            f'<span class="severity">{_text(flag.severity_label)}</span>{items}'
            f'\n      <span class="flag-when">· {when} · {_joined(group.sources)}</span></summary>'
            f"\n    <p>{_text(flag.explanation)}</p>"
            f"\n    {notes}"
            "\n  </details>\n  "
        )
    if not parts:
        return Markup(f"\n  <p>{t('No open flags.')}</p>\n  ")  # noqa: S704 (a translation, as _() trusts it)
    return Markup("".join(parts))  # noqa: S704 (every value above is escaped)


def order_rows(
    rows: Sequence[OrderRow], patient_public_id: str, may_record_dose: bool, may_prescribe: bool
) -> Markup:
    """The loop over `visit.orders` in `careplan/_home_visit.html`: each row as
    `careplan/_order_row.html` draws it (the orders page still includes that template), and
    the `{% else %}`."""
    t = _Texts()
    if not rows:
        return Markup(f"<li>{t('No as-needed order is in force.')}</li>")  # noqa: S704 (a translation, as _() trusts it)
    record_url = change_url = stop_url = None
    if may_record_dose:
        record_url = url_builder("careplan.record_dose", "order_id", public_id=patient_public_id)
    if may_prescribe:
        change_url = url_builder("careplan.change_order", "order_id", public_id=patient_public_id)
        stop_url = url_builder("careplan.stop_order", "order_id", public_id=patient_public_id)
    correct_url = ""
    if may_record_dose and any(row.doses for row in rows):
        # As the template: one URL built, each dose's id put in it ("~" never occurs in a
        # public id, which needs no escaping).
        correct_url = url_for(
            "careplan.correct_dose", public_id=patient_public_id, dose_id="~dose~"
        )
    limits_missing = ""
    ordered_dose = _template_global("ordered_dose")
    parts = []
    for row in rows:
        order = row.order
        strength = f" {_text(order.strength)}" if order.strength else ""
        if order.min_interval_minutes:
            interval = t.format(
                "at least %(interval)s between doses",
                interval=interval_words(order.min_interval_minutes),
            )
        else:
            interval = t("no minimum interval")
        if order.max_doses_per_24h:
            most = t.format("at most %(count)d doses in 24 hours", count=order.max_doses_per_24h)
        else:
            most = t("no maximum in 24 hours")
        if not order.has_limits:
            if not limits_missing:
                limits_missing = (
                    f'\n  <p class="message error"><strong>{t("Limits missing")}:</strong> '
                    + t(
                        "the order lacks its minimum interval or its maximum number of doses in 24 hours, so doses under it cannot be checked."
                    )
                    + " "
                    + (
                        t("Change the order and write both.")
                        if may_prescribe
                        else t("A physician needs to change the order.")
                    )
                    + "</p>\n  "
                )
            limits = limits_missing
        else:
            limits = ""
        instructions = f"<p>{_text(order.instructions)}</p>" if order.instructions else ""
        ordered_by = t.format(
            "Ordered by %(name)s from %(when)s",
            name=order.prescriber.name,
            when=t.moment(order.start_at),
        )
        count = t.format("Doses in the last 24 hours: %(count)d", count=len(row.doses))
        doses = ""
        if row.doses:
            doses = (
                '\n  <ul class="plain">\n    '
                + "".join(
                    _dose_line(t, dose, correct_url if may_record_dose else None)
                    for dose in row.doses
                )
                + "\n  </ul>\n  "
            )
        actions = ""
        if record_url is not None:
            actions = (
                f'<a class="button primary" href="{_text(record_url(order.public_id))}">'
                f"{t('Record a dose given')}</a>"
            )
        prescribe = ""
        if change_url is not None and stop_url is not None:
            prescribe = (
                f'\n    <a class="button secondary" href="{_text(change_url(order.public_id))}">'
                f"{t('Change')}</a>"
                f'\n    <a class="button secondary" href="{_text(stop_url(order.public_id))}">'
                f"{t('Stop')}</a>\n    "
            )
        parts.append(
            f'\n\n<li class="card">\n  <h3>{_text(row.label)}</h3>'
            f"\n  <p><strong>{_text(order.drug)}</strong>{strength} · "
            f"{_text(ordered_dose(order))} · {_text(order.route_enum.label)}</p>"
            f'\n  <p class="meta">\n    {interval}\n    · {most}\n  </p>'
            f"\n  {limits}"
            f"\n  {instructions}"
            f'\n  <p class="meta">{ordered_by}</p>'
            f"\n  <p>{count}</p>"
            f"\n  {doses}"
            f'\n  <p class="actions">\n    {actions}\n    {prescribe}\n  </p>\n</li>'
        )
    return Markup("".join(parts))  # noqa: S704 (every value above is escaped)


def _dose_line(t: _Texts, dose: ShownDose, correct_url: str | None) -> str:
    when = t.moment(dose.given_at)
    effect = (
        " · " + t.format("effect: %(effect)s", effect=Effect(dose.effect).label)
        if dose.effect
        else ""
    )
    correct = ""
    if correct_url is not None:
        correct = (
            f'<a class="button secondary" href="{_text(correct_url.replace("~dose~", dose.public_id))}"'
            f' aria-label="{t.format("Correct the dose given %(when)s", when=when)}">'
            f"{t('Correct')}</a>"
        )
    return f"\n    <li>{_text(when)} · {_text(t.given(dose))}{effect}\n      {correct}</li>\n    "


def doses_to_evaluate(doses: Sequence[ShownDose], evaluate_url: str) -> Markup:
    """The loop over `visit.to_evaluate` in `careplan/_home_visit.html`; `evaluate_url` has
    "~dose~" where each dose's id goes."""
    t = _Texts()
    return Markup(  # noqa: S704 (every value is escaped)
        "".join(
            f'\n    <li><a class="button secondary wide" '
            f'href="{_text(evaluate_url.replace("~dose~", dose.public_id))}">'
            + t.format(
                "%(drug)s %(dose)s at %(when)s: record the effect",
                drug=dose.order.drug,
                dose=t.given(dose),
                when=t.moment(dose.given_at),
            )
            + "</a></li>\n    "
            for dose in doses
        )
    )


def milestone_list(milestones: Sequence[ShownMilestone]) -> Markup:
    """What `careplan/_milestone_list.html` draws (the milestones page still includes it)."""
    t = _Texts()
    parts = []
    for milestone in milestones:
        place = f"· {_text(milestone.place_label)}" if milestone.place else ""
        death = (
            f"<br>{_text(milestone.death_expected_label)} · {_text(milestone.pressure_ulcers_label)}"
            if milestone.kind == MilestoneKind.DEATH
            else ""
        )
        participants = (
            '<br><span class="meta">'
            + t.format("Took part: %(who)s", who=milestone.participants)
            + "</span>"
            if milestone.participants
            else ""
        )
        note = f"<br>{_text(milestone.note)}" if milestone.note else ""
        parts.append(
            f"\n  <li><strong>{_text(milestone.kind_enum.label)}</strong> · "
            f"{_text(_date(milestone.occurred_on))}"
            f"\n    {place}"
            f"\n    {death}"
            f"\n    {participants}"
            f"\n    {note}"
            '\n    <br><span class="meta">'
            + t.format("recorded by %(name)s", name=milestone.recorded_by.name)
            + "</span></li>\n  "
        )
    if not parts:
        parts.append(f"\n  <li>{t('No milestones recorded yet.')}</li>\n  ")
    return Markup(f'<ul class="plain">\n  {"".join(parts)}\n</ul>')  # noqa: S704 (every value above is escaped)


def home_visit_markup(visit: HomeVisit, patient_public_id: str) -> dict[str, Markup]:
    """The parts of `careplan/_home_visit.html` drawn here (as `visit_markup`), for what
    `visit` lets the user see."""
    parts: dict[str, Markup] = {}
    if visit.may_see_plan:
        parts["flags"] = flag_groups(visit.flag_groups, visit.route_notes)
        parts["milestones"] = milestone_list(visit.milestones)
    if visit.may_see_orders:
        parts["orders"] = order_rows(
            visit.orders, patient_public_id, visit.may_record_dose, visit.may_prescribe
        )
    if visit.to_evaluate:
        parts["to_evaluate"] = doses_to_evaluate(
            visit.to_evaluate,
            url_for("careplan.evaluate_dose", public_id=patient_public_id, dose_id="~dose~"),
        )
    return parts


def patient_urls(public_id: str) -> dict[str, str]:
    """`url_for(endpoint, public_id=public_id)` for each of `PATIENT_ENDPOINTS`. Each URL is
    built with a marker once per application and script root (as `pallapp.urls.fixed_url`:
    the URL depends on nothing else) and the id put in its place: ten `url_for` calls were a
    tenth of the page's time. An id that `url_for` would escape goes through `url_for`."""
    if not _UNESCAPED.fullmatch(public_id):
        return {endpoint: url_for(endpoint, public_id=public_id) for endpoint in PATIENT_ENDPOINTS}
    known: dict[str, dict[str, tuple[str, str]]] = current_app.extensions.setdefault(
        "pallapp_patient_urls", {}
    )
    patterns = known.get(request.script_root)
    if patterns is None:
        patterns = {}
        for endpoint in PATIENT_ENDPOINTS:
            pattern = url_for(endpoint, public_id=_MARKER)
            if pattern.count(_MARKER) != 1:  # never with these routes; then each is built
                return {e: url_for(e, public_id=public_id) for e in PATIENT_ENDPOINTS}
            before, after = pattern.split(_MARKER)
            patterns[endpoint] = (before, after)
        known[request.script_root] = patterns
    return {endpoint: before + public_id + after for endpoint, (before, after) in patterns.items()}
