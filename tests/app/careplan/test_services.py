"""Care plans, milestones, as-needed orders and doses through the services.

Every expected value is worked out by hand in the test, from INSTRUMENTS.md and the order.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from pallapp import carerecord, flags
from pallapp.access import NotVisible
from pallapp.careplan import doses as dose_service
from pallapp.careplan import milestones as milestone_service
from pallapp.careplan import orders as order_service
from pallapp.careplan import plan as plan_service
from pallapp.careplan.common import Refused
from pallapp.careplan.doses import DoseNeedsConfirmation
from pallapp.careplan.orders import OrderDetails
from pallapp.extensions import db
from pallapp.models import (
    CarePlan,
    Flag,
    Phase,
    PrnAdministration,
    PrnOrder,
    Role,
    utcnow,
)
from pallapp.timeutil import STOCKHOLM, today_local
from tests.factories import link_relative, make_patient, make_unit, make_user

MORPHINE = OrderDetails(
    indication="pain", drug="Morfin", strength="10 mg/ml", dose="2,5", dose_unit="mg", route="sc",
    min_interval_minutes=60, max_doses_per_24h=6,
)


@pytest.fixture
def ctx(app):
    with app.app_context():
        unit = make_unit("Team Falun")
        patient = make_patient([unit], given_name="Greta")
        relative = make_user(Role.RELATIVE)
        link_relative(relative, patient)
        world = {
            "unit": unit,
            "patient": patient,
            "pid": patient.public_id,
            "nurse": make_user(Role.NURSE, units=[unit]),
            "physician": make_user(Role.PHYSICIAN, units=[unit]),
            "manager": make_user(Role.MANAGER, units=[unit]),
            "self": make_user(Role.PATIENT, patient=patient),
            "relative": relative,
        }
        db.session.commit()
        yield world


def order(ctx, details=MORPHINE, start_at=None):
    start_at = start_at or utcnow() - timedelta(days=3)
    return order_service.create_order(ctx["physician"], ctx["pid"], details, start_at=start_at)


def dose(ctx, the_order, given_at, token, **kwargs):
    return dose_service.record_dose(
        kwargs.pop("user", ctx["nurse"]), ctx["pid"], the_order.public_id, given_at=given_at,
        dose="2,5", dose_unit="mg", route="sc", client_token=token, **kwargs,
    )


# --- permissions -------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["nurse", "manager", "self", "relative"])
def test_only_a_physician_creates_changes_and_stops_orders(ctx, who):
    with pytest.raises(NotVisible):
        order_service.create_order(ctx[who], ctx["pid"], MORPHINE)
    existing = order(ctx)
    with pytest.raises(NotVisible):
        order_service.change_order(ctx[who], ctx["pid"], existing.public_id, MORPHINE, reason="x")
    with pytest.raises(NotVisible):
        order_service.stop_order(ctx[who], ctx["pid"], existing.public_id, reason="x")
    assert db.session.scalar(select(func.count(PrnOrder.id))) == 1


@pytest.mark.parametrize("who", ["self", "relative"])
def test_patients_and_relatives_do_not_see_orders(ctx, who):
    order(ctx)
    with pytest.raises(NotVisible):
        order_service.list_orders(ctx[who], ctx["pid"])


def test_relatives_record_doses_only_where_the_unit_allows_it(ctx):
    pain = order(ctx)
    with pytest.raises(NotVisible):
        dose(ctx, pain, utcnow(), "r1", user=ctx["relative"])
    ctx["unit"].relatives_may_record_doses = True
    db.session.flush()
    recorded = dose(ctx, pain, utcnow(), "r2", user=ctx["relative"])
    assert recorded.administration.given_by_id == ctx["relative"].id
    # ...and then they may see the orders they give doses under; the patient still may not.
    assert order_service.list_orders(ctx["relative"], ctx["pid"])[1] == [pain]
    with pytest.raises(NotVisible):
        order_service.list_orders(ctx["self"], ctx["pid"])


# --- care plan versions ------------------------------------------------------------------


def test_every_save_is_a_new_version_and_nothing_is_overwritten(ctx):
    first = plan_service.save_care_plan(
        ctx["nurse"], ctx["pid"], {"goals_and_wishes": "Vara hemma", "contacts": "010-1"},
        based_on=None,
    )
    second = plan_service.save_care_plan(
        ctx["physician"], ctx["pid"],
        {"goals_and_wishes": "Vara hemma", "contacts": "010-2", "responsible_nurse": "Sara"},
        based_on=1,
    )
    assert (first.version, second.version) == (1, 2)
    assert first.changed_fields == ["goals_and_wishes", "contacts"]
    assert second.changed_fields == ["contacts", "responsible_nurse"]
    db.session.expire_all()
    assert db.session.get(CarePlan, first.id).contacts == "010-1"
    _, history = plan_service.care_plan_history(ctx["nurse"], ctx["pid"])
    assert [(p.version, p.contacts, p.created_by_id) for p in history] == [
        (2, "010-2", ctx["physician"].id),
        (1, "010-1", ctx["nurse"].id),
    ]


def test_a_save_based_on_an_old_version_or_without_change_is_refused(ctx):
    plan_service.save_care_plan(ctx["nurse"], ctx["pid"], {"contacts": "010-1"}, based_on=None)
    with pytest.raises(Refused, match="stale"):
        plan_service.save_care_plan(ctx["nurse"], ctx["pid"], {"contacts": "010-9"}, based_on=None)
    with pytest.raises(Refused, match="no_change"):
        plan_service.save_care_plan(ctx["nurse"], ctx["pid"], {"contacts": "010-1"}, based_on=1)
    assert db.session.scalar(select(func.count(CarePlan.id))) == 1


@pytest.mark.parametrize("who", ["manager", "self", "relative"])
def test_only_nurses_and_physicians_write_the_care_plan(ctx, who):
    with pytest.raises(NotVisible):
        plan_service.save_care_plan(ctx[who], ctx["pid"], {"contacts": "x"}, based_on=None)


# --- order versions ----------------------------------------------------------------------


def test_a_changed_order_is_a_new_version_and_the_old_one_is_kept(ctx):
    old = order(ctx)
    now = utcnow()
    new = order_service.change_order(
        ctx["physician"], ctx["pid"], old.public_id,
        OrderDetails(**{**MORPHINE.__dict__, "dose": "5"}), reason="Mer smärta", now=now,
    )
    db.session.expire_all()
    old = db.session.get(PrnOrder, old.id)
    minute = now.replace(second=0, microsecond=0)  # times are to the minute, as in the forms
    assert (old.dose, old.stop_at, old.stop_cause) == ("2,5", minute, "changed")
    assert (new.dose, new.start_at, new.supersedes_id, new.series_id) == ("5", minute, old.id, old.series_id)
    assert carerecord.active_orders(ctx["patient"], now) == [new]
    with pytest.raises(Refused, match="order_not_active"):
        order_service.change_order(ctx["physician"], ctx["pid"], old.public_id, MORPHINE, reason="x")


def test_a_stopped_order_cannot_be_used(ctx):
    pain = order(ctx)
    order_service.stop_order(ctx["physician"], ctx["pid"], pain.public_id, reason="Ingen smärta")
    with pytest.raises(Refused, match="order_not_active"):
        dose(ctx, pain, utcnow() + timedelta(minutes=1), "s1")


def test_the_app_never_fills_in_a_drug_or_a_dose(ctx):
    with pytest.raises(Refused, match="drug_and_dose_required"):
        order_service.create_order(
            ctx["physician"], ctx["pid"],
            OrderDetails(indication="pain", drug="", dose="", dose_unit="", route="sc",
                         min_interval_minutes=60, max_doses_per_24h=6),
        )


# --- dose limits: both sides of each boundary ----------------------------------------------


def test_exactly_the_minimum_interval_is_allowed_a_minute_less_is_not(ctx):
    pain = order(ctx)  # minimum interval 60 minutes
    first = utcnow() - timedelta(hours=5)
    dose(ctx, pain, first, "a1")
    # 60 minutes after the first dose: 60 >= 60, allowed.
    assert dose(ctx, pain, first + timedelta(minutes=60), "a2").created
    # 59 minutes after the second dose (first + 119 min): 59 < 60, over the limit.
    with pytest.raises(DoseNeedsConfirmation) as refused:
        dose(ctx, pain, first + timedelta(minutes=119), "a3")
    assert dict(refused.value.over_limit.params) == {"min_interval_minutes": 60, "minutes_since_last_dose": 59}
    assert db.session.scalar(select(func.count(PrnAdministration.id))) == 2


def test_the_24_hour_window_for_the_maximum_is_half_open(ctx):
    two_a_day = order(ctx, OrderDetails(**{**MORPHINE.__dict__, "min_interval_minutes": 1,
                                            "max_doses_per_24h": 2}))
    first = utcnow() - timedelta(days=2)
    dose(ctx, two_a_day, first, "b1")
    dose(ctx, two_a_day, first + timedelta(hours=1), "b2")
    # At first + 23 h 59 min all three are less than 24 h apart: 3 > 2, over.
    with pytest.raises(DoseNeedsConfirmation) as refused:
        dose(ctx, two_a_day, first + timedelta(hours=23, minutes=59), "b3")
    assert dict(refused.value.over_limit.params) == {"max_doses_per_24h": 2, "doses_in_window": 3}
    # At exactly first + 24 h the first dose shares no window with it: 2 <= 2, allowed.
    assert dose(ctx, two_a_day, first + timedelta(hours=24), "b4").created


def test_an_over_limit_dose_needs_confirmation_and_a_reason_and_raises_a_high_flag(ctx):
    pain = order(ctx)
    first = utcnow() - timedelta(hours=2)
    dose(ctx, pain, first, "c1")
    too_soon = first + timedelta(minutes=30)
    with pytest.raises(DoseNeedsConfirmation):
        dose(ctx, pain, too_soon, "c2", over_limit_reason="Svår smärta")  # not confirmed
    with pytest.raises(DoseNeedsConfirmation):
        dose(ctx, pain, too_soon, "c3", over_limit_confirmed=True, over_limit_reason="  ")
    recorded = dose(ctx, pain, too_soon, "c4", over_limit_confirmed=True,
                    over_limit_reason="Svår smärta, läkare kontaktad")
    assert recorded.administration.over_limit_reason == "Svår smärta, läkare kontaktad"
    assert [(f.code, f.severity, f.items, f.source) for f in recorded.flags] == [
        ("prn_over_limit", "high", ["pain"], "dose")
    ]
    assert recorded.flags[0].params["dose"] == recorded.administration.public_id


def test_doses_under_an_earlier_version_count_against_the_new_one(ctx):
    pain = order(ctx)
    given = utcnow() - timedelta(minutes=10)
    dose(ctx, pain, given, "d1")
    changed = order_service.change_order(ctx["physician"], ctx["pid"], pain.public_id, MORPHINE, reason="ny styrka")
    # 10 minutes after a dose under the same order series: 10 < 60.
    with pytest.raises(DoseNeedsConfirmation):
        dose(ctx, changed, utcnow(), "d2")


def test_three_doses_in_24_hours_raise_one_open_frequent_flag(ctx):
    pain = order(ctx, OrderDetails(**{**MORPHINE.__dict__, "min_interval_minutes": 1,
                                       "max_doses_per_24h": 24}))
    start = utcnow() - timedelta(hours=10)
    # Doses 1 and 2: fewer than 3 in 24 h, no flag. Dose 3: 3 >= 3 (INSTRUMENTS.md default).
    assert dose(ctx, pain, start, "f1").flags == []
    assert dose(ctx, pain, start + timedelta(hours=1), "f2").flags == []
    third = dose(ctx, pain, start + timedelta(hours=2), "f3")
    assert [(f.code, f.severity, f.items, f.params["doses"]) for f in third.flags] == [
        ("prn_frequent", "medium", ["pain"], 3)
    ]
    # A fourth dose: still one open flag for pain.
    assert dose(ctx, pain, start + timedelta(hours=3), "f4").flags == []
    open_flags = db.session.scalars(select(Flag).where(Flag.code == "prn_frequent")).all()
    assert len(open_flags) == 1


def test_the_same_dose_form_twice_stores_one_dose(ctx):
    pain = order(ctx)
    first = dose(ctx, pain, utcnow(), "same")
    again = dose(ctx, pain, utcnow(), "same")
    assert (first.created, again.created) == (True, False)
    assert again.administration.id == first.administration.id
    with pytest.raises(Refused, match="token_reused"):
        dose(ctx, pain, utcnow(), "same", user=ctx["physician"])


def test_effect_is_evaluated_once_and_not_before_the_dose(ctx):
    pain = order(ctx)
    given = utcnow() - timedelta(hours=1)
    recorded = dose(ctx, pain, given, "e1", symptom_before=7).administration
    with pytest.raises(Refused, match="evaluated_before_dose"):
        dose_service.evaluate_dose(ctx["nurse"], ctx["pid"], recorded.public_id, effect="better",
                               evaluated_at=given - timedelta(minutes=1))
    dose_service.evaluate_dose(ctx["nurse"], ctx["pid"], recorded.public_id, effect="better",
                           symptom_after=3)
    assert (recorded.effect, recorded.symptom_before, recorded.symptom_after) == ("better", 7, 3)
    with pytest.raises(Refused, match="already_evaluated"):
        dose_service.evaluate_dose(ctx["nurse"], ctx["pid"], recorded.public_id, effect="worse")


# --- milestones --------------------------------------------------------------------------


def open_reminders(patient):
    return {
        (f.code, tuple(f.items))
        for f in db.session.scalars(
            select(Flag).where(Flag.patient_id == patient.id, Flag.source == "reminder",
                               Flag.closed_at.is_(None))
        )
    }


def test_brytpunktssamtal_starts_the_end_of_life_phase_and_prn_missing_follows_the_orders(ctx):
    milestone_service.record_milestone(ctx["physician"], ctx["pid"], kind="brytpunktssamtal",
                              occurred_on=today_local(), participants="Patient, dotter")
    assert ctx["patient"].phase == Phase.END_OF_LIFE
    # No orders: all four indications are missing.
    assert ("prn_missing", ("pain", "nausea", "anxiety", "death_rattle")) in open_reminders(ctx["patient"])
    for indication, drug in (("pain", "Morfin"), ("nausea", "Haloperidol"), ("anxiety", "Midazolam")):
        order(ctx, OrderDetails(**{**MORPHINE.__dict__, "indication": indication, "drug": drug}))
    assert ("prn_missing", ("death_rattle",)) in open_reminders(ctx["patient"])
    order(ctx, OrderDetails(**{**MORPHINE.__dict__, "indication": "death_rattle", "drug": "Glykopyrron"}))
    assert not any(code == "prn_missing" for code, _ in open_reminders(ctx["patient"]))
    # Each order replaced the open flag: flags lacking 4, 3, 2 and 1 indications were opened
    # in turn and all four are kept, closed.
    closed = db.session.scalars(select(Flag).where(
        Flag.code == "prn_missing", Flag.closed_at.is_not(None)).order_by(Flag.id)).all()
    assert [len(f.items) for f in closed] == [4, 3, 2, 1]
    assert [f.close_reason for f in closed] == ["superseded"] * 3 + ["resolved"]


def test_the_end_of_life_phase_begins_on_the_latest_brytpunktssamtal_from_loaded_milestones_too(ctx):
    for days in (10, 3):
        milestone_service.record_milestone(ctx["physician"], ctx["pid"], kind="brytpunktssamtal",
                                  occurred_on=today_local() - timedelta(days=days))
    milestone_service.record_milestone(ctx["nurse"], ctx["pid"], kind="sip", occurred_on=today_local())
    patient = ctx["patient"]
    begun = datetime.combine(today_local() - timedelta(days=3), time(0), tzinfo=STOCKHOLM)
    # The patient page passes the milestones it shows; the rules must see the same day.
    assert flags.end_of_life_since(patient, carerecord.milestones_of(patient)) == begun
    assert flags.end_of_life_since(patient) == begun


def test_death_stops_open_orders_and_closes_reminders(ctx):
    milestone_service.record_milestone(ctx["physician"], ctx["pid"], kind="brytpunktssamtal",
                              occurred_on=today_local())
    pain = order(ctx)
    assert open_reminders(ctx["patient"])
    milestone_service.record_milestone(ctx["nurse"], ctx["pid"], kind="death", occurred_on=today_local(),
                              place="home", death_expected=True, free_of_pressure_ulcers=True)
    patient = ctx["patient"]
    assert (patient.phase, patient.died_on, patient.place_of_death) == ("deceased", today_local(), "home")
    assert pain.stop_cause == "deceased"
    assert pain.stop_at is not None
    assert carerecord.active_orders(patient, utcnow()) == []
    assert open_reminders(patient) == set()
    with pytest.raises(Refused, match="patient_deceased"):
        milestone_service.record_milestone(ctx["nurse"], ctx["pid"], kind="sip", occurred_on=today_local())
    milestone_service.record_milestone(ctx["nurse"], ctx["pid"], kind="efterlevandesamtal_offered",
                              occurred_on=today_local())


def test_death_needs_a_place(ctx):
    with pytest.raises(Refused, match="place_required"):
        milestone_service.record_milestone(ctx["nurse"], ctx["pid"], kind="death", occurred_on=today_local())
    assert ctx["patient"].phase == Phase.EARLY


# --- reminders ---------------------------------------------------------------------------


def test_the_reminder_command_is_idempotent(app, ctx):
    milestone_service.record_milestone(ctx["physician"], ctx["pid"], kind="brytpunktssamtal",
                              occurred_on=today_local())
    # Close what the milestone opened, so the command has something to open.
    for flag in db.session.scalars(select(Flag)):
        flag.closed_at = utcnow()
    db.session.commit()
    runner = app.test_cli_runner()
    first = runner.invoke(args=["reminders"])
    # End of life, no orders, no assessment at all: prn_missing, assessment_overdue and
    # roag_overdue: three flags.
    # The end-of-life plan is rated by staff only: no reminder e-mail to the patient.
    assert first.output == "Reminder flags: 3 opened, 0 closed.\nReminder e-mails queued: 0.\n"
    second = runner.invoke(args=["reminders"])
    assert second.output == "Reminder flags: 0 opened, 0 closed.\nReminder e-mails queued: 0.\n"
    db.session.expire_all()
    assert open_reminders(ctx["patient"]) == {
        ("prn_missing", ("pain", "nausea", "anxiety", "death_rattle")),
        ("assessment_overdue", ()),
        ("roag_overdue", ()),
    }


def test_reminders_use_the_units_interval(ctx):
    from pallapp.assessments.services import submit_assessment

    ctx["unit"].assessment_interval_days = 3
    esas = dict.fromkeys(("pain", "tiredness", "drowsiness", "nausea", "lack_of_appetite",
                          "shortness_of_breath", "depression", "anxiety", "wellbeing"), 1)
    now = utcnow()
    submit_assessment(ctx["nurse"], ctx["pid"], instrument="esas_r", answers=esas,
                      client_token="z" * 32, observed_at=now - timedelta(days=3))
    # Observed exactly 3 days (the unit's interval) before now: outside (now - 3 d, now], due.
    flags.evaluate_reminders(ctx["patient"], now=now)
    assert open_reminders(ctx["patient"]) == {("assessment_overdue", ())}
    # One minute earlier the same assessment was within the interval: the flag closes.
    flags.evaluate_reminders(ctx["patient"], now=now - timedelta(minutes=1))
    assert open_reminders(ctx["patient"]) == set()


def test_reads_and_writes_are_audited_without_clinical_values(ctx):
    from pallapp.models import AuditEvent

    pain = order(ctx)
    recorded = dose(ctx, pain, utcnow(), "audit1").administration
    order_service.list_orders(ctx["physician"], ctx["pid"])
    events = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
    assert ("create", "prn_order", pain.public_id, ctx["physician"].id) in {
        (e.action, e.object_type, e.object_id, e.user_id) for e in events
    }
    assert ("create", "prn_administration", recorded.public_id, ctx["nurse"].id) in {
        (e.action, e.object_type, e.object_id, e.user_id) for e in events
    }
    assert ("view", "prn_order", ctx["physician"].id) in {
        (e.action, e.object_type, e.user_id) for e in events
    }
    # No dose, drug or rating in any event.
    assert not any("Morfin" in (e.detail or "") or "2,5" in (e.detail or "") for e in events)


# --- dose corrections --------------------------------------------------------------------


def test_a_corrected_dose_is_a_new_row_and_only_the_correction_counts(ctx):
    pain = order(ctx)  # minimum interval 60 minutes
    t = utcnow() - timedelta(hours=1)
    wrong = dose(ctx, pain, t, "g1").administration  # really given 2 hours earlier
    # 30 minutes after the dose as recorded: 30 < 60, over the limit.
    with pytest.raises(DoseNeedsConfirmation):
        dose(ctx, pain, t + timedelta(minutes=30), "g2")
    corrected = dose_service.correct_dose(
        ctx["physician"], ctx["pid"], wrong.public_id,
        dose_service.DoseEntry(t - timedelta(hours=2), "2,5", "mg", "sc"),
        reason="Fel tid angiven", client_token="g3",
    ).administration
    assert (corrected.supersedes_id, corrected.given_by_id, corrected.entered_by_id) == (
        wrong.id, ctx["nurse"].id, ctx["physician"].id)
    db.session.expire_all()
    assert db.session.get(PrnAdministration, wrong.id).given_at == t  # kept as first recorded
    # Now the last dose counted is at t - 2 h: 2 h 30 min >= 60 min before t + 30 min, allowed.
    assert dose(ctx, pain, t + timedelta(minutes=30), "g4").created
    with pytest.raises(Refused, match="already_corrected"):
        dose_service.correct_dose(ctx["nurse"], ctx["pid"], wrong.public_id,
                              dose_service.DoseEntry(t, "2,5", "mg", "sc"), reason="x", client_token="g5")
    assert [d.public_id for d in carerecord.doses_since(ctx["patient"], t - timedelta(hours=3))] == [
        db.session.scalar(select(PrnAdministration.public_id).where(PrnAdministration.client_token == "g4")),
        corrected.public_id,
    ]


def test_a_correction_keeps_an_evaluation_made_after_the_corrected_time(ctx):
    pain = order(ctx)
    t = utcnow() - timedelta(hours=3)
    first = dose(ctx, pain, t, "h1").administration
    dose_service.evaluate_dose(ctx["nurse"], ctx["pid"], first.public_id, effect="better",
                           evaluated_at=t + timedelta(hours=1))
    # Corrected to 30 minutes later: the evaluation (t + 1 h) is still after it.
    later = dose_service.correct_dose(ctx["nurse"], ctx["pid"], first.public_id,
                                  dose_service.DoseEntry(t + timedelta(minutes=30), "2,5", "mg", "sc"),
                                  reason="Fel tid", client_token="h2").administration
    assert (later.effect, later.evaluated_at) == ("better", t + timedelta(hours=1))
    # Corrected again to after the evaluation: the effect must be assessed again.
    latest = dose_service.correct_dose(ctx["nurse"], ctx["pid"], later.public_id,
                                   dose_service.DoseEntry(t + timedelta(hours=2), "2,5", "mg", "sc"),
                                   reason="Fel tid igen", client_token="h3").administration
    assert (latest.effect, latest.evaluated_at) == (None, None)
    assert dose_service.doses_to_evaluate(ctx["patient"]) == [latest]


def test_the_reminders_read_the_newest_rating_of_each_instrument_up_to_now(ctx):
    # The reminders' latest rating per instrument is one index lookup each (bounded however
    # long the history is): it must still be the newest at or before `now`, of this patient,
    # and leave out an instrument never rated.
    from pallapp.flags.due import latest_ratings_query
    from pallapp.models import Assessment

    now = utcnow().replace(microsecond=0)
    other = make_patient([ctx["unit"]])

    def rating(patient, instrument, observed_at, token):
        db.session.add(Assessment(
            patient_id=patient.id, instrument=instrument, instrument_version="test",
            respondent="staff", entered_by_id=ctx["nurse"].id, observed_at=observed_at,
            answers={}, scores={}, scoring_version="test", client_token=token.ljust(32, "0"),
        ))

    rating(ctx["patient"], "esas_r", now - timedelta(days=10), "a")
    rating(ctx["patient"], "esas_r", now - timedelta(days=2), "b")  # the newest up to now
    rating(ctx["patient"], "esas_r", now + timedelta(hours=1), "c")  # after now: not yet
    rating(ctx["patient"], "roag", now - timedelta(days=5), "d")
    rating(ctx["patient"], "roag", now, "e")  # at now exactly: counts (observed_at <= now)
    rating(other, "esas_r", now - timedelta(days=1), "f")  # another patient's
    rating(other, "abbey", now - timedelta(days=1), "g")
    db.session.flush()
    seen = {
        instrument: observed_at
        for instrument, observed_at in db.session.execute(
            latest_ratings_query(), {"patient_id": ctx["patient"].id, "now": now}
        )
        if observed_at is not None
    }
    assert seen == {"esas_r": now - timedelta(days=2), "roag": now}
