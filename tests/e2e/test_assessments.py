"""Every instrument filled in a real browser, in Swedish, on a phone and on a tablet.

Each test uses a new patient with no earlier ratings, so the flags expected follow from its own
answers only (no `item_rise` or `total_rise`). Expected scores are worked out by hand from
../shared/INSTRUMENTS.md; the arithmetic is written next to each one.
"""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.pages import AssessmentFormPage, LoginPage, PatientPage, ResultPage, StartPage
from tests.e2e.test_nurse_phone import serious_violations

pytestmark = pytest.mark.e2e

DEMO_PASSWORD = "pallapp-demo"
# The demo units' phone numbers (pallapp/demo.py): the call-now box must show them.
TEAM_PHONE = "023-49 00 00"
HOME_CARE_PHONE = "0243-74 00 00"

# ESAS-r: every item 0-10, bands 0 none, 1-3 mild, 4-6 moderate, 7-10 severe.
ESAS = {
    "item_pain": 8,
    "item_tiredness": 5,
    "item_drowsiness": 2,
    "item_nausea": 0,
    "item_lack_of_appetite": 3,
    "item_shortness_of_breath": 1,
    "item_depression": 2,
    "item_anxiety": 4,
    "item_wellbeing": 3,
}
ESAS_TOTAL = "28 av 90"  # 8+5+2+0+3+1+2+4+3 = 28
ESAS_PHYSICAL = "19 av 60"  # pain..shortness_of_breath: 8+5+2+0+3+1 = 19
ESAS_EMOTIONAL = "6 av 20"  # depression + anxiety: 2+4 = 6

# IPOS patient version, all items at most 2: nothing severe.
IPOS_MILD = {
    "item_pain": 2,
    "item_shortness_of_breath": 1,
    "item_weakness": 2,
    "item_nausea": 0,
    "item_vomiting": 0,
    "item_poor_appetite": 1,
    "item_constipation": 1,
    "item_sore_dry_mouth": 2,
    "item_drowsiness": 1,
    "item_poor_mobility": 2,
    "item_patient_anxiety": 2,
    "item_family_anxiety": 1,
    "item_depression": 1,
    "item_at_peace": 1,
    "item_sharing_feelings": 0,
    "item_information": 1,
    "item_practical_problems": 0,
    "ctx_completed_with": "with_relative",
}
IPOS_MILD_PHYSICAL = "12 av 40"  # 2+1+2+0+0+1+1+2+1+2 = 12
IPOS_MILD_EMOTIONAL = "5 av 16"  # 2+1+1+1 = 5
IPOS_MILD_COMMUNICATION = "1 av 12"  # 0+1+0 = 1
IPOS_MILD_TOTAL = "18 av 68"  # 12+5+1 = 18

# IPOS staff version with two items the nurse cannot assess.
IPOS_STAFF = {
    "item_pain": 3,
    "item_shortness_of_breath": 2,
    "item_weakness": 3,
    "item_nausea": 1,
    "item_vomiting": 0,
    "item_poor_appetite": 2,
    "item_constipation": 1,
    "item_sore_dry_mouth": 2,
    "item_drowsiness": 2,
    "item_poor_mobility": 3,
    "item_patient_anxiety": 2,
    "item_family_anxiety": 3,
    "item_depression": 1,
    "item_at_peace": 2,
    "item_sharing_feelings": "cannot_assess",
    "item_information": "cannot_assess",
    "item_practical_problems": 1,
}
IPOS_STAFF_PHYSICAL = "19 av 40"  # 3+2+3+1+0+2+1+2+2+3 = 19
IPOS_STAFF_EMOTIONAL = "8 av 16"  # 2+3+1+2 = 8
# Communication and the total need sharing_feelings and information: no imputation.

