"""An instrument is one entry in `INSTRUMENTS`: who answers it, where the pages show it, its
scores and its flags all follow from its definition, also for one registered after import."""

from __future__ import annotations

import pytest

from pallapp.scoring import (
    INSTRUMENTS,
    SELF_REPORTING_ROLES,
    Display,
    InvalidAnswers,
    flags_for,
    in_display_order,
    score,
)
from tests.toy_instrument import TOY, TOY_CODE, register_toy


def test_self_report_follows_the_respondents() -> None:
    assert SELF_REPORTING_ROLES == ("patient", "relative")
    assert {code for code, d in INSTRUMENTS.items() if d.self_report} == {"ipos_patient", "esas_r"}
    assert {code for code, d in INSTRUMENTS.items() if not d.self_report} == {
        "ipos_staff", "abbey", "roag",
    }


def test_display_defaults_name_the_instrument_by_its_code_and_family() -> None:
    plain = Display()
    assert (plain.purpose, plain.minutes, plain.order, plain.chart_step) == (None, None, 100, 1)
    assert (plain.chart_key, plain.chart_title, plain.heatmap_key) == (None, None, None)
    assert (plain.heatmap_title, plain.version_label) == (None, None)
    assert TOY.display.chart_key is None
    assert TOY.chart_key == TOY_CODE
    assert TOY.heatmap_key == "generic_heatmap"


def test_the_real_instruments_keep_their_page_keys() -> None:
    assert [d.chart_key for d in in_display_order()] == [
        "esas_total", "ipos_patient", "ipos_staff", "abbey", "roag",
    ]
    assert INSTRUMENTS["esas_r"].heatmap_key == "esas_heatmap"
    assert INSTRUMENTS["ipos_patient"].heatmap_key == INSTRUMENTS["ipos_staff"].heatmap_key


def test_display_order_puts_a_new_instrument_last_until_it_has_a_place(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert [d.code for d in in_display_order()] == [
        "esas_r", "ipos_patient", "ipos_staff", "abbey", "roag",
    ]
    register_toy(monkeypatch)
    assert in_display_order()[-1] is TOY


def test_a_late_instrument_is_scored_from_its_definition(monkeypatch: pytest.MonkeyPatch) -> None:
    register_toy(monkeypatch)
    # total = 2 + 1 + 0 = 3, in the toy's overall band "moderate" (2-6); items 2 severe, 1 mild,
    # 0 none by its item bands.
    s = score(TOY_CODE, {"toy_tired": 2, "toy_worried": 1, "toy_lonely": 0})
    assert (s.total, s.band) == (3, "moderate")
    assert dict(s.item_bands) == {"toy_tired": "severe", "toy_worried": "mild", "toy_lonely": "none"}
    # total = 1 + 0 + 0 = 1: band "none" (0-1).
    assert score(TOY_CODE, {"toy_tired": 1, "toy_worried": 0, "toy_lonely": 0}).band == "none"
    # Incomplete: no total, so no overall band either.
    incomplete = score(TOY_CODE, {"toy_tired": 2})
    assert (incomplete.total, incomplete.band) == (None, None)
    assert incomplete.missing == ("toy_worried", "toy_lonely")
    with pytest.raises(InvalidAnswers, match="out of range|invalid answer"):
        score(TOY_CODE, {"toy_tired": 3})


def test_a_generic_instrument_raises_no_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    register_toy(monkeypatch)
    worst = score(TOY_CODE, {"toy_tired": 2, "toy_worried": 2, "toy_lonely": 2})
    calm = score(TOY_CODE, {"toy_tired": 0, "toy_worried": 0, "toy_lonely": 0})
    assert flags_for(worst) == []
    assert flags_for(worst, calm) == []


def test_an_instrument_taken_out_again_is_unknown(monkeypatch: pytest.MonkeyPatch) -> None:
    with monkeypatch.context() as registered:
        register_toy(registered)
        assert score(TOY_CODE, {}).instrument == TOY_CODE
    assert TOY_CODE not in INSTRUMENTS
    with pytest.raises(InvalidAnswers, match="unknown instrument"):
        score(TOY_CODE, {})
