"""What the instrument forms and result pages say: ESAS-r as revised, IPOS recall period on
every step, Abbey in Svenska palliativregistret's Swedish words, IPOS Q6-Q9 named by their
problem end wherever a score stands without its question, and who filled in a form.

The Swedish expectations are written out here on purpose: they are the wording the sources give
(docs/instruments.md names them), so a catalogue edit that drifts from them fails a test.
"""

from __future__ import annotations

import json
import re
from uuid import uuid4

import pytest

from pallapp import scoring
from pallapp.extensions import db
from pallapp.models import Assessment, CareUnit, Role
from tests.factories import link_relative, make_patient, make_unit, make_user

IPOS_ITEMS = scoring.INSTRUMENTS["ipos_patient"].item_codes
ABBEY_ITEMS = scoring.INSTRUMENTS["abbey"].item_codes

# ESAS-r item: (label, 0 anchor, 10 anchor, start of the definition or None).
# Terms: Palliativt utvecklingscentrum's Swedish ESAS-r; definitions: the ESAS-r form's.
ESAS_SV = {
    "pain": ("Smärta", "Ingen smärta", "Värsta tänkbara smärta", None),
    "tiredness": (
        "Trötthet", "Ingen trötthet", "Värsta tänkbara trötthet", "Trötthet betyder brist på energi",
    ),
    "drowsiness": (
        "Sömnighet", "Ingen sömnighet", "Värsta tänkbara sömnighet",
        "Sömnighet betyder att känna sig dåsig",
    ),
    "nausea": ("Illamående", "Inget illamående", "Värsta tänkbara illamående", None),
    "lack_of_appetite": (
        "Aptitlöshet", "Ingen aptitlöshet", "Värsta tänkbara aptitlöshet",
        "Aptitlöshet betyder att inte ha lust att äta",
    ),
    "shortness_of_breath": ("Andnöd", "Ingen andnöd", "Värsta tänkbara andnöd", None),
    "depression": (
        "Depression", "Ingen depression", "Värsta tänkbara depression",
        "Depression betyder att känna sig ledsen eller nedstämd",
    ),
    "anxiety": (
        "Oro/ångest", "Ingen oro/ångest", "Värsta tänkbara oro/ångest",
        "Oro/ångest betyder att känna sig nervös eller orolig",
    ),
    "wellbeing": (
        "Välmående", "Bästa tänkbara välmående", "Sämsta tänkbara välmående",
        "Välmående betyder hur du mår på det hela taget",
    ),
    "other": ("Annat problem", "Inget sådant problem", "Värsta tänkbara problem", None),
}
ESAS_EN = {
    "pain": ("Pain", "No pain", "Worst possible pain", None),
    "tiredness": ("Tiredness", "No tiredness", "Worst possible tiredness", "Tiredness means lack of energy"),
    "drowsiness": (
        "Sleepiness", "No sleepiness", "Worst possible sleepiness", "Sleepiness means feeling drowsy",
    ),
    "nausea": ("Nausea", "No nausea", "Worst possible nausea", None),
    "lack_of_appetite": (
        "Lack of appetite", "No lack of appetite", "Worst possible lack of appetite",
        "Lack of appetite means not feeling like eating",
    ),
    "shortness_of_breath": (
        "Breathlessness", "No breathlessness", "Worst possible breathlessness", None,
    ),
    "depression": (
        "Depression", "No depression", "Worst possible depression", "Depression means feeling sad",
    ),
    "anxiety": (
        "Anxiety or worry", "No anxiety or worry", "Worst possible anxiety or worry",
        "Anxiety means feeling nervous",
    ),
    "wellbeing": (
        "Wellbeing", "Best possible wellbeing", "Worst possible wellbeing",
        "Wellbeing means how you feel overall",
    ),
    "other": ("Other problem", "No such problem", "Worst possible problem", None),
}