# Abbey: six items 0-3; total 0-2 no pain, 3-7 mild, 8-13 moderate, 14-18 severe.
ABBEY = {
    "item_vocalisation": 2,
    "item_facial_expression": 2,
    "item_body_language": 1,
    "item_behaviour": 1,
    "item_physiological": 1,
    "item_physical": 0,
    "ctx_pain_type": "acute",
}
ABBEY_TOTAL = "7 av 18"  # 2+2+1+1+1+0 = 7: the top of the mild band (3-7)

# ROAG: grades 1-3 per area; any 3 is severe. No dentures needed counts as grade 1.
ROAG = {
    "item_voice": 1,
    "item_lips": 2,
    "item_mucous_membranes": 1,
    "item_tongue": 2,
    "item_gums": 1,
    "item_teeth": 1,
    "item_dentures": "not_applicable",
    "item_saliva": 3,
    "item_swallowing": 1,
}


@pytest.fixture(params=["phone", "tablet"])
def device(request: pytest.FixtureRequest) -> Page:
    return request.getfixturevalue(request.param)


def assert_fits_width(page: Page) -> None:
    width = page.viewport_size["width"]
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def nurse_opens(page: Page, live_server: str, fresh_patient) -> PatientPage:  # type: ignore[no-untyped-def]
    today = LoginPage(page, live_server).open().log_in("nurse@example.org", DEMO_PASSWORD)
    today.expect_loaded().search(fresh_patient.family_name)
    patient = today.open_patient(fresh_patient.family_name)
    assert patient.heading() == fresh_patient.name
    return patient


def patient_logs_in(page: Page, live_server: str, fresh_patient) -> StartPage:  # type: ignore[no-untyped-def]
    login = LoginPage(page, live_server).open()
    page.get_by_label("E-post").fill(fresh_patient.email)
    page.get_by_label("Lösenord").fill(fresh_patient.password)
    page.get_by_role("button", name="Logga in").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Hej")
    assert login.page.url.endswith("/start")
    return StartPage(page, live_server)


def fill_checked(form: AssessmentFormPage, answers: dict[str, int | str]) -> None:
    page = form.page
    assert serious_violations(page) == []
    assert_fits_width(page)
    form.answer(answers)


def result_checked(result: ResultPage, title: str) -> None:
    page = result.page
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    assert serious_violations(page) == []
    assert_fits_width(page)


def test_patient_self_reports_esas_and_is_told_whom_to_call(live_server, device, fresh_patient):
    form = patient_logs_in(device, live_server, fresh_patient).start_self_report(
        "ESAS-r symtomskattning"
    )
    fill_checked(form, ESAS)
    result = form.submit("Skicka")
    result_checked(result, "ESAS-r symtomskattning")

    # Pain 8 is in the severe band (7-10): the page says plainly to call, with both numbers.
    call_now = device.get_by_role("alert").filter(has_text="Kontakta ditt vårdteam nu")
    expect(call_now).to_be_visible()
    expect(call_now.get_by_role("link", name=f"Ring Specialiserad palliativ vård Dalarna: {TEAM_PHONE}")).to_have_attribute("href", "tel:023490000")
    expect(call_now.get_by_role("link", name=f"Ring Hemsjukvården Borlänge: {HOME_CARE_PHONE}")).to_be_visible()
    assert result.score("Total symtombörda") == ESAS_TOTAL
    assert result.answer_band("Smärta") == "Svåra besvär"
    assert result.answer_band("Oro/ångest") == "Måttliga besvär"  # anxiety 4: moderate (4-6)
    # Flags are for the care team; the patient is not shown them.
    assert result.flag_titles() == []


