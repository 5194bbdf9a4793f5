"""`score()` and `flags_for()` against a straightforward reference implementation.

The scorer and the flag rules are written for speed (lookup tables built at import, the int
answers kept with the score, flags built without re-checking them). The reference below
follows INSTRUMENTS.md ("Common rules", "Flags") item by item, with no tables and no shortcuts;
Hypothesis feeds both the same assessments, previous assessments and thresholds, valid and
invalid, and they must agree on everything: every field of the score, the flags in order with
their items and params, and which answers are refused.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, cast

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pallapp.scoring import (
    INSTRUMENTS,
    Flag,
    InstrumentDefinition,
    InvalidAnswers,
    Score,
    Thresholds,
    flags_for,
    score,
)

from .test_properties import WRONG_TYPES, context_for, partial_answers

many = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

CODES = list(INSTRUMENTS)


class Refused(Exception):
    """The reference refuses the answers."""


# --- the reference scorer -----------------------------------------------------------------


def _valid_item_value(definition: InstrumentDefinition, item_code: str, value: object) -> bool:
    item = definition.item(item_code)
    if value is None:
        return True
    if type(value) is int:
        return item.min <= value <= item.max
    return type(value) is str and value in item.special_values


def _context_value(kind: str, value: object) -> object:
    """The stored form of a valid context value (the strategies draw only valid ones)."""
    if kind in ("choice", "text"):
        return value
    assert isinstance(value, list)
    return tuple(value) or None


def reference_score(code: str, answers: dict[str, object]) -> dict[str, object]:
    """Every field of the score as plain values, computed the long way; Refused if invalid."""
    definition = INSTRUMENTS[code]
    item_codes = [item.code for item in definition.items]
    context_kinds = {field.code: field.kind for field in definition.context_fields}
    for key in answers:
        if key not in item_codes and key not in context_kinds:
            raise Refused(key)
    for item_code in item_codes:
        if not _valid_item_value(definition, item_code, answers.get(item_code)):
            raise Refused(item_code)
    for joint in definition.joint_answers:
        given = [item for item in joint.items if answers.get(item) == joint.value]
        if 0 < len(given) < len(joint.items):
            raise Refused(joint.items)

    # The number each answer counts as: ints as they are, not_applicable as grade 1 (ROAG);
    # None, left out and cannot_assess count as nothing.
    numbers: dict[str, int] = {}
    for item_code in item_codes:
        value = answers.get(item_code)
        if type(value) is int:
            numbers[item_code] = value
        elif value == "not_applicable":
            numbers[item_code] = 1
    missing = tuple(
        item.code for item in definition.items if not item.optional and item.code not in numbers
    )

    total = None
    if definition.total_items and all(c in numbers for c in definition.total_items):
        total = sum(numbers[c] for c in definition.total_items)
    subscales: dict[str, int | None] = {}
    for sub_code, sub in definition.subscales.items():
        if all(c in numbers for c in sub.items):
            subscales[sub_code] = sum(numbers[c] for c in sub.items)
        else:
            subscales[sub_code] = None
    item_bands: dict[str, str] = {}
    for item_code in item_codes:
        value = answers.get(item_code)
        if type(value) is int:
            for item_band in definition.item_bands:
                if item_band.low <= value <= item_band.high:
                    item_bands[item_code] = item_band.name

    band: str | None = None
    max_grade: int | None = None
    areas_at: dict[int, tuple[str, ...]] = {}
    if definition.family == "roag":
        areas_at = {
            2: tuple(c for c in item_codes if numbers.get(c) == 2),
            3: tuple(c for c in item_codes if numbers.get(c) == 3),
        }
        if not missing:
            max_grade = max(numbers.values())
    by = max_grade if definition.family == "roag" else total
    if by is not None:
        for overall in definition.bands:
            if overall.low <= by <= overall.high:
                band = overall.name

    stored: dict[str, object] = {c: answers.get(c) for c in item_codes}
    for key, value in answers.items():
        if key in context_kinds and value is not None:
            normalised = _context_value(context_kinds[key], value)
            if normalised is not None:
                stored[key] = normalised
    return {
        "instrument": code,
        "total": total,
        "subscales": subscales,
        "band": band,
        "item_bands": item_bands,
        "missing": missing,
        "max_grade": max_grade,
        "areas_at": areas_at,
        "answers": stored,
    }


def _plain(result: Score) -> dict[str, object]:
    return {
        "instrument": result.instrument,
        "total": result.total,
        "subscales": dict(result.subscales),
        "band": result.band,
        "item_bands": dict(result.item_bands),
        "missing": result.missing,
        "max_grade": result.max_grade,
        "areas_at": dict(result.areas_at),
        "answers": result.plain_answers(),
    }


def _plain_reference(expected: dict[str, object]) -> dict[str, object]:
    """Stored answers as `Score.plain_answers` gives them: tuples as lists."""
    answers = expected["answers"]
    assert isinstance(answers, dict)
    plain = {code: list(v) if isinstance(v, tuple) else v for code, v in answers.items()}
    return {**expected, "answers": plain}


# --- the reference flag rules -------------------------------------------------------------

FlagTuple = tuple[str, str, tuple[str, ...], dict[str, object]]


def _int_answers(result: Score) -> dict[str, int]:
    """The items answered with an int, in item order."""
    definition = INSTRUMENTS[result.instrument]
    return {
        item.code: value
        for item in definition.items
        if type(value := result.answers.get(item.code)) is int
    }


def reference_flags(current: Score, previous: Score | None, t: Thresholds) -> list[FlagTuple]:
    """INSTRUMENTS.md "Flags", rule by rule, as (code, severity, items, params)."""
    family = INSTRUMENTS[current.instrument].family
    now = _int_answers(current)
    then = _int_answers(previous) if previous is not None else None
    flags: list[FlagTuple] = []
    if family == "ipos":
        other = cast("tuple[Mapping[str, int], ...]", current.answers.get("other_symptoms") or ())
        other_severe = any(entry["rating"] >= t.ipos_severe_item for entry in other)
        severe = []
        for item_code in INSTRUMENTS[current.instrument].item_codes:
            if item_code in now and now[item_code] >= t.ipos_severe_item:
                severe.append(item_code)
            # The free-text other symptoms are rated like Q2 and listed after its last item.
            if item_code == "poor_mobility" and other_severe:
                severe.append("other_symptoms")
        if severe:
            flags.append(("severe_item", "high", tuple(severe), {"threshold": t.ipos_severe_item}))
        if then is not None:
            risen = tuple(
                c
                for c in now
                if c in then
                and now[c] >= t.ipos_item_rise_floor
                and now[c] - then[c] >= t.ipos_item_rise
            )
            if risen:
                params = {
                    "rule": "ipos",
                    "threshold": t.ipos_item_rise,
                    "floor": t.ipos_item_rise_floor,
                }
                flags.append(("item_rise", "medium", risen, params))
    elif family == "esas_r":
        severe_t = t.esas_severe_item
        moderate_t = t.esas_moderate_item
        severe = [c for c in now if now[c] >= severe_t]
        moderate = [c for c in now if moderate_t <= now[c] < severe_t]
        if severe:
            flags.append(("severe_item", "high", tuple(severe), {"threshold": severe_t}))
        if moderate:
            params = {"threshold": moderate_t, "severe_threshold": severe_t}
            flags.append(("moderate_item", "medium", tuple(moderate), params))
        if previous is not None and then is not None:
            now_label = current.answers.get("other_label")
            then_label = previous.answers.get("other_label")
            same_other = (
                isinstance(now_label, str)
                and isinstance(then_label, str)
                and now_label.strip().casefold() == then_label.strip().casefold()
            )
            risen = tuple(
                c
                for c in now
                if c in then
                and now[c] - then[c] >= t.esas_item_rise
                and (c != "other" or same_other)
            )
            if risen:
                params = {"rule": "esas_r", "threshold": t.esas_item_rise}
                flags.append(("item_rise", "medium", risen, params))
            if (
                current.total is not None
                and previous.total is not None
                and current.total - previous.total >= t.esas_total_rise
            ):
                total_items = INSTRUMENTS["esas_r"].total_items
                up = tuple(c for c in total_items if now[c] > then[c])
                flags.append(("total_rise", "medium", up, {"threshold": t.esas_total_rise}))
    elif family == "abbey":
        observed = sum(now.values())
        items = tuple(c for c in now if now[c] > 0)
        if observed >= t.abbey_high:
            flags.append(("pain_behaviour", "high", items, {"threshold": t.abbey_high}))
        elif observed >= t.abbey_medium:
            flags.append(("pain_behaviour", "medium", items, {"threshold": t.abbey_medium}))
    else:
        at_2 = current.areas_at.get(2, ())
        at_3 = current.areas_at.get(3, ())
        items = tuple(c for c in INSTRUMENTS["roag"].item_codes if c in at_2 or c in at_3)
        if at_3:
            flags.append(("oral_health", "high", items, {"threshold": 3}))
        elif at_2:
            flags.append(("oral_health", "medium", items, {"threshold": 2}))
    return flags


def _as_tuples(flags: list[Flag]) -> list[FlagTuple]:
    return [(f.code, f.severity, f.items, dict(f.params)) for f in flags]


# --- strategies -----------------------------------------------------------------------------


@st.composite
def thresholds(draw: st.DrawFn) -> Thresholds:
    """Any thresholds a unit may set (the defaults among them)."""
    if draw(st.booleans()):
        return Thresholds()
    esas_severe = draw(st.integers(1, 10))
    abbey_high = draw(st.integers(1, 18))
    return Thresholds(
        ipos_severe_item=draw(st.integers(1, 4)),
        esas_severe_item=esas_severe,
        esas_moderate_item=draw(st.integers(1, esas_severe)),
        ipos_item_rise=draw(st.integers(1, 4)),
        ipos_item_rise_floor=draw(st.integers(1, 4)),
        esas_item_rise=draw(st.integers(1, 10)),
        esas_total_rise=draw(st.integers(1, 90)),
        abbey_high=abbey_high,
        abbey_medium=draw(st.integers(1, abbey_high)),
    )


@st.composite
def assessment(draw: st.DrawFn, code: str) -> dict[str, Any]:
    """Answers as a form sends them: items (some left out, None or special), context fields,
    and in ESAS-r an `other` problem named in one of a few spellings."""
    answers = {**draw(partial_answers(code)), **draw(context_for(code))}
    if code == "esas_r" and draw(st.booleans()):
        answers["other_label"] = draw(st.sampled_from(["Itching", " itching", "Hiccups"]))
    return answers


@st.composite
def invalid_assessment(draw: st.DrawFn, code: str) -> dict[str, Any]:
    """A valid assessment spoilt in one place: a wrong value, a lone joint answer or a key
    that is no item or field."""
    answers = draw(assessment(code))
    how = draw(st.sampled_from(["value", "joint", "key"]))
    definition = INSTRUMENTS[code]
    if how == "joint" and definition.joint_answers:
        joint = definition.joint_answers[0]
        answers[joint.items[0]] = joint.value
        answers[joint.items[1]] = draw(st.none() | st.integers(1, 3))
    elif how == "key":
        answers[draw(st.sampled_from(["Pain", "pain ", "total", "other_symptom"]))] = 1
    else:
        item = draw(st.sampled_from(definition.items))
        out_of_range = st.integers(max_value=item.min - 1) | st.integers(min_value=item.max + 1)
        answers[item.code] = draw(out_of_range | WRONG_TYPES)
    return answers


# --- the tests ------------------------------------------------------------------------------


@pytest.mark.parametrize("code", CODES)
@many
@given(data=st.data())
def test_score_agrees_with_the_reference(code: str, data: st.DataObject) -> None:
    answers = data.draw(assessment(code))
    assert _plain(score(code, answers)) == _plain_reference(reference_score(code, answers))


@pytest.mark.parametrize("code", CODES)
@many
@given(data=st.data())
def test_invalid_answers_are_refused_like_the_reference(code: str, data: st.DataObject) -> None:
    answers = data.draw(invalid_assessment(code))
    with pytest.raises(Refused):
        reference_score(code, answers)
    with pytest.raises(InvalidAnswers):
        score(code, answers)


@pytest.mark.parametrize("code", CODES)
@many
@given(data=st.data())
def test_flags_agree_with_the_reference(code: str, data: st.DataObject) -> None:
    current = score(code, data.draw(assessment(code)))
    previous = score(code, data.draw(assessment(code))) if data.draw(st.booleans()) else None
    chosen = data.draw(thresholds())
    flags = flags_for(current, previous, chosen)
    assert _as_tuples(flags) == reference_flags(current, previous, chosen)
    # The rules build their flags without Flag's checks: each must pass them all the same.
    for flag in flags:
        assert Flag(flag.code, flag.severity, flag.items, flag.params) == flag
        assert hash(Flag(flag.code, flag.severity, flag.items, flag.params)) == hash(flag)


@pytest.mark.parametrize("code", CODES)
@many
@given(data=st.data())
def test_scores_made_another_way_get_the_same_flags(code: str, data: st.DataObject) -> None:
    """A score not made by score() itself (here a copy made with `dataclasses.replace`) has
    no int answers of its own: flags_for picks them out of `answers`, with the same result."""
    current = score(code, data.draw(assessment(code)))
    previous = score(code, data.draw(assessment(code)))
    copied_current = dataclasses.replace(current)
    copied_previous = dataclasses.replace(previous)
    assert copied_current == current
    expected = flags_for(current, previous)
    assert flags_for(copied_current, copied_previous) == expected
    assert flags_for(copied_current, previous) == expected
    assert flags_for(current, copied_previous) == expected


@pytest.mark.parametrize("code", CODES)
def test_every_field_of_a_score_is_set(code: str) -> None:
    """score() builds its Score field by field: a field added to Score must be set there too."""
    result = score(code, {})
    for field in dataclasses.fields(Score):
        getattr(result, field.name)
    assert dataclasses.replace(result) == result