# Svenska palliativregistret's Abbey Pain Scale (Swedish version, 2011): name, first example word,
# response words 0-3.
OFTEN_SV = ("Inte alls", "Sällan", "Ibland", "Ofta")
MUCH_SV = ("Inte alls", "Lite", "Måttligt", "Mycket")
ABBEY_SV = {
    "vocalisation": ("Röstuttryck/ljud", "T.ex. gnyr", OFTEN_SV),
    "facial_expression": ("Ansiktsuttryck", "T.ex. spänd", OFTEN_SV),
    "body_language": ("Förändrat kroppsspråk", "T.ex. rastlös", MUCH_SV),
    "behaviour": ("Förändrat beteende", "T.ex. ökad förvirring", MUCH_SV),
    "physiological": ("Fysiologisk förändring", "T.ex. förändrad kroppstemperatur", MUCH_SV),
    "physical": ("Kroppsliga förändringar", "Dvs. rivet skinn", MUCH_SV),
}


@pytest.fixture
def people(app):
    with app.app_context():
        unit = make_unit("Team Falun")  # IPOS recall period: the default, 7 days
        patient = make_patient([unit], given_name="Ulla", family_name="Lindgren")
        people = {
            "nurse_sv": make_user(Role.NURSE, units=[unit], language="sv"),
            "nurse_en": make_user(Role.NURSE, units=[unit], language="en"),
            "patient_sv": make_user(Role.PATIENT, patient=patient, language="sv"),
            "patient_en": make_user(Role.PATIENT, patient=patient, language="en"),
            "helper_sv": make_user(Role.RELATIVE, language="sv"),
            "helper_en": make_user(Role.RELATIVE, language="en"),
            "proxy": make_user(Role.RELATIVE, language="en"),
        }
        people["helper_sv"].name = "Anna Lindgren"
        link_relative(people["helper_sv"], patient)
        link_relative(people["helper_en"], patient)
        link_relative(people["proxy"], patient, proxy=True)
        db.session.commit()
        return {
            **{key: user.email for key, user in people.items()},
            "patient": patient.public_id,
            "patient_id": patient.id,
            "unit_id": unit.id,
        }


def fill_url(people, code: str) -> str:
    return f"/patients/{people['patient']}/assessments/new/{code}"


def steps(page: str) -> list[str]:
    """The HTML of each step of the assessment form, in order."""
    parts = page.split('<section class="step"')[1:]
    assert parts, "no steps on the page"
    return [part[: part.index("</section>")] for part in parts]


def item_block(page: str, code: str) -> str:
    """The fieldset of item `code`."""
    start = page.index(f'id="item_{code}-group"')
    return page[start : page.index("</fieldset>", start)]


def option_words(block: str) -> list[str]:
    """The meaning shown on each numbered option of a scale, in order."""
    return re.findall(r'<span class="option-meaning[^"]*">([^<]*)</span>', block)


def post(client, url: str, answers: dict[str, object], **extra: str):  # type: ignore[no-untyped-def]
    data = {f"item_{code}": str(value) for code, value in answers.items()}
    data["client_token"] = uuid4().hex
    data.update(extra)
    return client.post(url, data=data)


def stored(app) -> list[Assessment]:
    with app.app_context():
        return list(db.session.scalars(db.select(Assessment).order_by(Assessment.id)))


# --- ESAS-r as revised --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("user", "expected", "now"),
    [("patient_sv", ESAS_SV, "Skatta hur du mår just nu"), ("patient_en", ESAS_EN, "Rate how you feel now")],
)
def test_esas_form_asks_about_now_on_every_step_with_each_items_own_anchors(
    client, auth, people, user, expected, now
):
    auth.login(people[user])
    page = client.get(fill_url(people, "esas_r")).get_data(as_text=True)
    every_step = steps(page)
    assert len(every_step) == len(scoring.INSTRUMENTS["esas_r"].groups) == 2
    for step in every_step:
        assert f'<p class="recall">{now}</p>' in step
    for code, (label, zero, ten, definition) in expected.items():
        block = item_block(page, code)
        assert f'<legend class="item-label">{label}</legend>' in block
        assert f"<span>0 = {zero}</span>" in block
        assert f"<span>10 = {ten}</span>" in block
        # The anchors are also the accessible names of the 0 and 10 buttons.
        words = option_words(block)
        assert (words[0], words[-1]) == (zero, ten)
        if definition is None:
            assert 'class="item-description"' not in block
        else:
            description = re.search(
                rf'<p class="item-description" id="item_{code}-description">([^<]*)</p>', block
            )
            assert description is not None
            assert description.group(1).startswith(definition)
            assert f'aria-describedby="item_{code}-description"' in block
    # Each anchor is its own: no two items share a 0 or a 10 word.
    anchors = [anchor for _label, zero, ten, _d in expected.values() for anchor in (zero, ten)]
    assert len(set(anchors)) == len(anchors)