def test_esas_on_a_phone_asks_about_now_with_each_items_own_anchors(
    live_server, phone, fresh_patient, tmp_path
):
    """The revised ESAS-r as a patient sees it, one step at a time on a 375 px phone."""
    form = patient_logs_in(phone, live_server, fresh_patient).start_self_report(
        "ESAS-r symtomskattning"
    )
    steps = phone.locator("section.step")
    first, second = steps.nth(0), steps.nth(1)
    expect(first.get_by_text("Skatta hur du mår just nu")).to_be_visible()
    pain = first.locator("#item_pain-group")
    expect(pain.get_by_text("0 = Ingen smärta")).to_be_visible()
    expect(pain.get_by_text("10 = Värsta tänkbara smärta")).to_be_visible()
    tiredness = first.locator("#item_tiredness-group")
    expect(tiredness.get_by_text("0 = Ingen trötthet")).to_be_visible()
    expect(tiredness.get_by_text("Trötthet betyder brist på energi och ork.")).to_be_visible()
    expect(first.locator("#item_drowsiness-group .item-label")).to_have_text("Sömnighet")
    assert serious_violations(phone) == []
    assert_fits_width(phone)
    phone.screenshot(path=str(tmp_path / "esas-step-1.png"), full_page=True)

    first.get_by_role("button", name="Nästa").click()
    expect(second.get_by_text("Skatta hur du mår just nu")).to_be_visible()
    wellbeing = second.locator("#item_wellbeing-group")
    expect(wellbeing.get_by_text("0 = Bästa tänkbara välmående")).to_be_visible()
    expect(wellbeing.get_by_text("10 = Sämsta tänkbara välmående")).to_be_visible()
    expect(wellbeing.get_by_text("Välmående betyder hur du mår på det hela taget.")).to_be_visible()
    assert_fits_width(phone)
    phone.screenshot(path=str(tmp_path / "esas-step-2.png"), full_page=True)
    # The 10 of pain is a button whose accessible name carries its anchor.
    expect(
        pain.get_by_role("radio", name="10 Värsta tänkbara smärta", include_hidden=True)
    ).to_have_count(1)
    assert form.step_headings()[1].startswith("Steg 2 av 2")


def test_patient_self_reports_ipos_with_nothing_severe(live_server, device, fresh_patient):
    form = patient_logs_in(device, live_server, fresh_patient).start_self_report(
        "IPOS (patientversion)"
    )
    assert form.step_headings()[0].startswith("Steg 1 av ")
    fill_checked(form, IPOS_MILD)
    result = form.submit("Skicka")
    result_checked(result, "IPOS (patientversion)")

    expect(device.get_by_text("Tack! Dina svar är sparade och ditt vårdteam kan se dem.")).to_be_visible()
    expect(device.get_by_text("Kontakta ditt vårdteam nu")).to_have_count(0)
    assert result.score("Fysiska symtom") == IPOS_MILD_PHYSICAL
    assert result.score("Emotionella besvär") == IPOS_MILD_EMOTIONAL
    assert result.score("Kommunikation och praktiska frågor") == IPOS_MILD_COMMUNICATION
    assert result.score("Totalpoäng") == IPOS_MILD_TOTAL
    assert result.answer_band("Smärta") == "Måttliga besvär"  # IPOS item 2: moderate


def test_nurse_enters_esas_answered_by_the_patient(live_server, device, fresh_patient):
    form = nurse_opens(device, live_server, fresh_patient).start_assessment(
        "ESAS-r symtomskattning"
    )
    fill_checked(form, ESAS)
    result = form.submit("Spara")
    result_checked(result, "ESAS-r symtomskattning")

    expect(
        device.get_by_text("Infört av Sara Lind, sjuksköterska (personal) efter patientens svar")
    ).to_be_visible()
    assert result.score("Total symtombörda") == ESAS_TOTAL
    assert result.score("Fysiska symtom") == ESAS_PHYSICAL
    assert result.score("Emotionella symtom") == ESAS_EMOTIONAL
    # Pain 8 >= 7: severe_item (high); tiredness 5 and anxiety 4 in 4-6: moderate_item.
    assert result.flag_titles() == ["Svårt symtom", "Måttligt symtom"]


