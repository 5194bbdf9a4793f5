"""Trend charts (pygal SVG, no scripts) with data tables, and the printable patient summary."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta
from uuid import UUID, uuid4

import pytest
from pygal.config import Config, SerieConfig
from pygal.graph.base import BaseGraph
from pygal.graph.line import Line
from pygal.style import Style
from pygal.svg import Svg
from sqlalchemy import select

from pallapp.assessments import services as assessment_services
from pallapp.extensions import db
from pallapp.models import Assessment, AuditEvent, Patient, Role
from pallapp.review import charts
from pallapp.timeutil import STOCKHOLM
from tests.app.review.test_overview import IPOS_ITEMS
from tests.app.review.test_views import ESAS_CALM, submit
from tests.factories import make_patient, make_unit, make_user
from tests.sql_log import statements_sent


@pytest.fixture
def rated(app):
    """A patient with ESAS-r 20 days ago and yesterday, and one IPOS yesterday."""
    with app.app_context():
        unit = make_unit("Team A")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        other = make_user(Role.NURSE, units=[make_unit("Team B")], language="en")
        patient = make_patient([unit], given_name="Greta", family_name="Trend")
        # total = 2 + 8 * 1 = 10
        submit(nurse, patient, "esas_r", dict(ESAS_CALM, pain=2), days_ago=20)
        # total = 8 + 5 + 7 * 1 = 20; physical = 8 + 1 + 1 + 5 + 1 + 1 = 17; emotional = 2
        submit(nurse, patient, "esas_r", dict(ESAS_CALM, pain=8, nausea=5), days_ago=1)
        # IPOS pain 3 and nausea 2 are the only items ever >= 2.
        submit(
            nurse, patient, "ipos_staff",
            dict.fromkeys(IPOS_ITEMS, 1) | {"pain": 3, "nausea": 2}, days_ago=1,
        )
        db.session.commit()
        return {"patient": patient.public_id, "nurse": nurse.email, "other": other.email}


def section(page: str, key: str) -> str:
    match = re.search(
        rf'<section class="trend" aria-labelledby="chart-{key}-heading">(.*?)</section>', page, re.S
    )
    assert match, key
    return match.group(1)


def column(table_html: str, index: int) -> list[str]:
    """The cells of data column `index` (0: first series) of a trend table."""
    rows = re.findall(r"<tr><th scope=\"row\">.*?</th>(.*?)</tr>", table_html, re.S)
    return [re.findall(r"<td>(.*?)</td>", row)[index] for row in rows]


def heat_cells(page: str, key: str) -> dict[str, list[str]]:
    """Item code -> the cells of its heat map row as text: "8 severe", "–" (not answered)."""
    table = re.search(rf'<table class="heatmap" id="{key}">(.*?)</table>', page, re.S)
    assert table, key
    rows = re.findall(r'<tr data-item="(\w+)"><th scope="row">.*?</th>(.*?)</tr>', table.group(1), re.S)
    return {
        code: [
            " ".join(re.sub(r"<[^>]+>", " ", re.sub(r'<span class="visually-hidden">.*?</span>', "", cell)).split())
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", cells, re.S)
        ]
        for code, cells in rows
    }


def heat_columns(page: str, key: str) -> list[str]:
    table = re.search(rf'<table class="heatmap" id="{key}">(.*?)</table>', page, re.S)
    assert table, key
    return [
        " ".join(re.sub(r"<[^>]+>", " ", cell).split())
        for cell in re.findall(r'<th scope="col" class="heat-when[^"]*"[^>]*>(.*?)</th>', table.group(1))
    ]


def test_trends_show_each_instrument_with_a_table(rated, client, auth):
    auth.login(rated["nurse"])
    page = client.get(f"/patients/{rated['patient']}/trends?range=3m").get_data(as_text=True)
    total = section(page, "esas_total")
    assert ">ESAS-r: symptom distress score, values by date</caption>" in total
    # Series: total, physical, emotional; oldest first.
    assert column(total, 0) == ["10", "20"]
    assert column(total, 1) == ["7", "17"]  # physical 20 days ago: 2 + 5 * 1 = 7
    assert column(total, 2) == ["2", "2"]
    # Items are a heat map, one column per rating, each cell its number and band in words:
    # ESAS-r bands 0 none, 1-3 mild, 4-6 moderate, 7-10 severe.
    esas = heat_cells(page, "esas_heatmap")
    assert esas["pain"] == ["2 mild", "8 severe"]
    assert esas["nausea"] == ["1 mild", "5 moderate"]
    assert esas["tiredness"] == ["1 mild", "1 mild"]
    assert "other" not in esas  # the optional item nobody answered has no row
    # IPOS bands 0 none, 1 mild, 2 moderate, 3-4 severe; every column names its version.
    ipos = heat_cells(page, "ipos_heatmap")
    assert ipos["pain"] == ["3 severe"]
    assert ipos["nausea"] == ["2 moderate"]
    assert ipos["depression"] == ["1 mild"]
    assert len(ipos) == 17
    assert heat_columns(page, "ipos_heatmap")[0].endswith("Staff version")
    assert "ipos_staff" in re.findall(r'aria-labelledby="chart-(\w+)-heading"', page)
    staff = section(page, "ipos_staff")
    assert '<td class="version">Staff version</td>' in staff
    chart_src = f"/patients/{rated['patient']}/trends/esas_total.svg?range=3m"
    assert f'src="{chart_src}"' in page
    charts_shown = re.findall(r'aria-labelledby="chart-(\w+)-heading"', page)
    assert "abbey" not in charts_shown
    assert "ipos_patient" not in charts_shown  # no self-report: no chart for it
    # Open flags, each with an acknowledge link: ESAS-r severe_item (pain 8), moderate_item
    # (nausea 5), item_rise (pain 2 -> 8, nausea 1 -> 5), total_rise (10 -> 20); IPOS
    # severe_item (pain 3).
    assert page.count("ack-link") == 5


def test_the_range_limits_the_ratings(rated, client, auth):
    auth.login(rated["nurse"])
    page = client.get(f"/patients/{rated['patient']}/trends?range=2w").get_data(as_text=True)
    assert column(section(page, "esas_total"), 0) == ["20"]  # the one 20 days ago is outside
    everything = client.get(f"/patients/{rated['patient']}/trends?range=all").get_data(as_text=True)
    assert column(section(everything, "esas_total"), 0) == ["10", "20"]
    assert client.get(f"/patients/{rated['patient']}/trends?range=1y").status_code == 404


def test_charts_are_svg_without_scripts(app, rated, client, auth):
    auth.login(rated["nurse"])
    for key in ("esas_total", "ipos_staff"):
        response = client.get(f"/patients/{rated['patient']}/trends/{key}.svg?range=3m")
        assert response.status_code == 200, key
        assert response.mimetype == "image/svg+xml"
        assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        body = response.get_data(as_text=True)
        assert "<svg" in body
        assert "<script" not in body
    svg = client.get(f"/patients/{rated['patient']}/trends/esas_total.svg").get_data(as_text=True)
    assert "ESAS-r: symptom distress score" in svg
    assert client.get(f"/patients/{rated['patient']}/trends/abbey.svg").status_code == 404
    assert client.get(f"/patients/{rated['patient']}/trends/doses.svg").status_code == 404  # none
    assert client.get(f"/patients/{rated['patient']}/trends/nope.svg").status_code == 404
    with app.app_context():
        kinds = db.session.scalars(select(AuditEvent.object_type).where(AuditEvent.action == "view"))
        assert "trend_chart" in set(kinds)


def test_summary_shows_latest_ratings_and_open_flags(app, rated, client, auth):
    auth.login(rated["nurse"])
    page = client.get(f"/patients/{rated['patient']}/summary").get_data(as_text=True)
    assert "Patient summary: Greta Trend" in page
    assert "review.css" in page  # print styles
    # Latest ratings: only the latest ESAS-r (20), not the earlier one (10); the last three of
    # each instrument, newest first, below it.
    latest = page[page.index('id="latest-heading"'):page.index('id="recent-heading"')]
    assert "Symptom distress score: 20/90" in latest
    assert "Symptom distress score: 10/90" not in latest
    recent = page[page.index('id="recent-heading"'):page.index('id="orders-heading"')]
    assert recent.index("Symptom distress score: 20/90") < recent.index("Symptom distress score: 10/90")
    assert "Total score: 20/68" in page  # IPOS: 15 * 1 + 3 + 2 = 20
    assert page.count('class="flag flag-high"') == 2  # severe_item: ESAS pain 8, IPOS pain 3
    # ESAS-r moderate_item (nausea 5), item_rise (pain +6, nausea +4), total_rise (+10).
    assert page.count('class="flag flag-medium"') == 3
    with app.app_context():
        kinds = set(db.session.scalars(select(AuditEvent.object_type)))
    assert "patient_summary" in kinds


def test_another_units_nurse_gets_404_for_charts(rated, client, auth):
    auth.login(rated["other"])
    assert client.get(f"/patients/{rated['patient']}/trends/esas_total.svg").status_code == 404


def test_a_corrected_rating_shows_only_in_its_corrected_version(app, rated, client, auth):
    from uuid import uuid4

    from pallapp.assessments.services import correct_assessment
    from pallapp.models import Assessment, Patient, User

    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == rated["nurse"]))
        patient = db.session.scalar(select(Patient).where(Patient.public_id == rated["patient"]))
        latest = db.session.scalar(
            select(Assessment)
            .where(Assessment.patient_id == patient.id, Assessment.instrument == "esas_r")
            .order_by(Assessment.observed_at.desc())
        )
        # Corrected: pain 8 -> 6, nausea 5; total = 6 + 5 + 7 * 1 = 18.
        correct_assessment(
            nurse, patient.public_id, latest.public_id,
            answers=dict(ESAS_CALM, pain=6, nausea=5), reason="typo", client_token=uuid4().hex,
        )
        db.session.commit()
    auth.login(rated["nurse"])
    page = client.get(f"/patients/{rated['patient']}/trends?range=3m").get_data(as_text=True)
    assert column(section(page, "esas_total"), 0) == ["10", "18"]


# --- Long histories: one point per week ------------------------------------------------------

MONDAY = datetime(2025, 1, 6, 12, tzinfo=STOCKHOLM)  # Monday of ISO week 2, 2025, noon


def submit_at(user, patient, instrument, answers, observed_at):
    return assessment_services.submit_assessment(
        user,
        patient.public_id,
        instrument=instrument,
        answers=answers,
        client_token=uuid4().hex,
        observed_at=observed_at,
    ).assessment


@pytest.fixture
def long_history(app):
    """141 ESAS-r ratings over 20 weeks (ISO weeks 2-21 of 2025): one every day at noon, and
    one more on Monday 13 January at 00:30 Stockholm time (still Sunday in UTC)."""
    with app.app_context():
        unit = make_unit("Team A")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        patient = make_patient([unit], given_name="Lång", family_name="Historia")
        patient.enrolled_on = date(2025, 1, 1)
        # Week 2 (6-12 January), day by day: pain 2, 5 (nausea left blank), 3, then 1.
        week_two = [dict(ESAS_CALM, pain=2), dict(ESAS_CALM, pain=5), dict(ESAS_CALM, pain=3)]
        del week_two[1]["nausea"]
        for day in range(20 * 7):
            answers = week_two[day] if day < len(week_two) else ESAS_CALM
            submit_at(nurse, patient, "esas_r", answers, MONDAY + timedelta(days=day))
        # Monday of week 3 at 00:30 Stockholm = Sunday 12 January 23:30 UTC.
        submit_at(
            nurse, patient, "esas_r", dict(ESAS_CALM, pain=9),
            datetime(2025, 1, 13, 0, 30, tzinfo=STOCKHOLM),
        )
        db.session.commit()
        return {"patient": patient.public_id, "nurse": nurse.email}


def test_a_long_history_shows_the_highest_rating_of_each_week(
    long_history, client, auth, monkeypatch
):
    # Seen a week after the last rating: every rating is within the last year, so by week.
    monkeypatch.setattr("pallapp.review.views.today_local", lambda: date(2025, 6, 1))
    auth.login(long_history["nurse"])
    page = client.get(f"/patients/{long_history['patient']}/trends?range=all").get_data(as_text=True)
    total = section(page, "esas_total")
    assert "Each point is the highest rating of its week (141 ratings)." in total
    assert f'href="/patients/{long_history["patient"]}/assessments"' in total
    assert ">ESAS-r: symptom distress score, highest values by week</caption>" in total
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>', total)
    assert len(rows) == 20  # 141 ratings > 120 points: one row per week, weeks 2 to 21
    assert rows[0].startswith("Week 2, 2025")
    assert rows[1].startswith("Week 3, 2025")
    # Week 2: totals 2 + 8 = 10; missing (nausea blank, not imputed); 3 + 8 = 11; then
    # 1 + 8 = 9 four times. Highest present: 11. Week 3: the Monday 00:30 rating 9 + 8 = 17
    # (a week in Stockholm time: in UTC it would fall in week 2), then 9 seven times: 17.
    assert column(total, 0)[:3] == ["11", "17", "9"]
    # Ratings per week: 7 days in week 2; 7 days and the Monday night rating in week 3.
    assert column(total, 3)[:3] == ["7", "8", "7"]
    # The heat map shows the newest 40 ratings, each on its own, and says where the rest are.
    assert "The newest 40 ratings are shown; 101 earlier ones of this period" in page
    assert len(heat_cells(page, "esas_heatmap")["pain"]) == 40


def test_ratings_more_than_a_year_old_are_shown_by_month(long_history, client, auth):
    """Seen today, the 2025 ratings are more than a year old (the first of the month twelve
    months back is after them): one point and one row per calendar month, the highest of the
    month, and the table says how many ratings each row stands for."""
    auth.login(long_history["nurse"])
    page = client.get(f"/patients/{long_history['patient']}/trends?range=all").get_data(as_text=True)
    total = section(page, "esas_total")
    assert re.search(
        r"Each point is the highest rating of its month before [0-9/]+, then of its week "
        r"\(141 ratings\)\.",
        total,
    )
    assert ">ESAS-r: symptom distress score, highest values by month, then by week</caption>" in total
    assert '<th scope="col">Month or week</th>' in total
    rows = re.findall(r'<tr><th scope="row">(.*?)</th>', total)
    assert rows == ["January 2025", "February 2025", "March 2025", "April 2025", "May 2025"]
    # January: 2 + 8 = 10, 11, the Monday night 17, then 9; February to May: 9 every day.
    assert column(total, 0) == ["17", "9", "9", "9", "9"]
    # 6-31 January and the Monday night rating; 1 May to 25 May (6 January + 139 days).
    assert column(total, 3) == ["27", "28", "31", "30", "25"]
    # The heat map follows the same rule: 141 ratings > 120, all before the cut, so one column
    # per month, each cell the month's highest answer. Pain in January: 2, 5, 3, the Monday
    # night 9, then 1: highest 9; February to May: 1 every day. Nausea in January: 1 (the one
    # left blank is not filled in), 1 in every month.
    cells = heat_cells(page, "esas_heatmap")
    assert cells["pain"] == ["9 severe", "1 mild", "1 mild", "1 mild", "1 mild"]
    assert cells["nausea"] == ["1 mild"] * 5
    assert heat_columns(page, "esas_heatmap") == [
        "January 2025 highest of 27 ratings",
        "February 2025 highest of 28 ratings",
        "March 2025 highest of 31 ratings",
        "April 2025 highest of 30 ratings",
        "May 2025 highest of 25 ratings",
    ]
    assert "Ratings before " in page
    assert "one column per month and version" in page


def test_a_month_point_is_the_highest_of_its_month_then_weeks(app):
    """Ratings before the cut-off are grouped by calendar month (point mid-month), later ones by
    ISO week; the week cut by the cut-off starts at it, and each period counts its ratings."""
    # 1 September 2024 to 1 February 2025, one a day at noon; cut-off 1 January 2025.
    first = datetime(2024, 9, 1, 12, tzinfo=STOCKHOLM)
    ratings = [abbey(day % 7 + (10 if day == 40 else 0), first + timedelta(days=day)) for day in range(154)]
    with app.test_request_context():
        chart = charts.build_chart("abbey", ratings, today=date(2026, 1, 20))
        assert charts.monthly_before(date(2026, 1, 20)) == date(2025, 1, 1)
        assert chart.monthly_before == date(2025, 1, 1)
        points = chart.series[0].points
        # Four months (September to December), then weeks 1 to 5 of 2025.
        months = [moment for moment in chart.periods if chart.periods[moment].monthly]
        assert len(months) == 4
        assert points[0] == (datetime(2024, 9, 15, 12, tzinfo=STOCKHOLM), 6)
        # Day 40 is 11 October: 40 % 7 + 10 = 15, the highest of October.
        assert points[1] == (datetime(2024, 10, 16, 12, tzinfo=STOCKHOLM), 15)
        assert [chart.periods[m].count for m in months] == [30, 31, 30, 31]
        assert chart.period_label(months[0]) == "september 2024"  # Swedish, the default
        # Week 1 of 2025 runs from Monday 30 December; its point covers 1-5 January only.
        week_one = chart.periods[points[4][0]]
        assert (week_one.first, week_one.last, week_one.count) == (
            date(2025, 1, 1), date(2025, 1, 5), 5
        )
        assert points[4][0] == datetime(2025, 1, 3, 12, tzinfo=STOCKHOLM)
        assert "2025-01-01 – 2025-01-05" in chart.period_label(points[4][0])
        assert sum(period.count for period in chart.periods.values()) == 154


def test_a_chart_with_many_ratings_has_one_point_per_week(app, long_history):
    with app.test_request_context():
        patient = db.session.scalar(select(Patient).where(Patient.public_id == long_history["patient"]))
        ratings = list(db.session.scalars(select(Assessment).where(Assessment.patient_id == patient.id)))
        chart = charts.build_chart("esas_total", sorted(ratings, key=lambda a: a.observed_at))
    assert chart.weekly
    total = chart.series[0].points
    assert len(total) == 20
    # Each point in the middle of its week: Thursday noon, Stockholm time.
    assert total[0] == (datetime(2025, 1, 9, 12, tzinfo=STOCKHOLM), 11)
    assert total[1] == (datetime(2025, 1, 16, 12, tzinfo=STOCKHOLM), 17)


def abbey(total: int, observed_at: datetime) -> Assessment:
    return Assessment(instrument="abbey", observed_at=observed_at, answers={}, scores={}, total=total)


def test_up_to_the_limit_every_rating_is_its_own_point(app):
    # 120 ratings, 3 hours apart: all within 15 days, several a day; at the limit nothing is
    # aggregated, one more and the chart is weekly.
    ratings = [abbey(i % 19, MONDAY + timedelta(hours=3 * i)) for i in range(charts.MAX_CHART_POINTS)]
    with app.test_request_context():
        chart = charts.build_chart("abbey", ratings)
        assert not chart.weekly
        assert chart.weekly_note == ""
        assert len(chart.series[0].points) == 120
        more = charts.build_chart("abbey", [*ratings, abbey(0, MONDAY + timedelta(days=16))])
    assert more.weekly
    # 121 ratings from Monday 6 January noon to 21 January: ISO weeks 2, 3 and 4.
    assert len(more.series[0].points) == 3
    # Week 2: Monday 6 January 12:00 to Monday 13 January 00:00 is 6.5 * 24 = 156 hours, so
    # ratings 0 to 51 (3 * 51 = 153 < 156); their totals i % 19 reach 18 (i = 18).
    assert more.series[0].points[0][1] == 18


def test_the_trends_page_below_the_limit_is_unchanged(rated, client, auth):
    auth.login(rated["nurse"])
    page = client.get(f"/patients/{rated['patient']}/trends?range=all").get_data(as_text=True)
    assert "highest rating of its week" not in page
    assert "weekly-note" not in page


def test_a_chart_of_three_years_stays_small(app):
    """Three years of daily IPOS and a dose every 7 hours: one point per week keeps the score
    chart bounded (drawn rating by rating, it grew with every rating); the dose lane has one
    point per day and indication."""
    start = datetime(2023, 1, 2, 10, tzinfo=STOCKHOLM)
    ratings = [
        Assessment(
            instrument="ipos_staff",
            observed_at=start + timedelta(days=day),
            answers=dict.fromkeys(IPOS_ITEMS, 2 + day % 3),
            scores={"subscales": {"physical": 20, "emotional": 8, "communication_practical": 6}},
            total=40,
        )
        for day in range(3 * 365)
    ]
    doses = [
        charts.DoseMark(start + timedelta(hours=7 * i), "pain", "Morfin", "2,5 mg", "s.c.", None)
        for i in range(3 * 365 * 24 // 7)
    ]
    axis = charts.axis_for(start.date(), (start + timedelta(days=3 * 365)).date())
    with app.test_request_context():
        chart = charts.build_chart("ipos_staff", ratings, axis=axis)
        svg = charts.render_svg(chart)
        lane = charts.dose_chart(doses, axis=axis)
        lane_svg = charts.render_svg(lane)
    assert chart.weekly
    assert len(chart.series) == 4  # total and three subscales
    # 2 January 2023 (Monday, week 1) to 31 December 2025 (week 1 of 2026): 3 * 52 + 1 weeks.
    assert len(chart.series[0].points) == 157
    assert len(svg) < 200_000
    assert b"<desc" not in svg  # tooltip data for a script that never runs
    # One point a day, each dose counted once; a whole day of a dose every 7 hours holds 3 or 4
    # (24 / 7 = 3.4; the first day starts at 10:00, the last ends early).
    counts = [count for _day, count in lane.series[0].points]
    assert sum(counts) == len(doses)
    assert len(counts) == (doses[-1].given_at.date() - start.date()).days + 1
    assert set(counts[1:-1]) == {3, 4}
    assert len(lane_svg) < 400_000


def test_a_chart_image_loads_only_its_own_instruments(app, rated, client, auth):
    auth.login(rated["nurse"])
    with statements_sent(app) as sent:
        response = client.get(f"/patients/{rated['patient']}/trends/ipos_staff.svg?range=3m")
    assert response.status_code == 200
    assessment_queries = [
        (statement, parameters)
        for statement, parameters in sent
        # The ratings read (their scores' parts: by path, or from the columns kept of them).
        if statement.lstrip().startswith("SELECT") and "assessment.total" in statement
    ]
    assert len(assessment_queries) == 1
    statement, parameters = assessment_queries[0]
    assert "assessment.answers" not in statement  # a chart draws scores, never the answers
    values = parameters.values() if isinstance(parameters, dict) else parameters
    assert "ipos_staff" in values
    assert "esas_r" not in values  # the ESAS-r ratings of the patient are not loaded


def plot_box(svg: bytes) -> tuple[str, str]:
    """(left edge, width) of a pygal chart's plot area."""
    match = re.search(
        rb'<g transform="translate\(([\d.]+), [\d.]+\)" class="plot"><rect x="0" y="0" '
        rb'width="([\d.]+)"',
        svg,
    )
    assert match
    return match.group(1).decode(), match.group(2).decode()