# --- IPOS recall period -------------------------------------------------------------------------


@pytest.mark.parametrize(("period", "words"), [("7d", "Under de senaste 7 dagarna"), ("3d", "Under de senaste 3 dagarna")])
def test_ipos_recall_period_is_on_every_step(app, client, auth, people, period, words):
    with app.app_context():
        db.session.get(CareUnit, people["unit_id"]).ipos_recall_period = period
        db.session.commit()
    for user, code in (("patient_sv", "ipos_patient"), ("nurse_sv", "ipos_staff")):
        auth.login(people[user])
        page = client.get(fill_url(people, code)).get_data(as_text=True)
        every_step = steps(page)
        assert len(every_step) == len(scoring.INSTRUMENTS[code].groups) == 3
        for step in every_step:
            assert f'<p class="recall">{words}</p>' in step
        auth.logout()


def test_a_correction_shows_the_recall_period_of_the_original_on_every_step(
    app, client, auth, people
):
    auth.login(people["nurse_sv"])
    response = post(client, fill_url(people, "ipos_staff"), dict.fromkeys(IPOS_ITEMS, 1))
    assert response.status_code == 302
    with app.app_context():
        # The unit changes its period afterwards: the correction still asks about the original's.
        db.session.get(CareUnit, people["unit_id"]).ipos_recall_period = "3d"
        db.session.commit()
    page = client.get(response.location + "/correct").get_data(as_text=True)
    for step in steps(page):
        assert '<p class="recall">Under de senaste 7 dagarna</p>' in step
        assert "3 dagarna" not in step


def test_esas_and_abbey_name_no_recall_period(client, auth, people):
    auth.login(people["nurse_sv"])
    for code in ("esas_r", "abbey"):
        page = client.get(fill_url(people, code)).get_data(as_text=True)
        assert "Under de senaste" not in page


# --- Abbey in Svenska palliativregistret's words ------------------------------------------------


def test_abbey_form_and_result_use_the_swedish_versions_words(app, client, auth, people):
    auth.login(people["nurse_sv"])
    page = client.get(fill_url(people, "abbey")).get_data(as_text=True)
    for code, (name, example, words) in ABBEY_SV.items():
        block = item_block(page, code)
        assert f'<legend class="item-label">{name}</legend>' in block
        assert f'<p class="item-description" id="item_{code}-description">{example}' in block
        assert option_words(block) == list(words)
    assert "Typ av smärta" in page
    assert [w for w in ("Långvarig", "Akut", "Blandad") if f">{w}</span>" in page] == [
        "Långvarig", "Akut", "Blandad",
    ]
    # Total 2 + 1 = 3: the mild band (3-7), its lower boundary.
    answers = dict.fromkeys(ABBEY_ITEMS, 0) | {"vocalisation": 2, "facial_expression": 1}
    response = post(client, fill_url(people, "abbey"), answers, ctx_pain_type="acute_on_chronic")
    result = client.get(response.location).get_data(as_text=True)
    assert '<span class="band band-mild">Mild smärta</span>' in result
    assert "<td>2 – Ibland</td>" in result  # vocalisation, asked how often
    assert "<tr><td>Typ av smärta</td><td colspan=\"2\">Blandad</td></tr>" in result
    # One below the boundary: total 2 is "Ingen smärta".
    answers["facial_expression"] = 0
    response = post(client, fill_url(people, "abbey"), answers)
    result = client.get(response.location).get_data(as_text=True)
    assert '<span class="band band-none">Ingen smärta</span>' in result


