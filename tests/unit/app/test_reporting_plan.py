"""The reporting plan's defaults per phase, the one due/overdue rule at both sides of each
boundary, and coverage hours. Pure: no application, no database."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

from pallapp.alerts.coverage import in_coverage
from pallapp.alerts.outbox import pause_after
from pallapp.flags.plan import OVERDUE_AFTER, PlanLine, default_plan, line_status

EPSILON = timedelta(microseconds=1)
SINCE = datetime(2026, 11, 1, 0, 0, tzinfo=UTC)


def test_defaults_follow_the_phase():
    early = default_plan("early", interval_days=7, end_of_life_interval_days=2)
    assert early == (PlanLine("esas_r", "patient", 7, relative_may_answer=True),)
    end = default_plan("end_of_life", interval_days=7, end_of_life_interval_days=2)
    assert end == (PlanLine("ipos_staff", "staff", 2), PlanLine("roag", "staff", 7))
    assert all(not line.is_self_report for line in end)
    assert default_plan("deceased", interval_days=7, end_of_life_interval_days=2) == ()
    assert default_plan("discharged", interval_days=7, end_of_life_interval_days=2) == ()


def test_due_and_overdue_at_both_sides_of_each_boundary():
    line = PlanLine("esas_r", "patient", 7)
    last = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    due_at = last + timedelta(days=7)  # 2026-11-27 09:30 UTC
    latest = {"esas_r": last}
    before = line_status(line, latest, due_at - EPSILON, since=SINCE)
    assert (before.is_due, before.is_overdue) == (False, False)
    at = line_status(line, latest, due_at, since=SINCE)
    assert (at.due_at, at.is_due, at.is_overdue) == (due_at, True, False)
    overdue_at = due_at + OVERDUE_AFTER  # one day later: 2026-11-28 09:30 UTC
    assert line_status(line, latest, overdue_at - EPSILON, since=SINCE).is_overdue is False
    assert line_status(line, latest, overdue_at, since=SINCE).is_overdue is True


def test_any_symptom_rating_answers_a_symptom_line_but_not_roag():
    line = PlanLine("esas_r", "patient", 7)
    last_ipos = datetime(2026, 11, 25, tzinfo=UTC)
    now = datetime(2026, 11, 29, tzinfo=UTC)
    status = line_status(line, {"ipos_staff": last_ipos, "roag": now}, now, since=SINCE)
    assert status.due_at == last_ipos + timedelta(days=7)
    roag = line_status(PlanLine("roag", "staff", 7), {"esas_r": now}, now, since=SINCE)
    assert roag.is_due
    assert roag.due_at == SINCE


def test_an_observation_after_now_does_not_count():
    line = PlanLine("esas_r", "patient", 7)
    now = datetime(2026, 11, 29, tzinfo=UTC)
    status = line_status(line, {"esas_r": now + timedelta(hours=1)}, now, since=SINCE)
    assert status.is_due


def test_coverage_hours_start_inclusive_end_exclusive_in_swedish_time():
    start, end = time(8, 0), time(17, 0)
    # Monday 2026-11-30; Stockholm is UTC+1 in winter, so 08:00 local is 07:00 UTC.
    opening = datetime(2026, 11, 30, 7, 0, tzinfo=UTC)
    assert in_coverage("12345", start, end, opening)
    assert not in_coverage("12345", start, end, opening - EPSILON)
    closing = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 17:00 local
    assert in_coverage("12345", start, end, closing - EPSILON)
    assert not in_coverage("12345", start, end, closing)
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=UTC)
    assert not in_coverage("12345", start, end, saturday)
    assert in_coverage("1234567", start, end, saturday)
    # Summer time: 08:00 local is 06:00 UTC (Monday 2026-06-01).
    assert in_coverage("1", start, end, datetime(2026, 6, 1, 6, 0, tzinfo=UTC))


def test_no_configured_hours_is_never_covered():
    monday_noon = datetime(2026, 11, 30, 11, 0, tzinfo=UTC)
    assert not in_coverage("", time(8, 0), time(17, 0), monday_noon)
    assert not in_coverage("12345", None, None, monday_noon)
    assert not in_coverage("12345", time(17, 0), time(8, 0), monday_noon)


def test_retry_pauses_grow_then_stay():
    assert [pause_after(n) for n in (1, 2, 3, 4, 5, 6, 8)] == [
        timedelta(minutes=m) for m in (1, 5, 15, 60, 240, 240, 240)
    ]
