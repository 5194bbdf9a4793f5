"""Every instrument in one tap per answer and one to send, on a phone and a tablet.

Counted as a person would feel it, in Swedish with touch: taps (every press of a pointer, from
the form shown to the stored record) and page loads. The form moves on by itself after a tap
that gives a step its last expected answer, so no step needs "Nästa"; the bound asked of every
instrument is taps <= items + 2. Each case checks the database afterwards: exactly one record,
holding the answers tapped.

"Before" (main before this change) took one more tap of "Nästa" at each step boundary: the
figures per instrument are in benchmarks/RESULTS.md.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from flask import Flask
from playwright.sync_api import Page, expect
from sqlalchemy import select

from pallapp.extensions import db
from pallapp.models import Assessment, Patient
from pallapp.scoring import INSTRUMENTS
from tests.e2e.pages import AssessmentFormPage, press
from tests.e2e.test_assessments import (
    ABBEY,
    ESAS,
    IPOS_MILD,
    IPOS_STAFF,
    ROAG,
    nurse_opens,
    patient_logs_in,
)
from tests.e2e.test_visit_flow import COUNT_TAPS

pytestmark = pytest.mark.e2e

OUT = Path(__file__).resolve().parents[2] / "instance" / "form-taps"
SHOTS = Path(__file__).resolve().parents[2] / "instance" / "e2e-screenshots"

# instrument code: (who answers, the link that opens the form, answers tapped, send button)
CASES: dict[str, tuple[str, str, dict[str, int | str], str]] = {
    "ipos_staff": ("nurse", "IPOS (personalversion)", IPOS_STAFF, "Spara"),
    "abbey": ("nurse", "Abbey Pain Scale (smärtskattning)", ABBEY, "Spara"),
    "roag": ("nurse", "ROAG munbedömning", ROAG, "Spara"),
    "ipos_patient": ("patient", "IPOS (patientversion)", IPOS_MILD, "Skicka"),
    "esas_r": ("patient", "ESAS-r symtomskattning", ESAS, "Skicka"),
}


@pytest.fixture(params=["phone", "tablet"])
def device(request: pytest.FixtureRequest) -> Page:
    return request.getfixturevalue(request.param)


def stored_assessments(live_app: Flask, public_id: str) -> list[tuple[str, dict[str, object]]]:
    """(instrument, answers) of every assessment of the patient, oldest first."""
    with live_app.app_context():
        patient = db.session.scalar(select(Patient).where(Patient.public_id == public_id))
        rows = db.session.scalars(
            select(Assessment).where(Assessment.patient_id == patient.id).order_by(Assessment.id)
        ).all()
        result = [(row.instrument, dict(row.answers)) for row in rows]
        db.session.remove()
        return result


def as_stored(code: str, tapped: dict[str, int | str]) -> dict[str, object]:
    """The answers a record holds after these taps: every item (None where not tapped) and
    the context choices tapped."""
    answers: dict[str, object] = {
        item.code: tapped.get(f"item_{item.code}") for item in INSTRUMENTS[code].items
    }
    answers.update(
        {name.removeprefix("ctx_"): value for name, value in tapped.items()
         if name.startswith("ctx_")}
    )
    return answers


def open_form(page: Page, live_server: str, fresh_patient, who: str, title: str) -> AssessmentFormPage:  # type: ignore[no-untyped-def]
    if who == "nurse":
        return nurse_opens(page, live_server, fresh_patient).start_assessment(title)
    return patient_logs_in(page, live_server, fresh_patient).start_self_report(title)


@pytest.mark.parametrize("code", list(CASES))
def test_every_answer_is_one_tap_and_sending_one_more(
    live_app, live_server, device, fresh_patient, code
):
    who, title, answers, send = CASES[code]
    device.context.add_init_script(COUNT_TAPS)
    form = open_form(device, live_server, fresh_patient, who, title)
    loads: list[int] = []
    device.on("load", lambda _: loads.append(1))
    device.evaluate("sessionStorage.setItem('taps', '0')")
    steps = device.locator("section.step").count()

    form.answer(answers, touch=True).submit(send, touch=True)
    expect(device.get_by_role("heading", level=1)).to_have_text(title)
    expect(device.locator("form[data-assessment]")).to_have_count(0)
    taps = int(device.evaluate("sessionStorage.getItem('taps')"))

    items = sum(1 for item in INSTRUMENTS[code].items if not item.optional)
    # One tap per answer (items and the choices tapped), one to send; no "Nästa".
    assert taps == len(answers) + 1
    assert taps <= items + 2
    assert len(loads) == 1  # the result page
    assert stored_assessments(live_app, fresh_patient.public_id) == [
        (code, as_stored(code, answers))
    ]
    OUT.mkdir(parents=True, exist_ok=True)
    width = device.viewport_size["width"]
    figures = {"instrument": code, "viewport": f"{width}x{device.viewport_size['height']}",
               "items": items, "steps": steps, "answers_tapped": len(answers), "taps": taps,
               "loads": len(loads), "taps_before": len(answers) + (steps - 1) + 1}
    (OUT / f"{code}-{width}.json").write_text(json.dumps(figures, indent=2))
    print(figures)


def test_a_changed_answer_and_the_keyboard_stay_on_the_step(
    live_app, live_server, device, fresh_patient
):
    """Moving on follows a first answer tapped; a changed answer or a key never moves."""
    form = nurse_opens(device, live_server, fresh_patient).start_assessment(
        "IPOS (personalversion)"
    )
    steps = device.locator("section.step")
    first, second = steps.nth(0), steps.nth(1)
    advancing = device.locator("form[data-assessment][data-advancing]")
    expect(device.get_by_text("Efter varje svar du trycker på går formuläret vidare.")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    width = device.viewport_size["width"]
    device.screenshot(path=str(SHOTS / f"taps-step-1-{width}.png"))
    first_step_items = {
        name: value for name, value in IPOS_STAFF.items() if first.locator(f"#{name}-group").count()
    }
    second_step_items = {
        name: value for name, value in IPOS_STAFF.items()
        if second.locator(f"#{name}-group").count()
    }
    # The optional blocks of step 1 (main problems, other symptoms) are not waited for.
    for name, value in first_step_items.items():
        press(first.locator(f"#{name}-group label:has(input[value='{value}'])"), touch=True)
    expect(second).to_be_visible()
    expect(first).to_be_hidden()
    # The step change is announced: focus is on the new step's heading.
    expect(second.locator(".step-heading")).to_be_focused()
    expect(second.locator(".step-heading")).to_have_text(
        "Steg 2 av 3: Känslor och oro"
    )
    device.screenshot(path=str(SHOTS / f"taps-moved-on-{width}.png"))

    # The way back is at the top of the step; a changed answer there stays on step 1.
    top_back = second.get_by_role("button", name="Tillbaka").first
    expect(top_back).to_be_in_viewport()
    press(top_back, touch=True)
    expect(first).to_be_visible()
    expect(first.locator(".step-heading")).to_be_focused()
    press(first.locator("#item_pain-group label:has(input[value='1'])"), touch=True)
    expect(advancing).to_have_count(0)
    expect(first).to_be_visible()
    press(first.get_by_role("button", name="Nästa"), touch=True)

    # On step 2, the last answer given with the keyboard completes the step but stays there.
    *tapped, (last_name, last_value) = second_step_items.items()
    for name, value in tapped:
        press(second.locator(f"#{name}-group label:has(input[value='{value}'])"), touch=True)
    expect(second).to_be_visible()
    # Arrow keys choose as they move (a first answer that completes the step), Space too.
    last_group = second.locator(f"#{last_name}-group")
    last_group.locator("input[type=radio]").first.focus()
    device.keyboard.press("ArrowRight")
    expect(last_group.locator("input[value='1']")).to_be_checked()
    expect(advancing).to_have_count(0)
    expect(second).to_be_visible()
    last_group.locator(f"input[value='{last_value}']").focus()
    device.keyboard.press("Space")
    expect(last_group.locator(f"input[value='{last_value}']")).to_be_checked()
    expect(advancing).to_have_count(0)
    expect(second).to_be_visible()
    press(second.get_by_role("button", name="Nästa"), touch=True)

    form.answer(
        {name: value for name, value in IPOS_STAFF.items()
         if name not in first_step_items and name not in second_step_items},
        touch=True,
    ).submit("Spara", touch=True)
    expect(device.get_by_role("heading", level=1)).to_have_text("IPOS (personalversion)")
    # The changed answer is the one stored, once.
    assert stored_assessments(live_app, fresh_patient.public_id) == [
        ("ipos_staff", as_stored("ipos_staff", IPOS_STAFF | {"item_pain": 1}))
    ]