def test_abbey_in_english_keeps_the_english_forms_words(app, client, auth, people):
    """The English form (Abbey 2004) answers every item absent, mild, moderate, severe; the
    Swedish version's two wordings are gettext contexts of those words, not English of their
    own ("Mild" is "Sällan" when asked how often, "Lite" when asked how much)."""
    auth.login(people["nurse_en"])
    page = client.get(fill_url(people, "abbey")).get_data(as_text=True)
    for code in ABBEY_ITEMS:
        assert option_words(item_block(page, code)) == ["Absent", "Mild", "Moderate", "Severe"]
    answers = dict.fromkeys(ABBEY_ITEMS, 0) | {"vocalisation": 1, "body_language": 1}
    response = post(client, fill_url(people, "abbey"), answers)
    result = client.get(response.location).get_data(as_text=True)
    assert result.count("<td>1 – Mild</td>") == 2  # vocalisation and body language
    assert "<td>0 – Absent</td>" in result
    # The same answers in Swedish: 1 is "Sällan" (how often) and "Lite" (how much).
    auth.logout()
    auth.login(people["nurse_sv"])
    result = client.get(response.location).get_data(as_text=True)
    assert "<td>1 – Sällan</td>" in result
    assert "<td>1 – Lite</td>" in result


# --- IPOS Q6-Q9 by their problem end ------------------------------------------------------------

# at_peace 4 ("not at all" at peace) and information 3 are severe (3-4); sharing_feelings 1 and
# practical_problems 0 stay below it; every other item 0.
REVERSED = dict.fromkeys(IPOS_ITEMS, 0) | {"at_peace": 4, "information": 3, "sharing_feelings": 1}


@pytest.fixture
def reversed_rating(app, client, auth, people):
    auth.login(people["nurse_en"])
    response = post(client, fill_url(people, "ipos_staff"), REVERSED)
    assert response.status_code == 302
    return response.location


def test_a_flag_names_the_problem_not_the_question(client, people, reversed_rating):
    flags = client.get(f"/patients/{people['patient']}/flags").get_data(as_text=True)
    assert "Not at peace, Lacks information" in flags
    assert "Feeling at peace" not in flags
    assert "Enough information" not in flags
    result = client.get(reversed_rating).get_data(as_text=True)
    assert "Concerns: Not at peace, Lacks information" in result


def test_the_answer_table_keeps_the_question_and_names_the_problem_beside_the_level(
    client, reversed_rating
):
    result = client.get(reversed_rating).get_data(as_text=True)
    row = re.search(r"<tr><td>Feeling at peace</td>(.*?)</tr>", result, re.S)
    assert row is not None
    assert "<td>4 – Not at all</td>" in row.group(1)
    assert "Severe problem" in row.group(1)
    assert '<span class="meta">Not at peace</span>' in row.group(1)
    # sharing_feelings 1 is a problem too (mild); practical_problems 0 is none: no problem named.
    sharing = re.search(r"<tr><td>Able to share feelings with family or friends</td>(.*?)</tr>", result, re.S)
    assert sharing is not None
    assert "Cannot share feelings" in sharing.group(1)
    practical = re.search(r"<tr><td>Practical problems addressed</td>(.*?)</tr>", result, re.S)
    assert practical is not None
    assert "not addressed" not in practical.group(1)


def test_trends_name_the_problem_end(client, people, reversed_rating):
    page = client.get(f"/patients/{people['patient']}/trends?range=3m").get_data(as_text=True)
    match = re.search(r'<table class="heatmap" id="ipos_heatmap">(.*?)</table>', page, re.S)
    assert match is not None
    rows = dict(
        re.findall(r'<tr data-item="(\w+)"><th scope="row">(.*?)</th>', match.group(1))
    )
    # Q6-Q9 are named by their problem end beside a score: at_peace 4, information 3.
    assert rows["at_peace"] == "Not at peace"
    assert rows["information"] == "Lacks information"
    assert rows["sharing_feelings"] == "Cannot share feelings"
    assert "Feeling at peace" not in match.group(1)


