"""The reporting plan and the one rule for "due" and "overdue". Pure: no Flask, no database.

A plan is a tuple of lines: which instrument, who answers it, how often. The unit's defaults
depend on the patient's phase; staff may give a patient a plan of their own (with a reason).

Due and overdue (one rule, used by the start page and the reminder job):
- a line is *due* from `last + interval` (the moment the `assessment_overdue` rule of
  INSTRUMENTS.md starts to hold: no rating in the half-open window (now - interval, now]);
  a line never answered is due at once;
- it is *overdue* once it has been due for `OVERDUE_AFTER` (one day, a project choice: the day
  a reminder had to get an answer) without a report.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from pallapp import scoring

#: A line is overdue when it has been due this long (project choice, see the module docstring).
OVERDUE_AFTER = timedelta(days=1)

#: Instruments that count as a symptom rating: any of them answers a symptom-rating line
#: (INSTRUMENTS.md `assessment_overdue`).
SYMPTOM_RATING = scoring.SYMPTOM_INSTRUMENTS

PATIENT = "patient"
RELATIVE = "relative"
STAFF = "staff"


@dataclass(frozen=True)
class PlanLine:
    """Report `instrument` every `interval_days`, answered by `respondent` (a relative may
    answer for the patient when `relative_may_answer`)."""

    instrument: str
    respondent: str
    interval_days: int
    relative_may_answer: bool = False

    @property
    def answered_by(self) -> frozenset[str]:
        """Which stored instruments answer this line."""
        if self.instrument in SYMPTOM_RATING:
            return SYMPTOM_RATING
        return frozenset({self.instrument})

    @property
    def is_self_report(self) -> bool:
        return self.respondent in (PATIENT, RELATIVE)


def default_plan(
    phase: str, *, interval_days: int, end_of_life_interval_days: int, roag_interval_days: int = 7
) -> tuple[PlanLine, ...]:
    """The unit's default plan for a patient in `phase`.

    Early palliative phase: ESAS-r by the patient at the unit's interval (default weekly), a
    relative may answer. End-of-life phase: the patient can rarely self-report, so staff rate
    with IPOS (staff version) at the end-of-life interval (default every 2 days) and ROAG weekly
    (INSTRUMENTS.md, national target for a documented mouth assessment). Deceased and
    discharged patients have no plan.
    """
    if phase == "early":
        return (PlanLine("esas_r", PATIENT, interval_days, relative_may_answer=True),)
    if phase == "end_of_life":
        return (
            PlanLine("ipos_staff", STAFF, end_of_life_interval_days),
            PlanLine("roag", STAFF, roag_interval_days),
        )
    return ()


@dataclass(frozen=True)
class LineStatus:
    line: PlanLine
    due_at: datetime
    is_due: bool
    is_overdue: bool

    @property
    def minutes(self) -> int | None:
        """Minutes the form usually takes, shown on the start page (`Display.minutes`)."""
        definition = scoring.INSTRUMENTS.get(self.line.instrument)
        return definition.display.minutes if definition else None


def line_status(
    line: PlanLine, latest: Mapping[str, datetime], now: datetime, *, since: datetime
) -> LineStatus:
    """Where `line` stands at `now`, given the latest observation per instrument (`latest`).

    `since`: when the plan began to apply (enrolment, or the phase change); a line with no
    answer is due from then. Observations after `now` do not count (entered for later).
    """
    answered = [
        moment for code, moment in latest.items() if code in line.answered_by and moment <= now
    ]
    due_at = max(answered) + timedelta(days=line.interval_days) if answered else since
    return LineStatus(
        line=line,
        due_at=due_at,
        is_due=now >= due_at,
        is_overdue=now >= due_at + OVERDUE_AFTER,
    )


def plan_status(
    lines: Iterable[PlanLine], latest: Mapping[str, datetime], now: datetime, *, since: datetime
) -> list[LineStatus]:
    """`line_status` of every line, in plan order."""
    return [line_status(line, latest, now, since=since) for line in lines]