def test_every_plot_area_of_a_page_shares_one_time_axis(app):
    """Score charts with labels of one, two or three digits and the dose lane: the plot areas
    start and end at the same x, so a dose is drawn under the ratings of its day."""
    start = datetime(2025, 1, 6, 10, tzinfo=STOCKHOLM)
    axis = charts.axis_for(start.date(), (start + timedelta(days=30)).date())
    lines = [(start + timedelta(days=10), "Brytpunktssamtal")]
    roag = Assessment(
        instrument="roag", observed_at=start, answers={}, scores={"max_grade": 2}, total=None
    )
    doses = [charts.DoseMark(start, "pain", "Morfin", "2,5 mg", "s.c.", None)]
    with app.test_request_context():
        built = [
            charts.build_chart("abbey", [abbey(3, start)], lines=lines, axis=axis),  # 0-18
            charts.build_chart("roag", [roag], lines=lines, axis=axis),  # grades 0-4
            charts.dose_chart(doses, lines=lines, axis=axis),  # 0-4
        ]
        boxes = {plot_box(charts.render_svg(chart)) for chart in built if chart}
    assert len(built) == 3
    assert len(boxes) == 1, boxes


def test_a_long_milestone_name_does_not_narrow_the_plot(app):
    """The widest time axis label sets the right margin: a milestone's name is cut after
    MILESTONE_NAME_CHARS characters, after its date, with the whole label as its <title>."""
    start = datetime(2025, 1, 6, 10, tzinfo=STOCKHOLM)
    axis = charts.axis_for(start.date(), (start + timedelta(days=30)).date())
    near_the_end = datetime(2025, 2, 4, 12, tzinfo=STOCKHOLM)

    def drawn(name: str | None) -> tuple[tuple[str, str], bytes]:
        lines = [(near_the_end, name)] if name else []
        with app.test_request_context():  # Swedish dates: 2025-02-04
            svg = charts.render_svg(charts.build_chart("abbey", [abbey(3, start)], lines=lines, axis=axis))
        return plot_box(svg), svg

    long_box, long_svg = drawn("Coordinated individual plan (SIP)")  # 33 characters
    medium_box, _svg = drawn("Care plan agreed")  # 16: cut after 12 as well
    plain_box, _svg = drawn(None)
    assert charts.MILESTONE_NAME_CHARS == 12
    assert long_box == medium_box
    # 10 (date) + 1 + 12 characters of the name, then "…"; the whole label in its <title>.
    assert "2025-02-04 Coordinated …</text>".encode() in long_svg
    assert b"<title>2025-02-04 Coordinated individual plan (SIP)</title>" in long_svg
    # The cut label (24 characters) leaves the plot within 14 characters (9 px each at 15 px,
    # pygal's estimate, times cos 20 degrees: about 118 px) of a plot without a milestone; the
    # whole label (44 characters) took about 290 px more.
    assert long_box[0] == plain_box[0]
    assert float(plain_box[1]) - float(long_box[1]) < 120


