"""Property-based tests (Hypothesis) over every instrument."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pallapp.scoring import INSTRUMENTS, Flag, InvalidAnswers, flags_for, score

# No example database (nothing written to the working tree), no timing flakiness.
fast = settings(
    max_examples=75,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

CODES = list(INSTRUMENTS)
ITEM_BAND_RANK = {"none": 0, "mild": 1, "moderate": 2, "severe": 3}
ABBEY_BAND_RANK = {"none": 0, "mild": 1, "moderate": 2, "severe": 3}
ROAG_BAND_RANK = {"healthy": 0, "moderate": 1, "severe": 2}
SEVERITY_RANK = {"info": 0, "medium": 1, "high": 2}


def _joint_specials(code: str, item_code: str) -> set[str]:
    """The special values `item_code` takes only together with other items (ROAG teeth, gums)."""
    return {j.value for j in INSTRUMENTS[code].joint_answers if item_code in j.items}


def _item_value(code: str, item_code: str, *, with_specials: bool = True) -> st.SearchStrategy[Any]:
    """A valid answer for this one item on its own (never a special it takes only jointly)."""
    item = INSTRUMENTS[code].item(item_code)
    values: st.SearchStrategy[Any] = st.integers(item.min, item.max)
    alone = [v for v in item.special_values if v not in _joint_specials(code, item_code)]
    if with_specials and alone:
        values = values | st.sampled_from(alone)
    return values


def _with_joint_answers(draw: st.DrawFn, code: str, answers: dict[str, Any]) -> dict[str, Any]:
    """Sometimes give a joint answer (ROAG no own teeth) to all of its items together."""
    for joint in INSTRUMENTS[code].joint_answers:
        if draw(st.booleans()):
            answers.update(dict.fromkeys(joint.items, joint.value))
    return answers


@st.composite
def complete_answers(draw: st.DrawFn, code: str) -> dict[str, Any]:
    """Every item answered with an int (optional items sometimes left out)."""
    answers: dict[str, Any] = {}
    for item in INSTRUMENTS[code].items:
        if item.optional and draw(st.booleans()):
            continue
        answers[item.code] = draw(st.integers(item.min, item.max))
    return answers


@st.composite
def partial_answers(draw: st.DrawFn, code: str) -> dict[str, Any]:
    """Any mix of answered, None, left-out and special values."""
    answers: dict[str, Any] = {}
    for item in INSTRUMENTS[code].items:
        choice = draw(st.sampled_from(["value", "none", "absent"]))
        if choice == "value":
            answers[item.code] = draw(_item_value(code, item.code))
        elif choice == "none":
            answers[item.code] = None
    return _with_joint_answers(draw, code, answers)


@st.composite
def context_for(draw: st.DrawFn, code: str) -> dict[str, Any]:
    """Valid context fields (labels from a fixed list: no random unicode needed)."""
    labels = st.sampled_from(["Itching", "Hiccups", "Pain at night", "Fatigue"])
    context: dict[str, Any] = {}
    for field in INSTRUMENTS[code].context_fields:
        if draw(st.booleans()):
            continue
        if field.kind == "choice":
            context[field.code] = draw(st.sampled_from([c for c, _label in field.choices]))
        elif field.kind == "text":
            context[field.code] = draw(labels)
        elif field.kind == "text_list":
            context[field.code] = draw(st.lists(labels, max_size=field.max_entries))
        else:
            entry = st.fixed_dictionaries(
                {"label": labels, "rating": st.integers(field.rating_min, field.rating_max)}
            )
            context[field.code] = draw(st.lists(entry, max_size=field.max_entries))
    return context


# --- totals -------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [c for c in CODES if INSTRUMENTS[c].total_items])
@fast
@given(data=st.data())
def test_complete_total_is_the_sum_of_its_items(code: str, data: st.DataObject) -> None:
    answers = data.draw(complete_answers(code))
    s = score(code, answers)
    definition = INSTRUMENTS[code]
    assert s.total == sum(answers[c] for c in definition.total_items)
    for sub_code, sub in definition.subscales.items():
        assert s.subscales[sub_code] == sum(answers[c] for c in sub.items)
    assert s.missing == ()
    assert s.total is not None
    assert definition.total_min is not None
    assert definition.total_max is not None
    assert definition.total_min <= s.total <= definition.total_max


@pytest.mark.parametrize("code", CODES)
@fast
@given(data=st.data())
def test_partial_answers_never_impute(code: str, data: st.DataObject) -> None:
    answers = data.draw(partial_answers(code))
    s = score(code, {**answers, **data.draw(context_for(code))})
    definition = INSTRUMENTS[code]
    numeric = {c: v for c, v in answers.items() if type(v) is int}
    if code == "roag":
        # no dentures, and no own teeth (teeth and gums), count as grade 1
        numeric.update({c: 1 for c, v in answers.items() if v == "not_applicable"})
    expected_missing = tuple(
        item.code for item in definition.items if item.code not in numeric and not item.optional
    )
    assert s.missing == expected_missing
    for item in definition.items:
        assert s.answers[item.code] == answers.get(item.code)
    if definition.total_items:
        complete = all(c in numeric for c in definition.total_items)
        assert s.total == (sum(numeric[c] for c in definition.total_items) if complete else None)
    for sub_code, sub in definition.subscales.items():
        complete = all(c in numeric for c in sub.items)
        assert s.subscales[sub_code] == (sum(numeric[c] for c in sub.items) if complete else None)
    if definition.item_bands:
        assert set(s.item_bands) == {c for c, v in answers.items() if type(v) is int}


@fast
@given(data=st.data())
def test_cannot_assess_scores_exactly_like_missing(data: st.DataObject) -> None:
    answers = data.draw(partial_answers("ipos_staff"))
    as_missing = {c: (None if v == "cannot_assess" else v) for c, v in answers.items()}
    a = score("ipos_staff", answers)
    b = score("ipos_staff", as_missing)
    assert (a.total, a.subscales, a.item_bands, a.missing) == (
        b.total,
        b.subscales,
        b.item_bands,
        b.missing,
    )


# --- bands are monotone -------------------------------------------------------------------


@pytest.mark.parametrize("code", ["ipos_patient", "ipos_staff", "esas_r"])
@fast
@given(data=st.data())
def test_item_bands_are_monotone(code: str, data: st.DataObject) -> None:
    item = data.draw(st.sampled_from(INSTRUMENTS[code].items))
    low = data.draw(st.integers(item.min, item.max))
    high = data.draw(st.integers(low, item.max))
    band_low = score(code, {item.code: low}).item_bands[item.code]
    band_high = score(code, {item.code: high}).item_bands[item.code]
    assert ITEM_BAND_RANK[band_low] <= ITEM_BAND_RANK[band_high]


@fast
@given(a=complete_answers("abbey"), b=complete_answers("abbey"))
def test_abbey_band_is_monotone_in_the_total(a: dict[str, int], b: dict[str, int]) -> None:
    sa, sb = score("abbey", a), score("abbey", b)
    assert sa.total is not None
    assert sb.total is not None
    assert sa.band is not None
    assert sb.band is not None
    if sa.total <= sb.total:
        assert ABBEY_BAND_RANK[sa.band] <= ABBEY_BAND_RANK[sb.band]
    else:
        assert ABBEY_BAND_RANK[sa.band] >= ABBEY_BAND_RANK[sb.band]


@fast
@given(a=complete_answers("roag"), b=complete_answers("roag"))
def test_roag_band_is_monotone_in_max_grade(a: dict[str, int], b: dict[str, int]) -> None:
    sa, sb = score("roag", a), score("roag", b)
    assert sa.max_grade == max(a.values())
    assert sa.band is not None
    assert sb.band is not None
    assert sb.max_grade is not None
    if sa.max_grade <= sb.max_grade:
        assert ROAG_BAND_RANK[sa.band] <= ROAG_BAND_RANK[sb.band]
    assert sa.areas_at[2] == tuple(c for c, v in a.items() if v == 2)
    assert sa.areas_at[3] == tuple(c for c, v in a.items() if v == 3)


# --- invalid values are rejected ----------------------------------------------------------

WRONG_TYPES: st.SearchStrategy[Any] = st.one_of(
    st.booleans(),
    st.floats(allow_nan=True),
    st.integers().map(str),
    st.sampled_from(["", "none", "severe", "N/A", "cannot assess", "NOT_APPLICABLE"]),
    st.lists(st.integers(0, 3), max_size=2),
    st.tuples(st.integers(0, 3)),
    st.dictionaries(st.sampled_from(["value"]), st.integers(0, 3)),
    st.binary(max_size=2),
    st.complex_numbers(max_magnitude=5),
)


@st.composite
def invalid_value(draw: st.DrawFn, code: str, item_code: str) -> Any:
    item = INSTRUMENTS[code].item(item_code)
    out_of_range = st.integers(max_value=item.min - 1) | st.integers(min_value=item.max + 1)
    # WRONG_TYPES never draws an exact special value ("cannot_assess", "not_applicable").
    return draw(out_of_range | WRONG_TYPES)


@pytest.mark.parametrize("code", CODES)
@fast
@given(data=st.data())
def test_any_out_of_range_or_wrongly_typed_value_is_rejected(
    code: str, data: st.DataObject
) -> None:
    answers = data.draw(partial_answers(code))
    item_code = data.draw(st.sampled_from(INSTRUMENTS[code].item_codes))
    bad = data.draw(invalid_value(code, item_code))
    answers[item_code] = bad
    with pytest.raises(InvalidAnswers) as caught:
        score(code, answers)
    assert caught.value.item == item_code
    assert caught.value.value is bad


@pytest.mark.parametrize("code", CODES)
@fast
@given(data=st.data())
def test_special_values_are_rejected_where_they_do_not_belong(
    code: str, data: st.DataObject
) -> None:
    item = data.draw(st.sampled_from(INSTRUMENTS[code].items))
    special = data.draw(st.sampled_from(["cannot_assess", "not_applicable"]))
    joint = [j.items for j in INSTRUMENTS[code].joint_answers if item.code in j.items]
    if special in item.special_values and joint:
        # Only together with its partners: alone it is refused, with them accepted.
        with pytest.raises(InvalidAnswers):
            score(code, {item.code: special})
        score(code, dict.fromkeys(joint[0], special))
    elif special in item.special_values:
        score(code, {item.code: special})
    else:
        with pytest.raises(InvalidAnswers):
            score(code, {item.code: special})


# --- adding an answer never removes an unrelated flag -------------------------------------


def _covered(before: Flag, after: list[Flag]) -> bool:
    """`before` is still raised in `after`: same code, at least its items and severity."""
    return any(
        flag.code == before.code
        and set(before.items) <= set(flag.items)
        and SEVERITY_RANK[flag.severity] >= SEVERITY_RANK[before.severity]
        for flag in after
    )


@pytest.mark.parametrize("code", CODES)
@fast
@given(data=st.data())
def test_adding_a_missing_answer_never_removes_a_flag(code: str, data: st.DataObject) -> None:
    answers = data.draw(partial_answers(code))
    context = data.draw(context_for(code))
    previous = None
    if data.draw(st.booleans()):
        previous = score(code, data.draw(partial_answers(code)))
    current = score(code, {**answers, **context})
    if not current.missing:
        return
    item_code = data.draw(st.sampled_from(current.missing))
    filled = dict(answers, **{item_code: data.draw(_item_value(code, item_code))})
    before = flags_for(current, previous)
    after = flags_for(score(code, {**filled, **context}), previous)
    for flag in before:
        assert _covered(flag, after), (flag, after)
