"""The trends page reads light rows (ratings and doses as columns, not entities): the same
charts, heat maps and dose marks as drawn from the entities; and a chart answered "not modified"
asks the database no more than it must."""

from __future__ import annotations

from datetime import timedelta
from uuid import uuid4

import pytest
from flask_babel import format_decimal
from sqlalchemy import func, select, update
from sqlalchemy.orm import joinedload

from pallapp import carerecord, flags
from pallapp.assessments import services as assessment_services
from pallapp.careplan import doses as dose_service
from pallapp.careplan import orders as order_service
from pallapp.extensions import db
from pallapp.models import Assessment, AuditEvent, Patient, PrnAdministration, Role, utcnow
from pallapp.models.careplan import EFFECT_LABELS, Effect, Route
from pallapp.review import charts, heatmap, timeline, trends
from tests.app.review.test_overview import ABBEY_ITEMS, IPOS_ITEMS, MORPHINE, ROAG_ITEMS
from tests.app.review.test_views import ESAS_CALM, submit
from tests.factories import make_patient, make_unit, make_user
from tests.sql_log import selects, statements_sent


@pytest.fixture
def every_kind(app):
    """Every instrument, a corrected ESAS-r, a rating without some answers, a special answer,
    and doses with and without an amount and an effect."""
    with app.app_context():
        unit = make_unit("Team A")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        physician = make_user(Role.PHYSICIAN, units=[unit], language="en")
        patient = make_patient([unit], given_name="Rut", family_name="Rader")
        for day in range(12):
            submit(nurse, patient, "esas_r", dict(ESAS_CALM, pain=day % 11), days_ago=30 - day)
        partial = dict(ESAS_CALM, pain=4)
        del partial["nausea"]
        submit(nurse, patient, "esas_r", partial, days_ago=5)
        wrong = submit(nurse, patient, "esas_r", dict(ESAS_CALM, pain=9), days_ago=4)
        assessment_services.correct_assessment(
            nurse,
            patient.public_id,
            wrong.public_id,
            answers=dict(ESAS_CALM, pain=3),
            reason="Fel patient",
            client_token=uuid4().hex,
        )
        submit(
            nurse, patient, "ipos_patient", dict.fromkeys(IPOS_ITEMS, 2) | {"pain": 4}, days_ago=3
        )
        staff = dict.fromkeys(IPOS_ITEMS, 1) | {"at_peace": "cannot_assess"}
        submit(nurse, patient, "ipos_staff", staff, days_ago=2)
        submit(nurse, patient, "abbey", dict.fromkeys(ABBEY_ITEMS, 1), days_ago=2)
        submit(nurse, patient, "roag", dict.fromkeys(ROAG_ITEMS, 1) | {"saliva": 3}, days_ago=1)
        order = order_service.create_order(
            physician, patient.public_id, MORPHINE, start_at=utcnow() - timedelta(days=20)
        )
        for hours, dose in ((400, "2,5"), (100, "2,5"), (3, "2,5")):
            dose_service.record_dose(
                nurse,
                patient.public_id,
                order.public_id,
                given_at=(utcnow() - timedelta(hours=hours)).replace(microsecond=0),
                dose=dose,
                dose_unit="mg",
                route="sc",
                client_token=uuid4().hex,
            )
        db.session.commit()
        return {"patient": patient.public_id, "nurse": nurse.email}


def _entities(patient: Patient) -> list[Assessment]:
    """The ratings as the page read them before: current versions, oldest first, entities."""
    return list(
        db.session.scalars(
            select(Assessment)
            .where(Assessment.patient_id == patient.id, flags.current_versions())
            .order_by(Assessment.observed_at, Assessment.id)
        )
    )


def test_light_rows_hold_what_the_entities_hold(app, every_kind):
    with app.test_request_context():
        patient = db.session.scalar(
            select(Patient).where(Patient.public_id == every_kind["patient"])
        )
        rows = trends.assessments_in_range(patient, "all")
        entities = _entities(patient)
        assert [row.id for row in rows] == [entity.id for entity in entities]
        assert len(rows) == 18  # the corrected ESAS-r once, in its corrected version
        for row, entity in zip(rows, entities, strict=True):
            assert (row.public_id, row.instrument, row.observed_at, row.total) == (
                entity.public_id,
                entity.instrument,
                entity.observed_at,
                entity.total,
            )
            assert row.observed_at.utcoffset() == timedelta(0)
            stored = entity.scores.get("subscales", {})
            for code in trends.scoring.INSTRUMENTS[entity.instrument].subscales:
                assert row.scores["subscales"].get(code) == stored.get(code), code
            assert row.scores["max_grade"] == entity.scores.get("max_grade")
        assert rows[-1].scores["max_grade"] == 3  # ROAG
        assert rows[0].answers is None  # not read until a heat map needs them
        trends.load_answers(rows)
        assert [row.answers for row in rows] == [entity.answers for entity in entities]
        # The same charts and heat maps, point for point and cell for cell.
        axis = timeline.trend_axis(patient, "all")
        drawn = charts.build_charts(rows, axis=axis)
        before = charts.build_charts(entities, axis=axis)
        assert [chart.key for chart in drawn] == [
            "esas_total",
            "ipos_patient",
            "ipos_staff",
            "abbey",
            "roag",
        ]
        assert [[s.points for s in c.series] for c in drawn] == [
            [s.points for s in c.series] for c in before
        ]
        assert [charts.render_svg(c).count(b"<circle") for c in drawn] == [
            charts.render_svg(c).count(b"<circle") for c in before
        ]
        assert heatmap.heatmaps(rows) == heatmap.heatmaps(entities)