def test_charts_are_drawn_as_pygal_draws_them(app, monkeypatch):
    """The style sheets and series option names kept per process (`_SvgWithKeptStyles`,
    `_SerieConfigWithKeptNames`) give the same SVG, byte for byte, as pygal's own code: charts of several kinds, lengths and languages, with and
    without thresholds, milestones and weekly points, and the dose lane."""
    start = datetime(2025, 1, 6, 10, tzinfo=STOCKHOLM)
    ipos = [
        Assessment(
            instrument="ipos_staff",
            observed_at=start + timedelta(days=day),
            answers={},
            scores={"subscales": {"physical": 10 + day % 7, "emotional": 4, "communication_practical": 3}},
            total=20 + day % 9,
        )
        for day in range(200)  # weekly points
    ]
    roag = Assessment(
        instrument="roag", observed_at=start, answers={}, scores={"max_grade": 2}, total=None
    )
    doses = [
        charts.DoseMark(start + timedelta(hours=7 * i), "pain", "Morfin", "2,5 mg", "s.c.", None)
        for i in range(40)
    ]
    month = charts.axis_for(start.date(), (start + timedelta(days=30)).date())
    year = charts.axis_for(start.date(), (start + timedelta(days=365)).date())
    lines = [(start + timedelta(days=10), "Brytpunktssamtal"), (start + timedelta(days=20), "Inskriven")]

    def draw_all() -> list[bytes]:
        drawn = []
        for locale in ("en", "sv"):
            with app.test_request_context(headers={"Accept-Language": locale}):
                built = [
                    charts.build_chart("abbey", [abbey(3, start), abbey(9, start + timedelta(days=2))]),
                    charts.build_chart("abbey", [abbey(12, start)], lines=lines, axis=month),
                    charts.build_chart("roag", [roag], axis=month),
                    charts.build_chart("ipos_staff", ipos[:30], lines=lines[:1], axis=month),
                    charts.build_chart("ipos_staff", ipos, lines=lines, axis=year, today=year.end.date()),
                    charts.dose_chart(doses, lines=lines, axis=month),
                    charts.dose_chart(doses),
                ]
                for chart in built:
                    assert chart is not None
                    # pygal names each chart by a random id: the same ids in every run.
                    chart_id = UUID(int=(len(drawn) + 1) * 7919)
                    monkeypatch.setattr("pygal.graph.base.uuid4", lambda chart_id=chart_id: chart_id)
                    drawn.append(charts.render_svg(chart))
        return drawn

    charts._style_sheets.cache_clear()
    kept = draw_all()
    assert draw_all() == kept  # drawn again from the kept style sheets
    assert charts._style_sheets.cache_info().hits >= len(kept)
    drawn_by_pygal(monkeypatch)
    assert draw_all() == kept
    assert all(b"<style" in svg and b"<script" not in svg for svg in kept)