def test_the_fhir_export_names_the_problem_end(app, client, people, reversed_rating):
    with app.app_context():
        unit = db.session.get(CareUnit, people["unit_id"])
        unit_public_id = unit.public_id
    bundle = json.loads(client.post(f"/exports/{unit_public_id}/fhir.json").get_data(as_text=True))
    resources = [entry["resource"] for entry in bundle["entry"]]
    questionnaire = next(
        r for r in resources if r["resourceType"] == "Questionnaire" and r["url"].endswith("/ipos-staff")
    )
    texts = {item["linkId"]: item["text"] for item in questionnaire["item"]}
    assert texts["at_peace"] == "Not at peace"
    assert texts["sharing_feelings"] == "Cannot share feelings"
    assert texts["information"] == "Lacks information"
    assert texts["practical_problems"] == "Practical problems not addressed"
    assert texts["pain"] == "Pain"
    response = next(r for r in resources if r["resourceType"] == "QuestionnaireResponse")
    at_peace = next(item for item in response["item"] if item["linkId"] == "at_peace")
    assert at_peace["text"] == "Not at peace"
    # Answer 4 is the code "at_peace.4" of the instrument's answer list, shown by its label.
    [answer] = at_peace["answer"]
    assert answer["valueCoding"]["code"] == "at_peace.4"
    assert answer["valueCoding"]["extension"][0]["valueDecimal"] == 4


def test_swedish_flags_use_the_swedish_problem_labels(client, auth, people, reversed_rating):
    auth.logout()
    auth.login(people["nurse_sv"])
    flags = client.get(f"/patients/{people['patient']}/flags").get_data(as_text=True)
    assert "Känner inte inre frid, Saknar information" in flags


# --- IPOS Q10: who filled it in -----------------------------------------------------------------

# A calm IPOS: every item 1.
CALM = dict.fromkeys(IPOS_ITEMS, 1)


@pytest.mark.parametrize(
    ("user", "chosen", "kept"),
    [
        # A relative helps the patient: Q10 says so, whatever else was ticked ...
        ("helper_en", "alone", "with_relative"),
        ("helper_en", None, "with_relative"),
        ("helper_en", "with_relative", "with_relative"),
        # ... unless the patient said staff helped.
        ("helper_en", "with_staff", "with_staff"),
        # The patient on their own account: as answered.
        ("patient_en", "alone", "alone"),
        ("patient_en", None, None),
    ],
)
def test_q10_records_a_helping_relative(app, client, auth, people, user, chosen, kept):
    auth.login(people[user])
    extra = {"ctx_completed_with": chosen} if chosen else {}
    assert post(client, fill_url(people, "ipos_patient"), CALM, **extra).status_code == 302
    [assessment] = stored(app)
    assert assessment.respondent == "patient"
    assert assessment.answers.get("completed_with") == kept


def test_q10_is_left_as_answered_when_a_relative_answers_for_the_patient(app, client, auth, people):
    auth.login(people["proxy"])
    response = post(
        client, fill_url(people, "ipos_patient"), CALM, respondent="relative", ctx_completed_with="alone"
    )
    assert response.status_code == 302
    [assessment] = stored(app)
    assert assessment.respondent == "relative"
    assert assessment.answers["completed_with"] == "alone"
    page = client.get(response.location).get_data(as_text=True)
    assert "Answered by Relative" in page
    assert "(relative) for the patient" in page


def test_esas_has_no_q10_even_when_a_relative_helps(app, client, auth, people):
    auth.login(people["helper_en"])
    answers = dict.fromkeys(scoring.INSTRUMENTS["esas_r"].item_codes, 1) | {"other": ""}
    assert post(client, fill_url(people, "esas_r"), answers).status_code == 302
    [assessment] = stored(app)
    assert "completed_with" not in assessment.answers


def test_the_result_page_says_who_filled_it_in(app, client, auth, people):
    auth.login(people["helper_sv"])
    response = post(client, fill_url(people, "ipos_patient"), CALM)
    page = client.get(response.location).get_data(as_text=True)
    assert "Ifyllt av Anna Lindgren (närstående) tillsammans med patienten" in page
    assert "Med hjälp av närstående eller vän" in page  # Q10 in the answers table
    auth.logout()
    auth.login(people["patient_sv"])
    response = post(client, fill_url(people, "ipos_patient"), CALM)
    assert "Ifyllt av patienten" in client.get(response.location).get_data(as_text=True)
    auth.logout()
    auth.login(people["nurse_sv"])
    response = post(client, fill_url(people, "ipos_patient"), CALM)
    page = client.get(response.location).get_data(as_text=True)
    assert "(personal) efter patientens svar" in page
    response = post(client, fill_url(people, "abbey"), dict.fromkeys(ABBEY_ITEMS, 0))
    assert "Bedömt av " in client.get(response.location).get_data(as_text=True)