def test_scores_without_the_usual_shape_read_as_missing(app, every_kind):
    """Scores, or their subscales, that are not an object read as null (on PostgreSQL from the
    columns the database keeps of their parts, `trends.score_parts`), as a path into them did:
    the page is drawn without those values instead of failing."""
    with app.test_request_context():
        patient = db.session.scalar(
            select(Patient).where(Patient.public_id == every_kind["patient"])
        )
        esas = [e for e in _entities(patient) if e.instrument == "esas_r"][:4]
        shapes = [[], {"subscales": [1, 2]}, {"subscales": {"physical": None}}, 7]
        for entity, scores in zip(esas, shapes, strict=True):
            db.session.execute(
                update(Assessment).where(Assessment.id == entity.id).values(scores=scores)
            )
        db.session.expire_all()
        rows = {row.id: row for row in trends.assessments_in_range(patient, "all")}
        for entity in esas:
            row = rows[entity.id]
            assert row.scores["max_grade"] is None
            assert set(row.scores["subscales"].values()) == {None}
        db.session.rollback()


def test_a_heat_map_never_guesses_answers_not_read(app, every_kind):
    with app.test_request_context():
        patient = db.session.scalar(
            select(Patient).where(Patient.public_id == every_kind["patient"])
        )
        rows = trends.assessments_in_range(patient, "all")
        with pytest.raises(LookupError):
            heatmap.heatmaps(rows)


def test_dose_marks_read_as_columns_are_those_of_the_doses(app, every_kind):
    with app.test_request_context(headers={"Accept-Language": "en"}):
        patient = db.session.scalar(
            select(Patient).where(Patient.public_id == every_kind["patient"])
        )
        dose = db.session.scalar(
            select(PrnAdministration)
            .where(PrnAdministration.patient_id == patient.id)
            .order_by(PrnAdministration.given_at)
            .options(joinedload(PrnAdministration.order))
        )
        dose.effect = Effect.BETTER.value  # evaluated (in place: only the page is read here)
        db.session.flush()
        marks = timeline.dose_marks(patient, "all")
        # As the page made them from the entities: oldest first, amounts and words the same.
        entities = sorted(
            carerecord.doses_since(patient, trends.EARLIEST), key=lambda d: (d.given_at, d.id)
        )
        assert [(m.given_at, m.indication, m.drug, m.dose, m.route, m.effect) for m in marks] == [
            (
                d.given_at,
                d.order.indication,
                d.order.drug,
                f"{d.dose} {d.dose_unit}"
                if d.amount is None
                else f"{format_decimal(d.amount, format='#,##0.####')} {d.dose_unit}",
                Route(d.route).label,
                str(EFFECT_LABELS[Effect(d.effect)]) if d.effect else None,
            )
            for d in entities
        ]
        assert [m.dose for m in marks] == ["2.5 mg"] * 3
        assert [m.effect for m in marks] == ["Better", None, None]
        assert len(timeline.dose_marks(patient, "2w")) == 2


@pytest.mark.parametrize("accepted", [{}, {"Accept-Encoding": "gzip, deflate, br"}])
def test_a_chart_answered_not_modified_asks_two_questions(app, every_kind, client, auth, accepted):
    """The user; then, in one statement, the patient (through the access rules), whether the
    page's view is logged and the data version (`chartcache.find_chart_patient`); nothing
    else (no audit event: the page's covers it). Also for a browser that accepts gzip, as
    every browser does: the ETag of its compressed chart must match without drawing it."""
    auth.login(every_kind["nurse"])
    assert client.get(f"/patients/{every_kind['patient']}/trends?range=3m").status_code == 200
    url = f"/patients/{every_kind['patient']}/trends/esas_total.svg?range=3m"
    first = client.get(url, headers=accepted)
    assert first.headers.get("Content-Encoding") == ("gzip" if accepted else None)
    etag = first.headers["ETag"]
    with app.app_context():
        events_before = db.session.scalar(select(func.count(AuditEvent.id)))
    with statements_sent(app) as sent:
        response = client.get(url, headers=accepted | {"If-None-Match": etag})
    assert response.status_code == 304
    assert response.headers["ETag"] == etag
    read = selects(sent)
    assert len(read) == 2, read
    assert "user_account" in read[0]
    assert all(table in read[1] for table in ("patient", "audit_event", "assessment", "milestone"))
    with app.app_context():
        assert db.session.scalar(select(func.count(AuditEvent.id))) == events_before


@pytest.mark.parametrize(
    ("answers", "shown"),
    [
        ([None, 2, True, "cannot_assess", 5, 3], 5),  # the highest number, never a yes/no
        ([None, "cannot_assess", True, "not_applicable"], "not_applicable"),  # the latest words
        ([None, False, None], None),  # never answered
        ([2.5, "cannot_assess"], "cannot_assess"),  # only whole numbers are numbers
        ([0, 0], 0),
    ],
)
def test_a_month_cell_is_the_highest_number_else_the_latest_special_answer(answers, shown):
    assert heatmap._answer_of(answers) == shown
    assert heatmap._answer_of(iter(answers)) == shown
