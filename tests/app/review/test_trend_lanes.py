"""Trends: IPOS versions apart, the dose lane and its table, the shared axis, and chart
validators (ETag from the patient's data version: 304 when unchanged, 200 after a change).

Expected values are worked out by hand from INSTRUMENTS.md.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from pallapp.careplan import doses as dose_service
from pallapp.careplan import orders as order_service
from pallapp.extensions import db
from pallapp.models import AuditEvent, Patient, Role, User, utcnow
from pallapp.review import charts
from pallapp.timeutil import STOCKHOLM
from tests.app.review.test_overview import IPOS_ITEMS, MORPHINE
from tests.app.review.test_trends import heat_cells, heat_columns, section
from tests.app.review.test_views import ESAS_CALM, submit
from tests.factories import make_patient, make_unit, make_user


@pytest.fixture
def both_versions(app):
    """IPOS staff 2 days ago (all 1, pain 3) and IPOS patient 1 day ago (all 2, pain 4); one
    morphine dose 3 hours ago."""
    with app.app_context():
        unit = make_unit("Team A")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        physician = make_user(Role.PHYSICIAN, units=[unit], language="en")
        patient = make_patient([unit], given_name="Vera", family_name="Versions")
        # staff: total 16 * 1 + 3 = 19; patient: 16 * 2 + 4 = 36.
        submit(nurse, patient, "ipos_staff", dict.fromkeys(IPOS_ITEMS, 1) | {"pain": 3}, days_ago=2)
        submit(nurse, patient, "ipos_patient", dict.fromkeys(IPOS_ITEMS, 2) | {"pain": 4}, days_ago=1)
        order = order_service.create_order(
            physician, patient.public_id, MORPHINE, start_at=utcnow() - timedelta(days=3)
        )
        given_at = (utcnow() - timedelta(hours=3)).replace(microsecond=0)
        dose_service.record_dose(
            nurse, patient.public_id, order.public_id, given_at=given_at, dose="2,5",
            dose_unit="mg", route="sc", client_token="lanes-dose-1",
        )
        db.session.commit()
        return {
            "patient": patient.public_id, "nurse": nurse.email, "physician": physician.email,
            "given_at": given_at, "order": order.public_id,
        }


def test_ipos_patient_and_staff_ratings_are_apart(both_versions, client, auth):
    auth.login(both_versions["physician"])
    page = client.get(f"/patients/{both_versions['patient']}/trends?range=3m").get_data(as_text=True)
    # Two charts, one per version, each row naming its version.
    staff, patient = section(page, "ipos_staff"), section(page, "ipos_patient")
    assert re.findall(r'<td class="version">(.*?)</td>', staff) == ["Staff version"]
    assert re.findall(r'<td class="version">(.*?)</td>', patient) == ["Patient version"]
    # Totals: staff 16 * 1 + 3 = 19; patient 16 * 2 + 4 = 36. Never in one series.
    assert re.findall(r"<td>(\d+)</td>", staff)[0] == "19"
    assert re.findall(r"<td>(\d+)</td>", patient)[0] == "36"
    # The heat map: one column per rating, oldest first, each naming its version.
    columns = heat_columns(page, "ipos_heatmap")
    assert [column.split()[-2:] for column in columns] == [
        ["Staff", "version"], ["Patient", "version"],
    ]
    assert heat_cells(page, "ipos_heatmap")["pain"] == ["3 severe", "4 severe"]
    assert heat_cells(page, "ipos_heatmap")["weakness"] == ["1 mild", "2 moderate"]


def test_a_dose_has_its_time_amount_route_and_lane(app, both_versions, client, auth):
    auth.login(both_versions["physician"])
    page = client.get(f"/patients/{both_versions['patient']}/trends?range=2w").get_data(as_text=True)
    lane = re.search(r'<section class="trend dose-lane"[^>]*>(.*?)</section>', page, re.S).group(1)
    assert f'/patients/{both_versions["patient"]}/trends/doses.svg?range=2w' in lane
    rows = re.findall(r"<tr id=\"dose-1\"><th scope=\"row\">(.*?)</th>(.*?)</tr>", lane, re.S)
    assert len(rows) == 1
    when, cells = rows[0]
    local = both_versions["given_at"].astimezone(STOCKHOLM)
    assert local.strftime("%-I:%M") in when  # the time in English short format
    assert re.findall(r"<td[^>]*>(.*?)</td>", cells) == [
        "Pain", "Morfin", "2.5 mg", "subcutaneous (s.c.)", "not evaluated",
    ]
    # No dose markers on the score charts any more: the lane is its own image.
    svg = client.get(f"/patients/{both_versions['patient']}/trends/ipos_staff.svg?range=2w")
    assert b"As-needed" not in svg.data
    doses = client.get(f"/patients/{both_versions['patient']}/trends/doses.svg?range=2w")
    assert doses.status_code == 200
    assert b"As-needed doses per day" in doses.data


def test_each_point_of_the_dose_lane_opens_on_its_doses(app, both_versions, client, auth):
    auth.login(both_versions["physician"])
    page = client.get(f"/patients/{both_versions['patient']}/trends?range=2w").get_data(as_text=True)
    points = re.findall(r'<details class="dose-day">(.*?)</details>', page, re.S)
    assert len(points) == 1  # one dose: one day, one indication
    summary = re.search(r"<summary>(.*?)</summary>", points[0], re.S).group(1)
    local = both_versions["given_at"].astimezone(STOCKHOLM)
    assert " ".join(re.sub(r"<[^>]+>", " ", summary).split()) == (
        f"{local.strftime('%b')} {local.day}, {local.year} Pain: 1 dose"
    )
    # The dose: its time (English short: 2:05 PM), drug, amount, route and effect, linked to its
    # row of the dose table.
    text = " ".join(re.sub(r"<[^>]+>", " ", points[0].split("</summary>")[1]).split())
    assert text.startswith(f"{local.strftime('%-I:%M')}")
    assert "Morfin 2.5 mg , subcutaneous (s.c.); effect: not evaluated" in text
    assert 'href="#dose-1"' in points[0]
    assert '<tr id="dose-1">' in page


def _mark(hour_utc: datetime, indication: str) -> charts.DoseMark:
    return charts.DoseMark(hour_utc, indication, "Morfin", "2,5 mg", "s.c.", None)


def test_dose_lane_points_are_by_stockholm_day_then_indication():
    # Table rows 1-4, oldest first. 23:30 UTC on 28 November is 00:30 on the 29th in
    # Stockholm (UTC+1 in winter): the clinic's next day, as the lane counts it.
    doses = [
        _mark(datetime(2026, 11, 28, 9, 0, tzinfo=UTC), "anxiety"),
        _mark(datetime(2026, 11, 28, 10, 0, tzinfo=UTC), "pain"),
        _mark(datetime(2026, 11, 28, 23, 30, tzinfo=UTC), "pain"),
        _mark(datetime(2026, 11, 29, 8, 0, tzinfo=UTC), "pain"),
    ]
    points = charts.dose_days(doses)
    # Pain comes before anxiety within a day (the order of the indications), days left to right.
    assert [(p.day, p.indication, [row for row, _dose in p.doses]) for p in points] == [
        (date(2026, 11, 28), "pain", [2]),
        (date(2026, 11, 28), "anxiety", [1]),
        (date(2026, 11, 29), "pain", [3, 4]),
    ]
    # The lane draws the same points: pain 1 on the 28th and 2 on the 29th, anxiety 1.
    per_day = charts.doses_per_day(doses)
    assert [count for _day, count in per_day["pain"]] == [1, 2]
    assert [count for _day, count in per_day["anxiety"]] == [1]


def test_charts_share_one_axis_with_whole_number_ticks(app, both_versions):
    with app.test_request_context():
        patient = db.session.scalar(select(Patient).where(Patient.public_id == both_versions["patient"]))
        from pallapp.review import timeline, trends

        axis = timeline.trend_axis(patient, "2w")
        assessments = trends.assessments_in_range(patient, "2w")
        built = charts.build_charts(assessments, axis=axis)
        svgs = [charts.render_svg(chart).decode() for chart in built]
    assert [chart.key for chart in built] == ["ipos_patient", "ipos_staff"]
    # 14 whole days before today, to midnight after today: 15 days.
    assert (axis.end - axis.start) in (timedelta(days=15), timedelta(days=15, hours=1), timedelta(days=15, hours=-1))
    assert all(chart.axis == axis for chart in built)
    # IPOS total 0-68 with a tick every 4: 0, 4, ..., 68; no decimals on the axis.
    for svg in svgs:
        labels = re.findall(r'<text[^>]*class="[^"]*"[^>]*>(-?\d+(?:\.\d+)?)</text>', svg)
        assert labels, svg[:200]
        assert not any("." in label for label in labels)


def test_a_repeated_chart_is_304_and_a_new_rating_changes_it(app, both_versions, client, auth):
    auth.login(both_versions["nurse"])
    url = f"/patients/{both_versions['patient']}/trends/ipos_staff.svg?range=3m"
    first = client.get(url)
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert "no-cache" in first.headers["Cache-Control"]
    assert "private" in first.headers["Cache-Control"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.data == b""
    assert again.headers["ETag"] == etag
    # The tag is weak (it names the chart in any encoding), and its strong form (as this app
    # sent it before 2026-11-30) is a match too: comparison is weak, as RFC 9110 asks.
    assert etag.startswith('W/"')
    assert client.get(url, headers={"If-None-Match": etag.removeprefix("W/")}).status_code == 304
    # A new rating: the very next request is a 200 with the new total in the drawing.
    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == both_versions["nurse"]))
        patient = db.session.scalar(select(Patient).where(Patient.public_id == both_versions["patient"]))
        # total 17 * 0 + 2 = 2
        submit(nurse, patient, "ipos_staff", dict.fromkeys(IPOS_ITEMS, 0) | {"pain": 2}, days_ago=0.1)
        db.session.commit()
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.data != first.data
    # A dose changes the version of every chart of the patient (the lane is drawn from it).
    newer = changed.headers["ETag"]
    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == both_versions["nurse"]))
        dose_service.record_dose(
            nurse, both_versions["patient"], both_versions["order"],
            given_at=utcnow() - timedelta(hours=1), dose="2,5", dose_unit="mg", route="sc",
            client_token="lanes-dose-2",
        )
        db.session.commit()
    assert client.get(url, headers={"If-None-Match": newer}).status_code == 200
    # Logout clears the browser's copies (the one thing it was allowed to keep).
    assert client.post("/logout").headers["Clear-Site-Data"] == '"cache"'


def test_a_304_is_still_only_for_those_who_may_see_the_patient(app, both_versions, client, auth):
    auth.login(both_versions["nurse"])
    url = f"/patients/{both_versions['patient']}/trends/ipos_staff.svg?range=3m"
    etag = client.get(url).headers["ETag"]
    client.post("/logout")
    with app.app_context():
        outsider = make_user(Role.NURSE, units=[make_unit("Team B")], language="en")
        db.session.commit()
        email = outsider.email
    auth.login(email)
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 404
    with app.app_context():
        kinds = set(db.session.scalars(select(AuditEvent.object_type)))
    assert "trend_chart" in kinds


def test_esas_heat_map_for_a_patient_with_three_ratings(app, client, auth):
    """Three ESAS-r ratings: every cell is the stored answer, in time order."""
    with app.app_context():
        unit = make_unit("Team C")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        patient = make_patient([unit], family_name="Heat")
        answers = [
            dict(ESAS_CALM, pain=0, nausea=3),
            dict(ESAS_CALM, pain=4, nausea=6),
            dict(ESAS_CALM, pain=7, nausea=10),
        ]
        for days_ago, given in zip((3, 2, 1), answers, strict=True):
            submit(nurse, patient, "esas_r", given, days_ago=days_ago)
        db.session.commit()
        public_id, email = patient.public_id, nurse.email
    auth.login(email)
    page = client.get(f"/patients/{public_id}/trends?range=2w").get_data(as_text=True)
    cells = heat_cells(page, "esas_heatmap")
    # Bands: 0 none; 1-3 mild; 4-6 moderate; 7-10 severe.
    assert cells["pain"] == ["0 none", "4 moderate", "7 severe"]
    assert cells["nausea"] == ["3 mild", "6 moderate", "10 severe"]
    assert re.search(r'<td class="heat-cell band-severe"><span class="heat-value">10</span>', page)
