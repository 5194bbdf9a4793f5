"""As-needed doses checked against their order through the services: both ways in time, as
numbers with a unit and a route, for new, back-dated and corrected doses; orders that must
have limits; `prn_missing` counting only injection orders.

Every expected value is worked out by hand in the test from INSTRUMENTS.md and the order.
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from pallapp import flags
from pallapp.careplan import doses as dose_service
from pallapp.careplan import milestones as milestone_service
from pallapp.careplan import orders as order_service
from pallapp.careplan.common import Refused
from pallapp.careplan.doses import DoseEntry, DoseNeedsConfirmation
from pallapp.careplan.orders import OrderDetails
from pallapp.extensions import db
from pallapp.models import Flag, PrnAdministration, PrnOrder, Role, utcnow
from pallapp.timeutil import STOCKHOLM, today_local
from tests.factories import make_patient, make_unit, make_user

# Max 3 doses in 24 h, at least 4 h apart: the example of the issue.
MORPHINE = OrderDetails(
    indication="pain", drug="Morfin", strength="10 mg/ml", dose="2,5", dose_unit="mg", route="sc",
    min_interval_minutes=240, max_doses_per_24h=3,
)


@pytest.fixture
def ctx(app):
    with app.app_context():
        unit = make_unit("Team Ludvika")
        patient = make_patient([unit], given_name="Elsa")
        world = {
            "patient": patient,
            "pid": patient.public_id,
            "nurse": make_user(Role.NURSE, units=[unit]),
            "nurse2": make_user(Role.NURSE, units=[unit]),
            "physician": make_user(Role.PHYSICIAN, units=[unit]),
        }
        db.session.commit()
        yield world


DAY = today_local() - timedelta(days=2)


def local(hour: int, minute: int = 0) -> datetime:
    """Two days ago at hour:minute, Swedish time."""
    return datetime.combine(DAY, time(hour, minute), tzinfo=STOCKHOLM)


def order(ctx, details=MORPHINE):
    return order_service.create_order(ctx["physician"], ctx["pid"], details,
                                 start_at=utcnow() - timedelta(days=5))


def dose(ctx, the_order, given_at, token, amount="2,5", unit="mg", route="sc", **kwargs):
    return dose_service.record_dose(
        kwargs.pop("user", ctx["nurse"]), ctx["pid"], the_order.public_id, given_at=given_at,
        dose=amount, dose_unit=unit, route=route, client_token=token, **kwargs,
    )


def count_doses():
    return db.session.scalar(select(func.count(PrnAdministration.id)))


def open_flags(code):
    return db.session.scalars(
        select(Flag).where(Flag.code == code, Flag.closed_at.is_(None)).order_by(Flag.id)
    ).all()


# --- looking both ways in time -------------------------------------------------------------


def test_a_back_dated_dose_is_checked_against_the_doses_after_it(ctx):
    pain = order(ctx)
    given = [dose(ctx, pain, local(hour), f"t{hour}", user=ctx["nurse2"]).administration
             for hour in (10, 14, 18)]
    # 09:00 is 1 h before the 10:00 dose (1 h < 4 h) and the 4th dose within the 24 h from
    # 09:00 (09, 10, 14, 18: 4 > 3).
    with pytest.raises(DoseNeedsConfirmation) as warned:
        dose(ctx, pain, local(9), "t9")
    assert dict(warned.value.over_limit.params) == {
        "min_interval_minutes": 240, "minutes_to_next_dose": 60,
        "max_doses_per_24h": 3, "doses_in_window": 4,
    }
    assert warned.value.mismatch is None
    # It names the doses it collides with, in time order, with who gave them.
    assert warned.value.colliding == given
    assert {row.given_by.name for row in warned.value.colliding} == {ctx["nurse2"].name}
    assert count_doses() == 3
    stored = dose(ctx, pain, local(9), "t9", over_limit_confirmed=True,
                  over_limit_reason="Genombrottssmärta, jour kontaktad").administration
    assert stored.over_limit_reason == "Genombrottssmärta, jour kontaktad"
    assert [flag.code for flag in open_flags("prn_over_limit")] == ["prn_over_limit"]


def test_a_dose_between_two_existing_ones_is_checked_on_both_sides(ctx):
    pain = order(ctx, OrderDetails(**{**MORPHINE.__dict__, "max_doses_per_24h": 6}))
    dose(ctx, pain, local(6), "b6")
    dose(ctx, pain, local(14), "b14")
    # 10:00 is exactly 4 h from both: allowed. 10:01 is 3 h 59 min before 14:00: warned.
    with pytest.raises(DoseNeedsConfirmation) as warned:
        dose(ctx, pain, local(10, 1), "b1001")
    assert dict(warned.value.over_limit.params) == {
        "min_interval_minutes": 240, "minutes_to_next_dose": 239,
    }
    assert [row.given_at for row in warned.value.colliding] == [local(14)]
    assert dose(ctx, pain, local(10), "b10").created


def test_a_third_dose_entered_before_two_others_raises_prn_frequent(ctx):
    pain = order(ctx, OrderDetails(**{**MORPHINE.__dict__, "min_interval_minutes": 60,
                                       "max_doses_per_24h": 6}))
    assert dose(ctx, pain, local(12), "f12").flags == []
    assert dose(ctx, pain, local(16), "f16").flags == []
    # Entered afterwards for 08:00: 08, 12, 16 within 24 h, 3 >= 3 (INSTRUMENTS.md default).
    third = dose(ctx, pain, local(8), "f08")
    assert [(f.code, f.severity, f.items, f.params["doses"]) for f in third.flags] == [
        ("prn_frequent", "medium", ["pain"], 3)
    ]


def test_prn_frequent_counts_every_order_of_the_indication(ctx):
    loose = {"min_interval_minutes": 60, "max_doses_per_24h": 6}
    morphine = order(ctx, OrderDetails(**{**MORPHINE.__dict__, **loose}))
    oxycodone = order(ctx, OrderDetails(**{**MORPHINE.__dict__, **loose, "drug": "Oxikodon"}))
    dose(ctx, morphine, local(8), "m8")
    dose(ctx, oxycodone, local(20), "o20")
    # 08:00 to 07:59 the next day is less than 24 h: three pain doses, two orders.
    next_morning = local(7, 59) + timedelta(days=1)
    assert [f.code for f in dose(ctx, morphine, next_morning, "m7").flags] == ["prn_frequent"]


def test_a_correction_leaves_out_the_version_it_replaces_and_looks_both_ways(ctx):
    pain = order(ctx)
    first = dose(ctx, pain, local(10), "c10").administration
    dose(ctx, pain, local(16), "c16")
    # Moved 30 minutes: only the version it replaces is closer than 4 h, so it is allowed.
    moved = dose_service.correct_dose(
        ctx["nurse"], ctx["pid"], first.public_id, DoseEntry(local(10, 30), "2,5", "mg", "sc"),
        reason="Fel tid", client_token="c1030",
    ).administration
    assert moved.supersedes_id == first.id
    # Moved again to 13:00: 3 h before the 16:00 dose, which is named.
    with pytest.raises(DoseNeedsConfirmation) as warned:
        dose_service.correct_dose(
            ctx["nurse"], ctx["pid"], moved.public_id, DoseEntry(local(13), "2,5", "mg", "sc"),
            reason="Fel tid igen", client_token="c13",
        )
    assert dict(warned.value.over_limit.params) == {
        "min_interval_minutes": 240, "minutes_to_next_dose": 180,
    }
    assert [row.given_at for row in warned.value.colliding] == [local(16)]


# --- the dose as a number and a unit ---------------------------------------------------------


def test_a_tenfold_dose_needs_confirmation_and_raises_a_high_flag(ctx):
    pain = order(ctx)
    with pytest.raises(DoseNeedsConfirmation) as warned:
        dose(ctx, pain, local(10), "x1", amount="25")
    # 25 mg against an order of 2,5 mg: outside [2,5, 2,5].
    assert dict(warned.value.mismatch.params) == {
        "given_amount": "25", "ordered_low": "2.5", "ordered_high": "2.5",
    }
    assert warned.value.over_limit is None
    with pytest.raises(DoseNeedsConfirmation):
        dose(ctx, pain, local(10), "x1", amount="25", dose_mismatch_confirmed=True,
             dose_mismatch_reason="  ")
    # A confirmation of the limits does not confirm the dose.
    with pytest.raises(DoseNeedsConfirmation):
        dose(ctx, pain, local(10), "x1", amount="25", over_limit_confirmed=True,
             over_limit_reason="Läkare ordinerade muntligt")
    assert count_doses() == 0
    recorded = dose(ctx, pain, local(10), "x1", amount="25", dose_mismatch_confirmed=True,
                    dose_mismatch_reason="Läkare ordinerade muntligt 25 mg")
    row = recorded.administration
    assert (row.dose, row.amount, row.dose_mismatch_reason, row.over_limit_reason) == (
        "25", Decimal("25"), "Läkare ordinerade muntligt 25 mg", None)
    assert [(f.code, f.severity, f.items) for f in recorded.flags] == [
        ("prn_dose_mismatch", "high", ["pain"])
    ]


def test_within_a_range_both_ends_are_allowed(ctx):
    ranged = order(ctx, OrderDetails(**{**MORPHINE.__dict__, "dose": "2,5–5",
                                         "min_interval_minutes": 1, "max_doses_per_24h": 10}))
    assert (ranged.dose, ranged.dose_min, ranged.dose_max) == ("2,5–5", Decimal("2.5"), Decimal("5"))
    assert dose(ctx, ranged, local(8), "r1", amount="2,5").created
    assert dose(ctx, ranged, local(9), "r2", amount="5").created
    assert dose(ctx, ranged, local(10), "r3", amount="3.75").created
    for token, amount in (("r4", "2,4"), ("r5", "5,1")):
        with pytest.raises(DoseNeedsConfirmation) as warned:
            dose(ctx, ranged, local(11), token, amount=amount)
        assert warned.value.mismatch.params["given_amount"] == amount.replace(",", ".")


def test_unit_and_route_are_compared_with_the_order(ctx):
    pain = order(ctx, OrderDetails(**{**MORPHINE.__dict__, "min_interval_minutes": 1,
                                       "max_doses_per_24h": 10}))
    # Case and spelling of the same unit do not matter.
    assert dose(ctx, pain, local(8), "u1", unit="MG").created
    # Another unit is never converted: 0,25 ml of 10 mg/ml is not compared with 2,5 mg.
    with pytest.raises(DoseNeedsConfirmation) as warned:
        dose(ctx, pain, local(9), "u2", amount="0,25", unit="ml")
    assert dict(warned.value.mismatch.params) == {"given_unit": "ml", "ordered_unit": "mg"}
    with pytest.raises(DoseNeedsConfirmation) as warned:
        dose(ctx, pain, local(9), "u3", route="po")
    assert dict(warned.value.mismatch.params) == {"given_route": "po", "ordered_route": "sc"}


@pytest.mark.parametrize(
    ("amount", "reason"),
    [("2,5 mg", "amount_not_a_number"), ("2,5-5", "amount_not_a_number"),
     ("0", "amount_not_positive"), ("0,00001", "amount_too_precise")],
)
def test_the_amount_given_must_be_one_number(ctx, amount, reason):
    pain = order(ctx)
    with pytest.raises(Refused, match=reason):
        dose(ctx, pain, local(8), "n1", amount=amount)
    assert count_doses() == 0


# --- orders: limits and doses required -------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"min_interval_minutes": None}, "min_interval_required"),
        ({"max_doses_per_24h": None}, "max_doses_required"),
        ({"dose": "2,5 mg"}, "dose_not_a_number"),
        ({"dose": "5-2,5"}, "dose_range_reversed"),
        ({"dose": "0"}, "dose_not_positive"),
    ],
)
def test_an_order_needs_both_limits_and_a_dose_in_numbers(ctx, changes, reason):
    with pytest.raises(Refused, match=reason):
        order(ctx, OrderDetails(**{**MORPHINE.__dict__, **changes}))
    existing = order(ctx)
    with pytest.raises(Refused, match=reason):
        order_service.change_order(ctx["physician"], ctx["pid"], existing.public_id,
                              OrderDetails(**{**MORPHINE.__dict__, **changes}), reason="Ny dos")
    assert db.session.scalar(select(func.count(PrnOrder.id))) == 1


def legacy_order(ctx, **values):
    """An order as it was stored before limits and numeric doses were required (the migration
    keeps such rows as they were)."""
    row = PrnOrder(
        patient_id=ctx["patient"].id, indication="pain", drug="Morfin", dose="1 ampull",
        dose_unit="ml", route="sc", prescriber_id=ctx["physician"].id,
        start_at=utcnow() - timedelta(days=5), **values,
    )
    db.session.add(row)
    db.session.flush()
    return row


def reminder_codes(ctx):
    return {(f.code, tuple(f.items)) for f in db.session.scalars(
        select(Flag).where(Flag.patient_id == ctx["patient"].id, Flag.source == "reminder",
                           Flag.closed_at.is_(None)))}


def test_an_order_without_limits_is_flagged_until_it_is_changed(ctx):
    old = legacy_order(ctx)
    flags.evaluate_reminders(ctx["patient"])
    assert ("prn_limits_missing", ("pain",)) in reminder_codes(ctx)
    # Its doses cannot be checked: two at the same minute are stored without a warning, and
    # its dose, written as text, is not compared (the unit still is).
    assert dose(ctx, old, local(8), "l1", amount="5", unit="ml").created
    assert dose(ctx, old, local(8), "l2", amount="5", unit="ml").created
    changed = order_service.change_order(ctx["physician"], ctx["pid"], old.public_id, MORPHINE,
                                    reason="Gränser saknades")
    assert changed.has_limits
    assert not any(code == "prn_limits_missing" for code, _ in reminder_codes(ctx))
    closed = db.session.scalar(select(Flag).where(Flag.code == "prn_limits_missing"))
    assert closed.close_reason == "resolved"


def test_an_order_without_limits_is_flagged_until_it_is_stopped(ctx):
    old = legacy_order(ctx, min_interval_minutes=60)  # the maximum is missing
    flags.evaluate_reminders(ctx["patient"])
    assert ("prn_limits_missing", ("pain",)) in reminder_codes(ctx)
    order_service.stop_order(ctx["physician"], ctx["pid"], old.public_id, reason="Behövs inte")
    assert not any(code == "prn_limits_missing" for code, _ in reminder_codes(ctx))


# --- prn_missing: only injection orders count ------------------------------------------------


def test_an_oral_order_does_not_cover_the_end_of_life(ctx):
    milestone_service.record_milestone(ctx["physician"], ctx["pid"], kind="brytpunktssamtal",
                              occurred_on=today_local())
    for indication, drug in (("nausea", "Haloperidol"), ("anxiety", "Midazolam"),
                             ("death_rattle", "Glykopyrron")):
        order(ctx, OrderDetails(**{**MORPHINE.__dict__, "indication": indication, "drug": drug}))
    oral = order(ctx, OrderDetails(**{**MORPHINE.__dict__, "drug": "Oxikodon", "dose": "5",
                                       "route": "po"}))
    # Pain has an order in force, but by mouth: it does not count.
    assert ("prn_missing", ("pain",)) in reminder_codes(ctx)
    order_service.change_order(ctx["physician"], ctx["pid"], oral.public_id,
                          OrderDetails(**{**MORPHINE.__dict__, "drug": "Oxikodon"}),
                          reason="Kan inte svälja")
    assert not any(code == "prn_missing" for code, _ in reminder_codes(ctx))
