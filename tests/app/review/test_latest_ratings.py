"""The latest current rating of each instrument per patient (`common.latest_ratings`), on a data
set built by hand: corrections (a superseded version never counts, even when it is the newest),
ties of the moment (the newer id wins), a rating entered later for an earlier moment, patients
without ratings and patients not asked for. The many-patient statement of PostgreSQL (a LATERAL
lookup per patient and instrument) must give exactly the rows of the form it replaced (the ids
of `_newest_ids`, then the rows by id), which SQLite still uses; the one-patient form too."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

from sqlalchemy import select

from pallapp.extensions import db
from pallapp.models import Assessment, Role
from pallapp.review.common import (
    _latest_columns,
    _latest_columns_query,
    _newest_ids,
    database_name,
    latest_assessments,
    latest_ratings,
    plain_rows,
)
from tests.factories import make_patient, make_unit, make_user

INSTRUMENTS = ("esas_r", "ipos_patient", "ipos_staff", "abbey", "roag")
T0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)


def _rate(patient, nurse, instrument, hours, total, supersedes=None):  # type: ignore[no-untyped-def]
    rating = Assessment(
        patient_id=patient.id, instrument=instrument, instrument_version="test",
        respondent="staff", entered_by_id=nurse.id, observed_at=T0 + timedelta(hours=hours),
        answers={"q": total}, scores={"total": total}, total=total, scoring_version="test",
        client_token=uuid4().hex, supersedes_id=None if supersedes is None else supersedes.id,
    )
    db.session.add(rating)
    db.session.flush()
    return rating


def _old_form(patient_ids: list[int], answers: bool) -> list[tuple]:  # type: ignore[type-arg]
    """The rows as the statement before the LATERAL form read them: the ids of `_newest_ids`,
    then the rows by id (what SQLite still runs)."""
    dialect = database_name()
    query = select(*_latest_columns(Assessment, dialect, answers)).where(
        Assessment.id.in_(_newest_ids(dialect, INSTRUMENTS))
    )
    return sorted(tuple(row) for row in plain_rows(query, {"patient_ids": patient_ids}))


def _new_form(patient_ids: list[int], answers: bool) -> list[tuple]:  # type: ignore[type-arg]
    """The rows of the statement `latest_ratings` runs for these patients."""
    one = len(patient_ids) == 1
    query = _latest_columns_query(database_name(), INSTRUMENTS, answers, one)
    values = {"patient_id": patient_ids[0]} if one else {"patient_ids": patient_ids}
    return sorted(tuple(row) for row in plain_rows(query, values))


def test_the_latest_current_version_per_patient_and_instrument(app) -> None:  # type: ignore[no-untyped-def]
    with app.app_context():
        unit = make_unit("Latest unit")
        nurse = make_user(Role.NURSE, units=[unit])
        alm, berg, dahl, ek = (make_patient([unit], family_name=name) for name in ("Alm", "Berg", "Dahl", "Ek"))
        # Alm, ESAS-r: the newest (hour 10) corrected twice; the last correction counts.
        _rate(alm, nurse, "esas_r", 1, 1)
        first = _rate(alm, nurse, "esas_r", 10, 2)
        second = _rate(alm, nurse, "esas_r", 10, 3, supersedes=first)
        expected = {(alm.id, "esas_r"): _rate(alm, nurse, "esas_r", 10, 4, supersedes=second)}
        # Alm, IPOS: two at the same moment, the newer id wins; one entered later for an earlier
        # moment does not.
        _rate(alm, nurse, "ipos_patient", 5, 5)
        expected[(alm.id, "ipos_patient")] = _rate(alm, nurse, "ipos_patient", 5, 6)
        _rate(alm, nurse, "ipos_patient", 4, 7)
        # Alm, Abbey: the newest corrected to an earlier moment than the one before it: the one
        # before is now the latest current version.
        expected[(alm.id, "abbey")] = _rate(alm, nurse, "abbey", 20, 8)
        newest = _rate(alm, nurse, "abbey", 30, 9)
        _rate(alm, nurse, "abbey", 15, 10, supersedes=newest)
        # Berg: a tie where the newer id is superseded by a correction at the same moment.
        _rate(berg, nurse, "roag", 2, 11)
        tied = _rate(berg, nurse, "roag", 2, 12)
        expected[(berg.id, "roag")] = _rate(berg, nurse, "roag", 2, 13, supersedes=tied)
        # Berg, staff IPOS: its only rating superseded by one at a later moment.
        only = _rate(berg, nurse, "ipos_staff", 3, 14)
        expected[(berg.id, "ipos_staff")] = _rate(berg, nurse, "ipos_staff", 6, 15, supersedes=only)
        # Dahl: no ratings. Ek: ratings, but not asked for.
        _rate(ek, nurse, "esas_r", 50, 16)
        db.session.flush()

        asked = [alm.id, berg.id, dahl.id]
        found = latest_ratings(asked, INSTRUMENTS)
        assert {
            (patient_id, code): rating.id
            for patient_id, ratings in found.items()
            for code, rating in ratings.items()
        } == {key: rating.id for key, rating in expected.items()}
        assert found[alm.id]["esas_r"].total == 4
        # A patient asked for twice: the same answer (the ids are made distinct first).
        assert latest_ratings([*asked, alm.id], INSTRUMENTS) == found
        for answers in (False, True):
            assert _new_form(asked, answers) == _old_form(asked, answers)
            # The one-patient form.
            for patient in (alm, berg, dahl):
                assert _new_form([patient.id], answers) == _old_form([patient.id], answers)


def test_latest_assessments_one_patient_and_many_agree(app) -> None:  # type: ignore[no-untyped-def]
    """`latest_assessments` (whole records: the summary) for one patient through the form by
    the id, and for several through the list's form: the same latest current versions."""
    with app.app_context():
        unit = make_unit("Summary unit")
        nurse = make_user(Role.NURSE, units=[unit])
        alm, berg = (make_patient([unit], family_name=name) for name in ("Alm", "Berg"))
        first = _rate(alm, nurse, "esas_r", 10, 1)
        _rate(alm, nurse, "esas_r", 10, 2)
        corrected = _rate(alm, nurse, "esas_r", 10, 3, supersedes=first)
        _rate(alm, nurse, "roag", 1, 4)
        roag = _rate(alm, nurse, "roag", 2, 5)
        _rate(berg, nurse, "abbey", 3, 6)
        db.session.flush()
        alone = latest_assessments([alm.id], INSTRUMENTS)
        together = latest_assessments([alm.id, berg.id], INSTRUMENTS)
        assert {code: a.id for code, a in alone[alm.id].items()} == {
            "esas_r": corrected.id, "roag": roag.id,
        }
        assert {code: a.id for code, a in together[alm.id].items()} == {
            code: a.id for code, a in alone[alm.id].items()
        }
        assert set(together[berg.id]) == {"abbey"}
        assert latest_assessments([alm.id, alm.id], INSTRUMENTS)[alm.id] == alone[alm.id]
