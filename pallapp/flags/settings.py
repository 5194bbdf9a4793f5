"""Unit settings the flag rules read: which unit's settings apply, its thresholds, its
recall period and its rating intervals. The one place that turns a unit into rule input."""

from __future__ import annotations

import dataclasses
from datetime import date

from pallapp import scoring
from pallapp.models import CareUnit, Patient, Phase, User
from pallapp.timeutil import today_local


def unit_for(user: User, patient: Patient) -> CareUnit | None:
    """The unit whose settings apply: the user's own unit among the patient's, else the
    patient's longest-standing active unit."""
    episodes = sorted(patient.active_episodes(today_local()), key=lambda e: (e.start, e.unit.name))
    if user.is_staff:
        mine = {unit.id for unit in user.active_units(today_local())}
        for episode in episodes:
            if episode.unit_id in mine:
                return episode.unit
    return episodes[0].unit if episodes else None


def thresholds_for(unit: CareUnit | None) -> scoring.Thresholds:
    """The unit's flag thresholds: INSTRUMENTS.md defaults with the unit's overrides."""
    if unit is None or not unit.flag_thresholds:
        return scoring.DEFAULT_THRESHOLDS
    return scoring.Thresholds.from_mapping(unit.flag_thresholds)


def recall_period_for(unit: CareUnit | None, instrument: str) -> str | None:
    """The recall period the unit uses for `instrument` (the instrument's last one by default)."""
    periods = scoring.INSTRUMENTS[instrument].recall_periods
    if unit is not None and unit.ipos_recall_period in periods:
        return unit.ipos_recall_period
    return periods[-1] if periods else None


def interval_thresholds(units: list[CareUnit]) -> scoring.Thresholds:
    """The rating intervals of the patient's units; with several units, the shortest one
    applies, so every unit sees the same flags whoever opens the record."""
    chosen: scoring.Thresholds | None = None
    for unit in units:
        unit_thresholds = dataclasses.replace(
            thresholds_for(unit),
            assessment_interval_days=unit.assessment_interval_days,
            assessment_interval_end_of_life_days=unit.end_of_life_interval_days,
        )
        if chosen is None:
            chosen = unit_thresholds
        else:
            chosen = dataclasses.replace(
                chosen,
                assessment_interval_days=min(
                    chosen.assessment_interval_days, unit_thresholds.assessment_interval_days
                ),
                assessment_interval_end_of_life_days=min(
                    chosen.assessment_interval_end_of_life_days,
                    unit_thresholds.assessment_interval_end_of_life_days,
                ),
                roag_interval_days=min(
                    chosen.roag_interval_days, unit_thresholds.roag_interval_days
                ),
            )
    return chosen or scoring.DEFAULT_THRESHOLDS


def rating_interval_days(patient: Patient, day: date) -> int:
    """The strictest interval among the units now following the patient (end-of-life interval
    in that phase); the project default when no unit follows the patient."""
    return rating_interval_for(
        [episode.unit for episode in patient.active_episodes(day)], patient.phase
    )


def rating_interval_for(units: list[CareUnit], phase: str) -> int:
    """`rating_interval_days` of a patient in `phase` followed by `units`: lists of many
    patients work it out once for each set of units instead of once for each patient."""
    thresholds = interval_thresholds(units)
    if phase == Phase.END_OF_LIFE:
        return thresholds.assessment_interval_end_of_life_days
    return thresholds.assessment_interval_days
