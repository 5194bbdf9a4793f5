"""The patient page reads orders, doses, milestones, the care plan, open flags, markings and
relatives as plain columns (`shown_*`, `open_flags_shown`, `markings_for`,
`active_relative_links`, the last two together `relatives_and_markings`): each must say what the ORM reads of the same records say, for every
kind of row the page shows (legacy orders without limits or with a dose as text, corrected and
evaluated doses, a death, flags with and without a rating)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from pallapp import carerecord, flags
from pallapp.assessments.services import submit_assessment
from pallapp.careplan import doses as dose_service
from pallapp.careplan import milestones as milestone_service
from pallapp.careplan import orders as order_service
from pallapp.careplan import plan as plan_service
from pallapp.careplan.orders import OrderDetails
from pallapp.extensions import db
from pallapp.flags import expected
from pallapp.flags.due import latest_ratings_query, open_flags_shown
from pallapp.flags.orders import shown_open_orders
from pallapp.models import (
    Assessment,
    ExpectedLevel,
    Flag,
    PrnAdministration,
    PrnOrder,
    RelativeLink,
    Role,
    utcnow,
)
from pallapp.patients.services import active_relative_links, relatives_and_markings
from pallapp.timeutil import today_local
from tests.factories import link_relative, make_patient, make_unit, make_user

MORPHINE = OrderDetails(
    indication="pain", drug="Morfin", strength="10 mg/ml", dose="2,5", dose_unit="mg", route="sc",
    min_interval_minutes=60, max_doses_per_24h=6,
)
CALM = dict.fromkeys(
    ("pain", "tiredness", "drowsiness", "nausea", "lack_of_appetite", "shortness_of_breath",
     "depression", "anxiety", "wellbeing"),
    1,
)
ORDER_FIELDS = (
    "id", "public_id", "series_id", "indication", "indication_text", "drug", "strength", "dose",
    "dose_min", "dose_max", "dose_unit", "route", "min_interval_minutes", "max_doses_per_24h",
    "instructions", "start_at", "stop_at", "route_enum", "has_limits",
)
DOSE_FIELDS = ("public_id", "given_at", "dose", "amount", "dose_unit", "effect")
MILESTONE_FIELDS = (
    "kind", "occurred_on", "participants", "note", "place", "death_expected",
    "free_of_pressure_ulcers", "kind_enum", "place_label", "death_expected_label",
    "pressure_ulcers_label",
)
PLAN_FIELDS = (
    "patient_id", "contacts", "responsible_nurse", "responsible_physician",
    "treatment_limitations", "deterioration_signs", "for_patient_and_relatives",
)


@pytest.fixture
def world(app):
    with app.test_request_context():
        unit = make_unit("Team Leksand")
        patient = make_patient([unit])
        nurse = make_user(Role.NURSE, units=[unit])
        physician = make_user(Role.PHYSICIAN, units=[unit])
        now = utcnow()
        pid = patient.public_id
        relatives = [make_user(Role.RELATIVE) for _ in range(3)]
        relatives[0].name, relatives[1].name = "Sven", "Anna"
        link_relative(relatives[0], patient, proxy=True)
        link_relative(relatives[1], patient, history=True)
        link_relative(relatives[2], patient, revoked=True)
        plan_service.save_care_plan(
            nurse, pid, {"contacts": "Ring 010-111\ndygnet runt", "responsible_nurse": "Eva"},
            based_on=None,
        )
        plan_service.save_care_plan(nurse, pid, {"contacts": "Ring 010-222"}, based_on=1)
        pain = order_service.create_order(physician, pid, MORPHINE, start_at=now - timedelta(days=3))
        ranged = order_service.create_order(
            physician, pid,
            OrderDetails(**{**MORPHINE.__dict__, "indication": "nausea", "drug": "Haloperidol",
                            "dose": "0,5-1", "route": "po", "instructions": "Vid illamående"}),
            start_at=now - timedelta(days=2),
        )
        order_service.create_order(
            physician, pid, OrderDetails(**{**MORPHINE.__dict__, "indication": "anxiety"}),
            start_at=now + timedelta(days=1),  # starts later: open, not in force
        )
        # Written before limits and numeric doses were required.
        db.session.add(PrnOrder(
            patient_id=patient.id, indication="other", indication_text="Klåda", drug="Atarax",
            dose="en halv", dose_unit="tablett", route="po", prescriber_id=physician.id,
            start_at=now - timedelta(days=5),
        ))
        db.session.flush()
        given = []
        # Minutes ago: the second dose only 20 minutes after the first, over the limit (a dose
        # flag), given on purpose.
        for minutes, the_order in ((60, pain), (180, pain), (300, ranged), (1800, pain), (80, pain)):
            given.append(dose_service.record_dose(
                nurse, pid, the_order.public_id, given_at=now - timedelta(minutes=minutes),
                dose="2,5" if the_order is pain else "0,5", dose_unit="mg",
                route=the_order.route, client_token=f"shown-{minutes}".ljust(32, "0"),
                over_limit_confirmed=True, over_limit_reason="Svår smärta",
            ).administration)
        dose_service.evaluate_dose(nurse, pid, given[1].public_id, effect="better")
        dose_service.correct_dose(
            nurse, pid, given[2].public_id,
            dose_service.DoseEntry(now - timedelta(hours=6), "1", "mg", "po"),
            reason="Fel mängd", client_token="shown-correction".ljust(32, "0"),
            dose_mismatch_confirmed=True, dose_mismatch_reason="Ordinerat 0,5-1",
        )
        submit_assessment(
            nurse, pid, instrument="esas_r", answers=dict(CALM, pain=9, nausea=8),
            client_token="shown-esas".ljust(32, "0"), observed_at=now - timedelta(hours=2),
        )
        flags.evaluate_reminders(patient, now=now)
        milestone_service.record_milestone(
            nurse, pid, kind="svas_held", occurred_on=today_local() - timedelta(days=3),
            participants="Patient, dotter", note="Vill vara hemma",
        )
        milestone_service.record_milestone(
            nurse, pid, kind="sip", occurred_on=today_local() - timedelta(days=3)
        )
        expected.mark_expected(
            nurse, pid, instrument="esas_r", item="pain", level=6, days=7,
            reason="Känd smärta", now=now,
        )
        # A death, on a patient of its own: it stops the orders and closes the reminders.
        dying = make_patient([unit])
        milestone_service.record_milestone(
            nurse, dying.public_id, kind="death", occurred_on=today_local(), place="home",
            death_expected=True, free_of_pressure_ulcers=False,
        )
        db.session.commit()
        yield {"patient": patient, "dying": dying, "now": now}


def _fields(record, names):
    return tuple(
        getattr(record, name) if not callable(getattr(record, name)) else None for name in names
    )


def test_open_orders_read_as_columns_say_what_the_models_say(world):
    patient, now = world["patient"], world["now"]
    models = sorted(flags.open_orders(patient, now), key=lambda order: order.id)
    shown = shown_open_orders(patient, now)
    assert len(shown) == 4
    assert [_fields(order, ORDER_FIELDS) for order in shown] == [
        _fields(order, ORDER_FIELDS) for order in models
    ]
    assert [order.prescriber.name for order in shown] == [order.prescriber.name for order in models]
    for at in (now, now + timedelta(days=2), now - timedelta(days=4)):
        assert [order.is_active(at) for order in shown] == [order.is_active(at) for order in models]
    assert [o.id for o in flags.in_force(shown, now)] == [o.id for o in flags.in_force(models, now)]
    assert [flags.order_rule(order) for order in shown] == [
        flags.order_rule(order) for order in models
    ]
    assert {order.dose_min for order in shown} >= {None, Decimal("0.5")}


def test_doses_read_as_columns_say_what_the_models_say(world):
    patient, now = world["patient"], world["now"]
    for shown, models in (
        (carerecord.shown_doses_since(patient, now - timedelta(hours=24)),
         carerecord.doses_since(patient, now - timedelta(hours=24))),
        (carerecord.shown_doses_to_evaluate(patient), carerecord.doses_to_evaluate(patient)),
        (carerecord.shown_doses_to_evaluate(patient, limit=1),
         carerecord.doses_to_evaluate(patient, limit=1)),
    ):
        assert shown
        assert [_fields(dose, DOSE_FIELDS) for dose in shown] == [
            _fields(dose, DOSE_FIELDS) for dose in models
        ]
        assert [(d.order.series_id, d.order.drug) for d in shown] == [
            (d.order.series_id, d.order.drug) for d in models
        ]
    # Both lists in one statement, as each alone.
    since = now - timedelta(hours=24)
    for limit in (20, 1):
        assert carerecord.shown_doses(patient, since, limit) == (
            carerecord.shown_doses_since(patient, since),
            carerecord.shown_doses_to_evaluate(patient, limit),
        )
    assert carerecord.shown_doses(patient, now, 0) == ([], [])
    # The corrected dose is shown in its current version only; the evaluated one is not to
    # evaluate.
    assert db.session.scalar(
        select(PrnAdministration.id).where(PrnAdministration.supersedes_id.is_not(None))
    )
    assert "better" in {d.effect for d in carerecord.shown_doses_since(patient, now - timedelta(days=2))}


def test_milestones_and_the_care_plan_read_as_columns_say_what_the_models_say(world):
    for patient in (world["patient"], world["dying"]):
        models = carerecord.milestones_of(patient)
        shown = carerecord.shown_milestones(patient)
        assert shown
        assert [_fields(m, MILESTONE_FIELDS) for m in shown] == [
            _fields(m, MILESTONE_FIELDS) for m in models
        ]
        assert [m.recorded_by.name for m in shown] == [m.recorded_by.name for m in models]
        assert flags.end_of_life_since(patient, shown) == flags.end_of_life_since(patient, models)
    assert carerecord.shown_milestones(world["dying"])[0].death_expected_label in (
        "Expected death", "Väntat dödsfall"
    )
    plan = carerecord.shown_care_plan(world["patient"])
    assert plan is not None
    assert _fields(plan, PLAN_FIELDS) == _fields(
        carerecord.current_care_plan(world["patient"]), PLAN_FIELDS
    )
    assert carerecord.shown_care_plan(world["dying"]) is None


def test_open_flags_markings_and_relatives_read_as_columns_say_what_the_models_say(world):
    patient, now = world["patient"], world["now"]
    models = sorted(
        db.session.scalars(select(Flag).where(Flag.patient_id == patient.id, Flag.closed_at.is_(None))),
        key=lambda flag: flag.id,
    )
    shown = sorted(open_flags_shown(patient), key=lambda flag: flag.id)
    assert {flag.source for flag in shown} == {"assessment", "dose", "reminder"}
    assert [
        (f.id, f.source, f.code, f.severity, f.items, f.created_at, f.instrument, f.observed_at)
        for f in shown
    ] == [
        (f.id, f.source, f.code, f.severity, f.items, f.created_at,
         f.assessment.instrument if f.assessment else None,
         f.assessment.observed_at if f.assessment else None)
        for f in models
    ]
    markings = expected.markings_for(patient, now)
    stored = db.session.scalars(select(ExpectedLevel).where(ExpectedLevel.patient_id == patient.id)).all()
    names = ("id", "public_id", "instrument", "item", "level", "reason", "created_at", "expires_at", "ended_at")
    assert [_fields(m, names) + (m.set_by.name, m.is_active_at(now)) for m in markings] == [
        _fields(m, names) + (m.set_by.name, m.is_active_at(now)) for m in stored
    ]
    links = db.session.scalars(
        select(RelativeLink)
        .where(RelativeLink.patient_id == patient.id, RelativeLink.revoked_at.is_(None))
        .order_by(RelativeLink.created_at)
    ).all()
    assert [
        (link.relative.name, link.relation, link.may_answer_as_proxy, link.may_view_history)
        for link in active_relative_links(patient)
    ] == [
        (link.relative.name, link.relation, link.may_answer_as_proxy, link.may_view_history)
        for link in links
    ] == [("Sven", "son", True, False), ("Anna", "son", False, True)]
    # The patient page reads both in one query: the same rows in the same order.
    assert relatives_and_markings(patient, now) == (active_relative_links(patient), markings)
    assert markings
    assert relatives_and_markings(patient, now + timedelta(days=400)) == (
        active_relative_links(patient), expected.markings_for(patient, now + timedelta(days=400))
    )
    assert db.session.scalar(select(Assessment.id).where(Assessment.patient_id == patient.id))


def test_a_reminder_read_as_columns_is_closed_on_its_record(world):
    patient, now = world["patient"], world["now"]
    reminders = [flag for flag in open_flags_shown(patient) if flag.source == "reminder"]
    assert reminders
    # Long after the last rating and the orders stopped: the open reminders are no longer
    # what is due (or are due for other items), so they are closed on the stored rows.
    for order in flags.open_orders(patient, now):
        order.stop_at = now + timedelta(seconds=1)
    db.session.flush()
    changes = flags.evaluate_reminders(
        patient, now=now + timedelta(days=1), orders=[], open_now=open_flags_shown(patient)
    )
    assert changes.closed >= 1
    still_open = {flag.id for flag in open_flags_shown(patient)}
    for flag in reminders:
        stored = db.session.get(Flag, flag.id)
        assert (stored.closed_at is None) == (flag.id in still_open)


def _latest_alone(patient, now):
    return list(db.session.connection().execute(
        latest_ratings_query(), {"patient_id": patient.id, "now": now}
    ))


@pytest.mark.parametrize(
    "parts",
    [
        carerecord.CARE_RECORD_PARTS,  # a nurse or physician of the patient's unit
        ("plan",),  # what the record alone lets the user see
        ("orders", "plan", "recent", "to_evaluate"),
        ("orders", "milestones", "flags", "latest", "plan"),
    ],
)
def test_the_care_record_in_one_statement_says_what_each_read_says(world, parts):
    since = world["now"] - timedelta(hours=24)
    for patient in (world["patient"], world["dying"]):
        for now in (world["now"], world["now"] - timedelta(days=4)):
            record = carerecord.care_record(patient, parts, now, since, limit=2)
            recent, to_evaluate = carerecord.shown_doses(patient, since, 2)
            alone = {
                "orders": shown_open_orders(patient, now),
                "milestones": carerecord.shown_milestones(patient),
                "flags": sorted(open_flags_shown(patient), key=lambda flag: flag.id),
                "latest": _latest_alone(patient, now),
                "plan": carerecord.shown_care_plan(patient),
                "recent": recent,
                "to_evaluate": to_evaluate,
            }
            read = {
                "orders": record.orders,
                "milestones": record.milestones,
                "flags": sorted(record.open_flags, key=lambda flag: flag.id),
                "latest": record.latest,
                "plan": record.plan,
                "recent": record.recent,
                "to_evaluate": record.to_evaluate,
            }
            for name in carerecord.CARE_RECORD_PARTS:
                wanted = alone[name] if name in parts else ([] if name != "plan" else None)
                if name == "latest":
                    assert sorted(read[name]) == sorted(tuple(row) for row in wanted), name
                else:
                    assert read[name] == wanted, name
    # The world has rows in every part (the dying patient has no plan, orders or doses).
    record = carerecord.care_record(
        world["patient"], carerecord.CARE_RECORD_PARTS, world["now"], since, limit=2
    )
    assert record.plan is not None
    assert record.plan.contacts == "Ring 010-222"
    assert len(record.orders) == 4
    assert len(record.milestones) == 2
    assert record.open_flags
    assert len(record.recent) >= 3
    assert len(record.to_evaluate) == 2
    assert any(at is not None for _, at in record.latest)
