"""Review pages: unit overview, flags and acknowledging them, trends, summary, exports."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from flask import Response, abort, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import format_decimal, get_locale
from flask_login import current_user, login_required
from werkzeug.datastructures import MultiDict

from pallapp import present, scoring
from pallapp.csvout import download
from pallapp.flags.expected import expected_levels_panel
from pallapp.forms.review import AcknowledgeFlagForm, QualityForm
from pallapp.i18n import gettext
from pallapp.models import Phase, utcnow
from pallapp.paging import requested_page
from pallapp.refusals import Refusal
from pallapp.review import (
    bp,
    chartcache,
    chartreads,
    charts,
    exports,
    flag_pages,
    heatmap,
    overview_markup,
    overview_words,
    printout,
    quality,
    quality_service,
    timeline,
    trends_markup,
)
from pallapp.review import common as review_common
from pallapp.review import overview as overview_service
from pallapp.review import summary as summary_service
from pallapp.review import trends as trend_service
from pallapp.timeutil import today_local

if TYPE_CHECKING:  # for annotations only: views work with models through the services
    from pallapp.models import CareUnit, Flag

# The SVG charts are images: nothing in them may run, whatever a browser does with them.
SVG_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'"


def _flag_rows(
    entries: Iterable[tuple[Flag, str | None]],
) -> list[tuple[Flag, present.FlagView]]:
    """(flag, its presentation) pairs for templates."""
    rows = []
    for flag, instrument in entries:
        view = present.flag_view(flag, instrument)
        if flag.source in ("dose", "reminder"):
            # Their items are indications ("death_rattle"): named in words.
            view = dataclasses.replace(view, items=[charts.indication_name(c) for c in flag.items])
        rows.append((flag, view))
    return rows


#: What a public id is made of (`models.new_public_id`): nothing that a URL quotes.
_URL_SAFE_ID = re.compile(r"[A-Za-z0-9_-]+")


def _patient_url(endpoint: str) -> Callable[[str], str]:
    """`url_for(endpoint, public_id=...)` for many patients: the route is built once and each
    id put in its place (building a URL cost more than drawing the rest of an overview cell).
    An id with any other character is left to `url_for`, which quotes it."""
    marker = "PUBLICIDMARKER"
    before, after = url_for(endpoint, public_id=marker).split(marker)

    def url(public_id: str) -> str:
        if _URL_SAFE_ID.fullmatch(public_id):
            return f"{before}{public_id}{after}"
        return url_for(endpoint, public_id=public_id)

    return url


@bp.route("/overview")
@login_required
def overview() -> ResponseReturnValue:
    try:
        result = overview_service.unit_overview(
            current_user,
            unit_public_id=request.args.get("unit") or None,
            phase=request.args.get("phase") or None,
            page=requested_page(),
        )
    except review_common.NotAReviewer:
        abort(403)
    except LookupError:
        abort(404)
    words = overview_words.Words()
    today = today_local()
    trends_url, flags_url, summary_url = (
        _patient_url(endpoint) for endpoint in ("review.trends", "review.flags", "review.summary")
    )
    rows = [
        {
            "row": row,
            "flags": [
                overview_words.flag_group_words(group, words, today) for group in row.flag_groups
            ],
            "units": row.units,
            "doses": overview_words.dose_counts_in_words(row.doses_24h, words),
            "worst": overview_words.worst_items_words(row.worst_items, words),
            "worst_band": heatmap.BAND_WORDS.get(row.worst_band or ""),
            "phase": words.phase(row.patient.phase),
            "trends_url": trends_url(row.patient.public_id),
            "flags_url": flags_url(row.patient.public_id),
            "summary_url": summary_url(row.patient.public_id),
        }
        for row in result.rows
    ]
    texts = overview_markup.RowTexts()
    for row, item in zip(result.rows, rows, strict=True):
        item["table_row"] = overview_markup.table_row(item, texts)
        item["list_item"] = overview_markup.list_item(
            item, overview_words.key_score_words(row.scores), texts
        )
    return render_template(
        "review/overview.html",
        overview=result,
        rows=rows,
        phases=list(Phase),
    )


@bp.route("/patients/<public_id>/flags")
@login_required
def flags(public_id: str) -> ResponseReturnValue:
    patient, entries = flag_pages.patient_flags(current_user, public_id, requested_page())
    if not entries.items and entries.number > 1:
        abort(404)  # past the last page
    return render_template(
        "review/flags.html",
        patient=patient,
        page=entries,
        entries=[
            (entry, present.flag_view(entry.flag, entry.instrument)) for entry in entries.items
        ],
        may_acknowledge=review_common.may_acknowledge(current_user, patient),
        # Expected levels held back the alerts (not the flags) of ratings at or below them.
        **expected_levels_panel(current_user, patient, utcnow(), may_change=False),
    )


@bp.route("/patients/<public_id>/flags/<flag_id>/acknowledge", methods=["GET", "POST"])
@login_required
def acknowledge(public_id: str, flag_id: str) -> ResponseReturnValue:
    patient, flag, instrument = flag_pages.flag_to_acknowledge(current_user, public_id, flag_id)
    form = AcknowledgeFlagForm()
    problem = None
    if form.validate_on_submit():
        try:
            flag_pages.acknowledge_flag(current_user, public_id, flag_id, form.note.data or "")
        except Refusal as refused:
            problem = refused.message
        else:
            flash(gettext("The flag is acknowledged. It stays in the patient's flag history."), "success")
            return redirect(url_for("review.flags", public_id=public_id))
    return render_template(
        "review/acknowledge.html",
        patient=patient,
        flag=flag,
        view=present.flag_view(flag, instrument),
        form=form,
        problem=problem,
    )


def _range_arg() -> str:
    range_code = request.args.get("range", trend_service.DEFAULT_TREND_RANGE)
    if range_code not in trend_service.TREND_RANGES:
        abort(404)
    return range_code


@bp.route("/patients/<public_id>/trends")
@login_required
def trends(public_id: str) -> ResponseReturnValue:
    range_code = _range_arg()
    today = today_local()
    patient, assessments = trend_service.trend_assessments(current_user, public_id, range_code)
    splits = heatmap.family_splits(assessments, today)
    trend_service.load_answers(heatmap.columns_shown(assessments, today, splits))
    lines = trend_service.milestone_lines(patient, trend_service.range_start(range_code))
    axis = timeline.trend_axis(patient, range_code)
    doses = timeline.dose_marks(patient, range_code)
    # Doses more than a year old are summed by month when there are many (the charts' rule);
    # the list under the lane points into the table of the doses shown one by one.
    dose_months, recent_doses, doses_monthly_before = charts.doses_by_month(doses, today)
    every_day = charts.dose_days(doses)
    # Nothing summed by month: the doses listed one by one are all of them, their points too.
    listed = every_day if doses_monthly_before is None else charts.dose_days(recent_doses)
    dose_days = listed[-charts.MAX_DOSE_DAYS_LISTED:]
    return render_template(
        "review/trends.html",
        milestones=lines,
        doses=recent_doses,
        dose_months=dose_months,
        doses_monthly_before=doses_monthly_before,
        dose_lane=charts.dose_chart(doses, lines=lines, axis=axis),
        dose_days=dose_days,
        dose_days_left_out=len(every_day) - len(dose_days),
        heatmaps=heatmap.heatmaps(assessments, today, splits),
        markup=trends_markup.TrendsMarkup(gettext),
        patient=patient,
        charts=charts.build_charts(assessments, lines=lines, axis=axis, today=today),
        range_code=range_code,
        ranges=[("2w", gettext("2 weeks")), ("3m", gettext("3 months")), ("all", gettext("All"))],
        open_flags=_flag_rows(trend_service.open_flags_of(patient)),
        may_acknowledge=review_common.may_acknowledge(current_user, patient),
    )


@bp.route("/patients/<public_id>/trends/<key>.svg")
@login_required
def trend_chart(public_id: str, key: str) -> ResponseReturnValue:
    if key not in charts.chart_keys():
        abort(404)
    range_code = _range_arg()
    patient, version = trend_service.chart_patient(current_user, public_id, range_code)
    etag = chartcache.chart_etag(patient, version, key, range_code, str(get_locale()))
    # Weak comparison, as RFC 9110 asks for If-None-Match (a compressing proxy weakens tags).
    if request.if_none_match.contains_weak(etag):
        response = Response(status=304)
    else:
        lines = trend_service.milestone_lines(patient, trend_service.range_start(range_code))
        axis = timeline.trend_axis(patient, range_code)
        if key == charts.DOSES_KEY:
            chart = charts.dose_chart(timeline.dose_marks(patient, range_code), lines=lines, axis=axis)
        else:
            # Only this chart's instruments and scores: the page shows several images, and each
            # used to load every rating and build every chart to draw one.
            assessments = chartreads.chart_ratings(patient, key, range_code)
            chart = charts.build_chart(key, assessments, lines=lines, axis=axis, today=today_local())
        if chart is None:
            abort(404)
        response = Response(charts.render_svg(chart), mimetype="image/svg+xml")
        response.headers["Content-Security-Policy"] = SVG_CSP
    # Weak: the tag names the chart, whatever its encoding. A strong one is made
    # "<tag>:gzip" by Flask-Compress for a browser that accepts gzip (every browser), which
    # then sends that back and matched nothing above: each revalidation drew the chart again
    # and was answered 304 only after compressing it (server p50 4.6 ms instead of 1.55).
    response.set_etag(etag, weak=True)
    # Kept by this browser only, and asked about again on every view: a new rating must show
    # (the factory's headers write it; every other logged-in response is no-store).
    g.revalidated_image = True
    return response


@bp.route("/patients/<public_id>/summary")
@login_required
def summary(public_id: str) -> ResponseReturnValue:
    result = summary_service.patient_summary(current_user, public_id)
    latest = [
        {
            "assessment": assessment,
            "title": present.instrument_title(assessment.instrument),
            "scores": present.score_rows(assessment),
            "band": present.overall_band(assessment),
        }
        for assessment in sorted(result.latest.values(), key=lambda a: a.observed_at, reverse=True)
    ]
    recent = printout.recent_ratings(result.patient)
    recent_rows = [
        {
            "title": present.instrument_title(code),
            "ratings": [
                {
                    "assessment": assessment,
                    "scores": present.score_rows(assessment),
                    "band": present.overall_band(assessment),
                }
                for assessment in recent[code]
            ],
        }
        for code in scoring.INSTRUMENTS
        if code in recent
    ]
    return render_template(
        "review/summary.html",
        summary=result,
        patient=result.patient,
        latest=latest,
        open_flags=_flag_rows(result.open_flags),
        today=today_local(),
        episodes=result.patient.active_episodes(today_local()),
        printed_at=utcnow(),
        order_label=present.order_label,
        interval_words=present.interval_words,
        recent=recent_rows,
        milestones=printout.milestones(result.patient),
        limits=printout.plan_limits(result.patient),
    )


@bp.route("/exports")
@login_required
def export_index() -> ResponseReturnValue:
    if not current_user.is_staff:
        abort(403)
    return render_template("review/exports.html", units=exports.export_units(current_user))


def _unit_export(unit_id: str, kind: str) -> exports.UnitExport:
    if not current_user.is_staff:
        abort(403)
    try:
        return exports.unit_assessments(current_user, unit_id, kind)
    except LookupError:
        abort(404)


# Exports are POSTed from a form with its CSRF token: a link or an image on another site would
# otherwise start a unit export on a logged-in staff device, in that person's name.


@bp.route("/exports/<unit_id>/assessments.csv", methods=["POST"])
@login_required
def export_csv(unit_id: str) -> ResponseReturnValue:
    pseudonymised = request.form.get("pseudonymised") == "1"
    export = _unit_export(unit_id, "csv pseudonymised" if pseudonymised else "csv")
    text = exports.assessments_csv(export, pseudonymised=pseudonymised)
    stamp = today_local().isoformat()
    return download(text, f"assessments-{stamp}{'-pseudonymised' if pseudonymised else ''}.csv")


# --- Quality indicators -----------------------------------------------------------------------

#: Quick choices of period: days back from today, with their words.
QUALITY_PRESETS = (30, 90, 365)
DEFAULT_QUALITY_DAYS = 90


def _quality_units() -> list[CareUnit]:
    try:
        return quality_service.quality_units(current_user)
    except quality_service.NotForQuality:
        abort(404)


def _quality_form(
    units: list[CareUnit], source: MultiDict[str, str] | None = None
) -> QualityForm:
    """The unit-and-period form filled from `source` (default: the query string; defaults:
    the first unit, the last 90 days)."""
    today = today_local()
    defaults = {
        "unit": units[0].public_id if units else "",
        "start": (today - timedelta(days=DEFAULT_QUALITY_DAYS - 1)).isoformat(),
        "end": today.isoformat(),
    }
    given = request.args if source is None else source
    data = MultiDict({**defaults, **{k: v for k, v in given.items() if k in defaults and v}})
    if data["unit"] and data["unit"] not in {unit.public_id for unit in units}:
        abort(404)  # not one of the user's units: to them it does not exist
    form = QualityForm(data)
    form.unit.choices = [(unit.public_id, unit.name) for unit in units]
    return form


def percent_text(percent: float | None) -> str:
    if percent is None:
        return gettext("no figure")
    return gettext("%(percent)s %%", percent=format_decimal(percent, format="#,##0.#"))


def verdict_text(figure: quality.Figure) -> str:
    """The result in words, never colour alone."""
    if figure.target is None:
        return gettext("No national target")
    if figure.meets_target is None:
        return gettext("No patients to count")
    return gettext("Meets target") if figure.meets_target else gettext("Below target")


def target_parts(figure: quality.Figure) -> tuple[str, str]:
    """The target and whose it is: ("≥ 98 %", "Socialstyrelsen"); ("–", "") without one."""
    if figure.target is None:
        return "–", ""
    return figure.target.text, gettext(figure.target.source_label)


def regional_parts(definition: quality.Definition, unit_kind: str) -> list[tuple[str, str]]:
    """The 2021 figures of Region Dalarna's plan a unit of this kind compares itself with, as
    (value, kind of care): one setting's, all settings' for primary care, none where the plan
    gives none."""
    if definition.regional is None:
        return []
    return [
        (
            value,
            gettext("all kinds of care") if setting is None
            else gettext(quality.SETTING_LABELS[setting]),
        )
        for setting, value in definition.regional.for_unit_kind(unit_kind)
    ]


def _period(form: QualityForm) -> quality.Period:
    return quality.Period(form.start.data, form.end.data)


@bp.route("/quality")
@login_required
def quality_report() -> ResponseReturnValue:
    units = _quality_units()
    form = _quality_form(units)
    report = None
    if units and form.validate():
        try:
            report = quality_service.quality_indicators(current_user, form.unit.data, _period(form))
        except (quality_service.NotForQuality, LookupError):
            abort(404)
    today = today_local()
    presets = [
        (days, (today - timedelta(days=days - 1)).isoformat(), today.isoformat())
        for days in QUALITY_PRESETS
    ]
    return render_template(
        "review/quality.html",
        form=form,
        units=units,
        report=report,
        families=quality.FAMILIES,
        presets=presets,
        deaths_list=quality_service.DEATHS_LIST,
        regional_source=quality.REGIONAL_SOURCE,
        percent_text=percent_text,
        verdict_text=verdict_text,
        target_parts=target_parts,
        regional_parts=regional_parts,
    )


def _unit_period_form(unit_id: str, source: MultiDict[str, str] | None = None) -> QualityForm:
    """The period form for one of the user's units, from `source` (default: the query
    string); 404 for a unit that is not the user's or a period that does not validate."""
    units = _quality_units()
    if unit_id not in {unit.public_id for unit in units}:
        abort(404)
    form = _quality_form(units, source)
    form.unit.data = unit_id
    if not form.validate():
        abort(404)
    return form