def drawn_by_pygal(monkeypatch) -> None:
    """pygal's own code instead of every quicker part of `charts` (style sheets, series
    options, attribute rules, values, dots and lines) and ElementTree's writer instead of
    `_svg_text`: what the charts were drawn with before those parts."""
    monkeypatch.setattr(charts._SvgWithKeptStyles, "add_styles", Svg.add_styles)
    monkeypatch.setattr(charts._SvgWithKeptStyles, "add_scripts", Svg.add_scripts)
    monkeypatch.setattr("pygal.graph.base.SerieConfig", SerieConfig)
    monkeypatch.setattr(charts, "_ConfigWithKeptDefaults", Config)
    monkeypatch.setattr(
        charts, "_kept_style", lambda colours: Style(colors=colours, **charts.STYLE_OPTIONS)
    )
    # pygal's own attribute rules instead of the chart's quicker ones (`__getattribute__`).
    monkeypatch.setattr(
        charts._DateTimeLineWithoutTooltips, "__getattribute__", BaseGraph.__getattribute__
    )
    monkeypatch.setattr(charts._DateTimeLineWithoutTooltips, "__setattr__", BaseGraph.__setattr__)
    monkeypatch.setattr(charts._DateTimeLineWithoutTooltips, "prepare_values", BaseGraph.prepare_values)
    monkeypatch.setattr(charts._DateTimeLineWithoutTooltips, "line", Line.line)

    def unusual(tree: object) -> str:
        raise charts._UnusualTree("ElementTree's writer")

    monkeypatch.setattr(charts, "_svg_text", unusual)