def test_nurse_rates_ipos_staff_with_cannot_assess(live_server, device, fresh_patient):
    form = nurse_opens(device, live_server, fresh_patient).start_assessment(
        "IPOS (personalversion)"
    )
    # The special answer is a radio with a name of its own (its step is not shown yet).
    sharing = device.locator("#item_sharing_feelings-group")
    expect(
        sharing.get_by_role("radio", name="Kan inte bedömas", include_hidden=True)
    ).to_have_count(1)
    fill_checked(form, IPOS_STAFF)
    result = form.submit("Spara")
    result_checked(result, "IPOS (personalversion)")

    assert result.score("Fysiska symtom") == IPOS_STAFF_PHYSICAL
    assert result.score("Emotionella besvär") == IPOS_STAFF_EMOTIONAL
    not_computed = "inte beräknad: alla frågor besvarades inte"
    assert result.score("Kommunikation och praktiska frågor") == not_computed
    assert result.score("Totalpoäng") == not_computed
    # Items at 3 (pain, weakness, poor mobility, family anxiety): one severe_item flag.
    assert result.flag_titles() == ["Svårt symtom"]
    expect(device.get_by_role("cell", name="Kan inte bedömas")).to_have_count(2)


def test_nurse_rates_abbey_with_pain_type(live_server, device, fresh_patient):
    form = nurse_opens(device, live_server, fresh_patient).start_assessment(
        "Abbey Pain Scale (smärtskattning)"
    )
    fill_checked(form, ABBEY)
    result = form.submit("Spara")
    result_checked(result, "Abbey Pain Scale (smärtskattning)")

    assert result.score("Resultat") == "Mild smärta"  # Svenska palliativregistret's band name
    assert result.score("Totalpoäng") == ABBEY_TOTAL
    # Total 3-7: pain_behaviour at medium priority.
    assert result.flag_titles() == ["Tecken på smärta"]
    expect(device.locator(".flag .severity")).to_have_text("Medelhög prioritet")
    expect(device.get_by_role("cell", name="Akut")).to_be_visible()


def test_nurse_rates_roag_without_dentures(live_server, device, fresh_patient):
    form = nurse_opens(device, live_server, fresh_patient).start_assessment(
        "ROAG munbedömning"
    )
    fill_checked(form, ROAG)
    result = form.submit("Spara")
    result_checked(result, "ROAG munbedömning")

    # Saliva at grade 3: severe; oral_health flag at high priority.
    assert result.score("Resultat") == "Allvarliga munhälsoproblem"
    assert result.flag_titles() == ["Munhälsoproblem"]
    expect(device.locator(".flag .severity")).to_have_text("Hög prioritet")
    expect(device.get_by_role("cell", name="Ej aktuellt (ingen protes)")).to_be_visible()


def test_nurse_rates_roag_for_a_person_with_no_own_teeth(live_server, device, fresh_patient):
    form = nurse_opens(device, live_server, fresh_patient).start_assessment(
        "ROAG munbedömning"
    )
    no_teeth = "Inga egna tänder (tänder och tandkött bedöms inte)"
    # Chosen on gums only, with teeth graded: nothing is saved, and teeth says why.
    fill_checked(form, dict(ROAG, item_gums="not_applicable", item_dentures=1))
    form.page.get_by_role("button", name="Spara", exact=True).click()
    error = device.locator("#item_teeth-error")
    expect(error).to_contain_text("Den som saknar egna tänder har inte heller något tandkött")
    assert device.url.endswith("/assessments/new/roag")  # still the form: nothing was saved
    expect(device.locator("#item_gums-group input[value='not_applicable']")).to_be_checked()
    expect(device.locator("#item_gums-group")).to_contain_text(no_teeth)
    # Chosen on teeth too: saved. Lips 2, tongue 2, saliva 3, the rest 1 (teeth and gums count
    # as 1): max(1, 2, 1, 2, 1, 1, 1, 3, 1) = 3, severe.
    device.locator("#item_teeth-group label:has(input[value='not_applicable'])").click()
    result = form.submit("Spara")
    result_checked(result, "ROAG munbedömning")
    assert result.score("Resultat") == "Allvarliga munhälsoproblem"
    expect(device.get_by_role("cell", name=no_teeth)).to_have_count(2)