@bp.route("/quality/<unit_id>/<indicator>")
@login_required
def quality_patients(unit_id: str, indicator: str) -> ResponseReturnValue:
    """The patients behind a figure: those an indicator counts and misses, or (`deaths`) the
    deaths of the period by whether they were expected."""
    form = _unit_period_form(unit_id)
    try:
        if indicator == quality_service.DEATHS_LIST:
            report, deaths = quality_service.quality_deaths(current_user, unit_id, _period(form))
            return render_template("review/quality_deaths.html", report=report, deaths=deaths)
        report, found, counted, missed = quality_service.quality_patients(
            current_user, unit_id, _period(form), indicator
        )
    except (quality_service.NotForQuality, LookupError):
        abort(404)
    return render_template(
        "review/quality_patients.html",
        report=report,
        indicator=found,
        family=quality.FAMILY_INFO[found.definition.family],
        counted=counted,
        missed=missed,
        percent_text=percent_text,
        verdict_text=verdict_text,
        target_parts=target_parts,
    )


@bp.route("/exports/<unit_id>/quality.csv", methods=["POST"])
@login_required
def export_quality_csv(unit_id: str) -> ResponseReturnValue:
    form = _unit_period_form(unit_id, request.form)
    try:
        report = exports.quality_export(current_user, unit_id, _period(form))
    except (quality_service.NotForQuality, LookupError):
        abort(404)
    text = exports.quality_csv(report)
    period = report.period
    return download(text, f"quality-indicators-{period.start.isoformat()}-{period.end.isoformat()}.csv")