def ratings_of(definition, start: datetime, count: int, hours: int) -> list[Assessment]:
    """`count` ratings `hours` apart of an instrument's total and subscales (or highest grade),
    a subscale now and then not rated (the line is interrupted there)."""
    ratings = []
    for i in range(count):
        subscales = {
            code: None if (i + n) % 11 == 0 else (i * 7 + n * 3) % 13
            for n, code in enumerate(definition.subscales)
        }
        ratings.append(
            Assessment(
                instrument=definition.code,
                observed_at=start + timedelta(hours=hours * i),
                answers={},
                scores={"subscales": subscales, "max_grade": i % 4},
                total=(i * 5) % ((definition.total_max or 4) + 1) if definition.total_items else None,
            )
        )
    return ratings


def test_every_chart_is_drawn_as_before(app, monkeypatch):
    """Every chart kind (each instrument's chart and the dose lane), for a range of three months
    (a point for each rating, milestones) and for all of a long stay (weekly and monthly
    points), in English and Swedish: the SVG is byte for byte the one pygal's own code and
    ElementTree's writer draw (`drawn_by_pygal`); pygal's random chart id is fixed."""
    today = date(2025, 6, 30)
    three_months = charts.axis_for(today - timedelta(days=90), today)
    long_stay = charts.axis_for(today - timedelta(days=3 * 365), today)
    milestones = [
        (datetime(2025, 5, 2, 9, tzinfo=STOCKHOLM), "Brytpunktssamtal"),
        (datetime(2025, 6, 20, 14, tzinfo=STOCKHOLM), "Coordinated individual plan (SIP)"),
    ]
    keys = charts.chart_keys()
    assert {"esas_total", "ipos_patient", "ipos_staff", "abbey", "roag", "doses"} <= set(keys)

    def draw_all() -> list[bytes]:
        drawn = []
        for locale in ("en", "sv"):
            with app.test_request_context(headers={"Accept-Language": locale}):
                for axis, hours, count in ((three_months, 30, 70), (long_stay, 50, 520)):
                    start = axis.start + timedelta(hours=10)
                    doses = [
                        charts.DoseMark(
                            start + timedelta(hours=hours // 3 * i), ("pain", "anxiety", "nausea")[i % 3],
                            "Morfin", "2,5 mg", "s.c.", None,
                        )
                        for i in range(count)
                    ]
                    for key in keys:
                        if key == charts.DOSES_KEY:
                            chart = charts.dose_chart(doses, lines=milestones, axis=axis)
                        else:
                            definition = charts._charted()[key]
                            chart = charts.build_chart(
                                key, ratings_of(definition, start, count, hours),
                                lines=milestones, axis=axis, today=today,
                            )
                        assert chart is not None
                        assert chart.weekly == (axis is long_stay and key != charts.DOSES_KEY)
                        monkeypatch.setattr("pygal.graph.base.uuid4", lambda: UUID(int=7919))
                        drawn.append(charts.render_svg(chart))
        return drawn

    kept = draw_all()
    drawn_by_pygal(monkeypatch)
    theirs = draw_all()
    assert len(kept) == 2 * 2 * len(keys)
    for ours, before in zip(kept, theirs, strict=True):
        assert ours == before


def test_the_svg_text_is_the_one_elementtree_writes():
    """The chart's SVG is serialised as text and encoded once: the same bytes as ElementTree's
    own UTF-8 output with its declaration (Swedish letters, dashes and escaped characters)."""
    from xml.etree import ElementTree

    source = (
        '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
        '<title>Smärta – åäö &amp; "citat" &lt;b&gt;</title><a xlink:href="#x" title="≥ 4 · 5 \'m\'">'
        "<text>Brytpunktssamtal\u00a0\U0001f600</text></a></svg>"
    )
    # The text above, not outside input: the standard parser is enough.
    ours = charts._without_scripts_and_tooltips(ElementTree.fromstring(source))  # noqa: S314
    theirs = ElementTree.tostring(
        ElementTree.fromstring(source),  # noqa: S314
        encoding="utf-8",
        xml_declaration=True,
    )
    assert ours == theirs


def test_the_svg_text_writer_writes_what_elementtree_writes():
    """`_svg_text` (one walk of pygal's tree) against ElementTree's writer after the tooltips
    are taken out and the decimals cut: comments, tails, empty elements, escaped characters in
    text and attributes (line breaks and tabs too), long and short decimals."""
    from xml.etree import ElementTree

    source = (
        '<svg id="chart-1" viewBox="0 0 960 576">'
        "<!--Generated with pygal 3.1.3 (etree) ©Kozea--><defs><style type=\"text/css\">"
        "#c .graph &gt; .background{fill:#fff}</style></defs>"
        '<g transform="translate(87.123456, 110)" class="plot"><rect x="0" y="0" width="12.5" />'
        '<g class="dots"><circle cx="16.850000000000001" cy="184.8" r="5" class="dot" />'
        '<desc class="x">16.85</desc>tail after desc<desc class="y">1</desc></g>'
        '<path d="M16.850000 184.800000 L35.150000 1.2345.678 1e-05 1.5e-05" />'
        '<text x="3.14159" title="a &amp; b &lt; &quot;c&quot; &#10;&#13;&#09;">Smärta – åäö &amp; &lt;b&gt;'
        "<title>Brytpunktssamtal\u00a0\U0001f600</title></text>tail &gt; text"
        "<script>var x = 1 &lt; 2;</script><g /><g></g><g>0</g></g></svg>"
    )

    def tree() -> ElementTree.Element:
        # The text above, not outside input: the standard parser is enough.
        root = ElementTree.fromstring(source)  # noqa: S314
        root.set("xmlns", "http://www.w3.org/2000/svg")  # pygal's way: an attribute
        root.insert(0, ElementTree.Comment("http://pygal.org"))  # the parser drops comments
        return root

    ours = charts._svg_text(tree())
    theirs = charts._svg_text_by_elementtree(tree())
    assert ours == theirs
    assert "<!--http://pygal.org-->" in ours
    for left_out in ("<desc", "<script", "tail after desc"):
        assert left_out not in ours
    for cut in ('cx="16.85"', 'x="3.14"'):
        assert cut in ours
    with pytest.raises(charts._UnusualTree):  # a namespaced name: ElementTree's own writer
        charts._svg_text(ElementTree.fromstring('<svg xmlns:a="urn:a"><g a:b="1" /></svg>'))  # noqa: S314
