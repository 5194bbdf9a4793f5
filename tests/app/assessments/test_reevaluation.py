"""A late or corrected assessment makes the next one's rise flags be compared again.

INSTRUMENTS.md: `previous` is the latest earlier assessment of the same instrument within 30
days by `observed_at`. When B is stored late between A (10:00) and C (14:00), C's `item_rise`
and `total_rise` are evaluated again against B: a rise that now holds is raised on C, one that
no longer holds is closed with a system note, never deleted. The same when a correction changes
C's previous. Every expected flag below is worked out by hand from the rules (ESAS-r: an item
at least 2 points higher, the total at least 4 higher; IPOS: an item higher and now >= 2).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import select

from pallapp.assessments import services
from pallapp.extensions import db
from pallapp.models import Assessment, AuditEvent, Flag, Role
from pallapp.review import flag_pages
from pallapp.timeutil import STOCKHOLM, today_local
from tests.factories import make_patient, make_unit, make_user

ESAS_ITEMS = (
    "pain", "tiredness", "drowsiness", "nausea", "lack_of_appetite", "shortness_of_breath",
    "depression", "anxiety", "wellbeing",
)
ESAS_ONES = dict.fromkeys(ESAS_ITEMS, 1)  # total 9 * 1 = 9


@pytest.fixture
def ctx(app):
    with app.app_context():
        unit = make_unit("Team Falun")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        patient = make_patient([unit], given_name="Maj")
        patient.enrolled_on = patient.enrolled_on - timedelta(days=60)
        db.session.commit()
        yield {"nurse": nurse, "patient": patient, "unit": unit}


def at(hour: int, days_ago: int = 2) -> datetime:
    """`hour`:00 Swedish time, `days_ago` days before today."""
    return datetime.combine(today_local() - timedelta(days=days_ago), time(hour), tzinfo=STOCKHOLM)


_tokens = iter(f"{n:032x}" for n in range(1, 10_000))


def submit(ctx, instrument: str, answers: dict[str, object], observed_at: datetime) -> Assessment:
    submitted = services.submit_assessment(
        ctx["nurse"],
        ctx["patient"].public_id,
        instrument=instrument,
        answers=answers,
        client_token=next(_tokens),
        observed_at=observed_at,
    )
    assert submitted.created
    return submitted.assessment


def correct(ctx, assessment: Assessment, answers: dict[str, object]) -> Assessment:
    submitted = services.correct_assessment(
        ctx["nurse"],
        ctx["patient"].public_id,
        assessment.public_id,
        answers=answers,
        reason="Wrong line on the paper form",
        client_token=next(_tokens),
    )
    assert submitted.created
    return submitted.assessment


def flags_of(assessment: Assessment, code: str) -> list[Flag]:
    return list(
        db.session.scalars(
            select(Flag)
            .where(Flag.assessment_id == assessment.id, Flag.code == code)
            .order_by(Flag.id)
        )
    )


def open_rises(assessment: Assessment) -> set[tuple[str, tuple[str, ...]]]:
    return {
        (flag.code, tuple(flag.items))
        for flag in db.session.scalars(
            select(Flag).where(
                Flag.assessment_id == assessment.id,
                Flag.code.in_(services.RISE_FLAGS),
                Flag.closed_at.is_(None),
            )
        )
    }


def reevaluation_events() -> list[tuple[str, str, str | None]]:
    return [
        (event.action, event.object_type, event.object_id)
        for event in db.session.scalars(
            select(AuditEvent).where(AuditEvent.detail == "reevaluated").order_by(AuditEvent.id)
        )
    ]


# --- a late assessment ----------------------------------------------------------------------


def test_a_late_assessment_raises_a_rise_that_now_holds(ctx):
    a = submit(ctx, "esas_r", dict(ESAS_ONES, pain=5), at(10))  # total 9 - 1 + 5 = 13
    c = submit(ctx, "esas_r", dict(ESAS_ONES, pain=5, tiredness=2), at(14))  # total 14
    # C against A: pain 5 - 5 = 0, tiredness 2 - 1 = 1 < 2; total 14 - 13 = 1 < 4: no rise.
    assert open_rises(c) == set()

    b = submit(ctx, "esas_r", dict(ESAS_ONES, pain=2), at(12))  # total 10, stored late
    # C against B: pain 5 - 2 = 3 >= 2 -> item_rise (pain); tiredness 2 - 1 = 1 < 2;
    # total 14 - 10 = 4 >= 4 -> total_rise, listing the items that went up at all: pain and
    # tiredness.
    assert open_rises(c) == {("item_rise", ("pain",)), ("total_rise", ("pain", "tiredness"))}
    raised = flags_of(c, "item_rise")[0]
    assert raised.params == {"rule": "esas_r", "threshold": 2}
    assert raised.source == "assessment"
    # B itself against A: pain 2 - 5 < 0, total 10 - 13 < 0: nothing.
    assert {flag.code for flag in b.flags} == set()
    created = [flag.public_id for flag in c.flags if flag.code in services.RISE_FLAGS]
    assert reevaluation_events() == [("create", "flag", public_id) for public_id in created]
    assert a.id != b.id


def test_a_late_assessment_closes_a_rise_that_no_longer_holds(ctx):
    submit(ctx, "esas_r", ESAS_ONES, at(10))  # pain 1, total 9
    c = submit(ctx, "esas_r", dict(ESAS_ONES, pain=4), at(14))  # total 12
    # C against A: pain 4 - 1 = 3 >= 2 -> item_rise; total 12 - 9 = 3 < 4: no total_rise.
    assert open_rises(c) == {("item_rise", ("pain",))}
    before = flags_of(c, "item_rise")[0]

    b = submit(ctx, "esas_r", dict(ESAS_ONES, pain=3), at(12))  # total 11, stored late
    # C against B: pain 4 - 3 = 1 < 2, total 12 - 11 = 1 < 4: the rise no longer holds.
    assert open_rises(c) == set()
    [closed] = flags_of(c, "item_rise")  # kept, not deleted, and no new one
    assert closed.id == before.id
    assert closed.close_reason == "reevaluated"
    assert closed.closed_by_id is None  # the system closed it
    assert closed.closed_at is not None
    assert b.public_id in closed.note
    assert "no longer holds" in closed.note
    # C's other flag is not a rise and stays open: pain 4 is moderate (4-6).
    assert [(f.code, f.is_open) for f in flags_of(c, "moderate_item")] == [("moderate_item", True)]
    # B against A: pain 3 - 1 = 2 >= 2 -> B has its own item_rise.
    assert {(f.code, tuple(f.items)) for f in b.flags} == {("item_rise", ("pain",))}
    assert reevaluation_events() == [("update", "flag", closed.public_id)]


def test_a_rise_now_about_other_items_is_closed_and_raised_again(ctx):
    submit(ctx, "esas_r", ESAS_ONES, at(10))  # total 9
    c = submit(ctx, "esas_r", dict(ESAS_ONES, pain=4, nausea=4), at(14))  # total 9 + 3 + 3 = 15
    # C against A: pain +3 and nausea +3 -> item_rise (pain, nausea); total +6 -> total_rise.
    assert open_rises(c) == {
        ("item_rise", ("pain", "nausea")),
        ("total_rise", ("pain", "nausea")),
    }
    total_before = flags_of(c, "total_rise")[0].id

    submit(ctx, "esas_r", dict(ESAS_ONES, pain=3), at(12))  # total 11, stored late
    # C against B: pain 4 - 3 = 1 < 2, nausea 4 - 1 = 3 >= 2 -> item_rise (nausea) only;
    # total 15 - 11 = 4 >= 4 -> total_rise, items that went up: pain and nausea, as before.
    assert open_rises(c) == {("item_rise", ("nausea",)), ("total_rise", ("pain", "nausea"))}
    old, new = flags_of(c, "item_rise")
    assert (old.close_reason, tuple(old.items)) == ("reevaluated", ("pain", "nausea"))
    assert (new.is_open, tuple(new.items)) == (True, ("nausea",))
    # The total rise says the same as before: left as it was.
    assert [flag.id for flag in flags_of(c, "total_rise")] == [total_before]


def test_ipos_late_assessment_uses_the_ipos_rule(ctx):
    submit(ctx, "ipos_staff", {"pain": 1, "nausea": 0}, at(10))
    c = submit(ctx, "ipos_staff", {"pain": 2, "nausea": 2}, at(14))
    # C against A: pain 1 -> 2 (higher, 2 >= 2) and nausea 0 -> 2: item_rise (pain, nausea).
    assert open_rises(c) == {("item_rise", ("pain", "nausea"))}
    submit(ctx, "ipos_staff", {"pain": 2, "nausea": 1}, at(12))  # late
    # C against B: pain 2 -> 2 is not higher; nausea 1 -> 2 is higher and 2 >= 2.
    assert open_rises(c) == {("item_rise", ("nausea",))}
    assert flags_of(c, "item_rise")[-1].params == {"rule": "ipos", "threshold": 1, "floor": 2}


def test_an_acknowledged_rise_that_still_holds_is_not_raised_again(ctx):
    submit(ctx, "esas_r", ESAS_ONES, at(10))
    c = submit(ctx, "esas_r", dict(ESAS_ONES, pain=4), at(14))  # pain +3 -> item_rise (pain)
    [rise] = flags_of(c, "item_rise")
    flag_pages.acknowledge_flag(
        ctx["nurse"], ctx["patient"].public_id, rise.public_id, "Breakthrough dose given"
    )
    submit(ctx, "esas_r", dict(ESAS_ONES, pain=2), at(12))  # late
    # C against B: pain 4 - 2 = 2 >= 2 -> the same item_rise (pain), already acknowledged.
    assert [(f.close_reason, f.note) for f in flags_of(c, "item_rise")] == [
        ("acknowledged", "Breakthrough dose given")
    ]
    assert reevaluation_events() == []


def test_only_the_next_assessment_is_compared_again(ctx):
    a = submit(ctx, "esas_r", dict(ESAS_ONES, pain=3), at(10))
    c = submit(ctx, "esas_r", dict(ESAS_ONES, pain=5), at(14))  # against A: 5 - 3 = 2 -> rise
    assert open_rises(c) == {("item_rise", ("pain",))}
    submit(ctx, "esas_r", ESAS_ONES, at(8))  # late, but before A
    # A is now compared with it: pain 3 - 1 = 2 >= 2 -> item_rise on A. C still follows A.
    assert open_rises(a) == {("item_rise", ("pain",))}
    assert open_rises(c) == {("item_rise", ("pain",))}
    assert len(flags_of(c, "item_rise")) == 1


def test_a_late_assessment_outside_the_window_changes_nothing(ctx):
    c = submit(ctx, "esas_r", dict(ESAS_ONES, pain=9), at(14, days_ago=1))
    # 31 days before C: not C's previous (INSTRUMENTS.md: within 30 days).
    submit(ctx, "esas_r", ESAS_ONES, at(14, days_ago=32))
    assert open_rises(c) == set()
    assert reevaluation_events() == []


def test_other_instruments_are_not_compared(ctx):
    c = submit(ctx, "esas_r", dict(ESAS_ONES, pain=4), at(14))
    submit(ctx, "ipos_staff", {"pain": 0}, at(12))  # a late IPOS is no previous of an ESAS-r
    assert open_rises(c) == set()


# --- a correction of the previous -------------------------------------------------------------


def test_correcting_the_previous_closes_a_rise_that_no_longer_holds(ctx):
    a = submit(ctx, "esas_r", ESAS_ONES, at(10))
    c = submit(ctx, "esas_r", dict(ESAS_ONES, pain=4), at(14))  # pain 4 - 1 = 3 -> item_rise
    corrected = correct(ctx, a, dict(ESAS_ONES, pain=3))
    # C against the corrected A: pain 4 - 3 = 1 < 2; total 12 - 11 = 1 < 4: nothing holds.
    assert open_rises(c) == set()
    [closed] = flags_of(c, "item_rise")
    assert closed.close_reason == "reevaluated"
    assert corrected.public_id in closed.note


def test_correcting_the_previous_raises_a_rise_that_now_holds(ctx):
    a = submit(ctx, "esas_r", dict(ESAS_ONES, pain=3), at(10))
    c = submit(ctx, "esas_r", dict(ESAS_ONES, pain=4), at(14))  # 4 - 3 = 1 < 2: no rise
    assert open_rises(c) == set()
    correct(ctx, a, dict(ESAS_ONES, pain=0))  # total 8
    # C against the corrected A: pain 4 - 0 = 4 >= 2 -> item_rise; total 12 - 8 = 4 >= 4 ->
    # total_rise (pain).
    assert open_rises(c) == {("item_rise", ("pain",)), ("total_rise", ("pain",))}


def test_correcting_the_later_one_compares_the_one_after_it(ctx):
    submit(ctx, "esas_r", ESAS_ONES, at(10))
    b = submit(ctx, "esas_r", dict(ESAS_ONES, pain=2), at(12))  # 2 - 1 = 1: no rise
    c = submit(ctx, "esas_r", dict(ESAS_ONES, pain=4), at(14))  # against B: 4 - 2 = 2 -> rise
    assert open_rises(c) == {("item_rise", ("pain",))}
    corrected = correct(ctx, b, dict(ESAS_ONES, pain=4))
    # The corrected B against A: 4 - 1 = 3 -> item_rise on the new version; C against it:
    # 4 - 4 = 0 -> C's rise closes.
    assert open_rises(corrected) == {("item_rise", ("pain",))}
    assert open_rises(c) == set()


# --- shown in words ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("language", "history_text", "result_text"),
    [
        (
            "en",
            "an earlier assessment was added late or corrected. Compared with it, this flag "
            "no longer applies as raised; if a worsening remains, it has a new flag.",
            "closed: no longer applies against an earlier assessment added late or corrected",
        ),
        (
            "sv",
            "en tidigare skattning lades till i efterhand eller rättades. Jämfört med den "
            "stämmer flaggan inte längre som den var; om en försämring kvarstår har den fått "
            "en ny flagga.",
            "stängd: stämmer inte längre jämfört med en tidigare skattning som lagts till i "
            "efterhand eller rättats",
        ),
    ],
)
def test_the_closed_flag_says_why_in_words(app, client, auth, language, history_text, result_text):
    # Built in an app context of its own: the pages are then asked for in fresh ones.
    with app.app_context():
        unit = make_unit("Team Mora")
        nurse = make_user(Role.NURSE, units=[unit], language=language)
        patient = make_patient([unit], given_name="Ebba")
        patient.enrolled_on = patient.enrolled_on - timedelta(days=60)
        world = {"nurse": nurse, "patient": patient}
        submit(world, "esas_r", ESAS_ONES, at(10))
        c = submit(world, "esas_r", dict(ESAS_ONES, pain=4), at(14))  # 4 - 1 = 3: item_rise
        submit(world, "esas_r", dict(ESAS_ONES, pain=3), at(12))  # late: 4 - 3 = 1, closes it
        patient_id, c_id, email = patient.public_id, c.public_id, nurse.email
        db.session.commit()
    auth.login(email)
    history = client.get(f"/patients/{patient_id}/flags").get_data(as_text=True)
    assert history_text in " ".join(history.split())
    result = client.get(f"/patients/{patient_id}/assessments/{c_id}").get_data(as_text=True)
    assert result_text in " ".join(result.split())
