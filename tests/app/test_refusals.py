"""Refusals (`pallapp/refusals.py`): every reason has its words in both languages, a refusal
takes no string for a reason, and the pages show any feature's refusal through the one path
(`except Refusal`, `refusal.message`), never through a table of codes of their own."""

from __future__ import annotations

from datetime import timedelta

import pytest
from flask_babel import force_locale
from markupsafe import escape

from pallapp.assessments.services import AssessmentRefused, submit_assessment
from pallapp.careplan.common import Refused as CarePlanRefused
from pallapp.extensions import db
from pallapp.flags import FlagRefused
from pallapp.flags.expected import MarkingRefused
from pallapp.models import Role, utcnow
from pallapp.refusals import Reason, Refusal
from pallapp.reporting.services import PlanRefused
from tests.factories import make_patient, make_unit, make_user

ESAS_ITEMS = (
    "pain", "tiredness", "drowsiness", "nausea", "lack_of_appetite", "shortness_of_breath",
    "depression", "anxiety", "wellbeing",
)
LANGUAGES = ("sv", "en")


def words(app, reason: Reason, language: str) -> str:
    with app.test_request_context(), force_locale(language):
        return str(reason.message)


def test_every_reason_has_words_in_swedish_and_english(app):
    lacking = []
    for reason in Reason:
        english, swedish = words(app, reason, "en"), words(app, reason, "sv")
        # An untranslated msgid comes back unchanged in Swedish.
        if not english.strip() or not swedish.strip() or swedish == english:
            lacking.append((reason.name, english, swedish))
    assert lacking == []


def test_reasons_have_distinct_codes():
    # Two members with one code would be one member (an enum alias) with the first's words.
    codes = [reason.value for reason in Reason]
    assert len(codes) == len(set(codes)) == len(Reason.__members__)


@pytest.mark.parametrize(
    "feature", [AssessmentRefused, CarePlanRefused, PlanRefused, FlagRefused, MarkingRefused]
)
def test_a_refusal_carries_a_reason_never_a_string(feature):
    assert issubclass(feature, Refusal)
    refused = feature(Reason.TOKEN_REUSED)
    assert refused.reason is Reason.TOKEN_REUSED
    assert str(refused) == "token_reused"
    with pytest.raises(TypeError):
        feature("token_reused")


@pytest.fixture
def ward(app):
    with app.app_context():
        unit = make_unit("Team Refusal")
        patient = make_patient([unit], given_name="Signe")
        people = {
            f"{role.value}_{language}": make_user(role, units=[unit], language=language)
            for role in (Role.NURSE, Role.PHYSICIAN)
            for language in LANGUAGES
        }
        # ESAS-r pain 8 (>= 7): a high severe_item flag to acknowledge.
        flag = submit_assessment(
            people["nurse_sv"], patient.public_id, instrument="esas_r",
            answers=dict(dict.fromkeys(ESAS_ITEMS, 1), pain=8),
            client_token="refusal-" + "0" * 24, observed_at=utcnow() - timedelta(hours=1),
        ).assessment.flags[0]
        ward = {
            "patient": patient.public_id,
            "flag": flag.public_id,
            "emails": {name: user.email for name, user in people.items()},
        }
        db.session.commit()
    return ward


# Each page's service raises another feature's refusal: a page that caught only its own
# feature's class, or looked the code up in a table of its own, would fail here.
PAGES = [
    pytest.param(
        "nurse", "pallapp.assessments.services.submit_assessment",
        lambda w: f"/patients/{w['patient']}/assessments/new/esas_r",
        lambda w: {**{f"item_{code}": "2" for code in ESAS_ITEMS}, "client_token": "a" * 32},
        CarePlanRefused(Reason.STALE),
        id="assessments",
    ),
    pytest.param(
        "nurse", "pallapp.careplan.plan.save_care_plan",
        lambda w: f"/patients/{w['patient']}/care-plan/edit",
        lambda w: {"contacts": "Ring 010-123 45 67", "based_on": ""},
        FlagRefused(Reason.NOTE_TOO_LONG),
        id="careplan",
    ),
    pytest.param(
        "physician", "pallapp.review.flag_pages.acknowledge_flag",
        lambda w: f"/patients/{w['patient']}/flags/{w['flag']}/acknowledge",
        lambda w: {"note": "Ringt patienten"},
        MarkingRefused(Reason.DAYS_OUT_OF_RANGE),
        id="review",
    ),
    pytest.param(
        "nurse", "pallapp.flags.expected.mark_expected",
        lambda w: f"/patients/{w['patient']}/expected-levels/new",
        lambda w: {"item": "esas_r:pain", "level": "3", "days": "7", "reason": "Känd smärta"},
        PlanRefused(Reason.NO_REPORTING_IN_PHASE),
        id="alerts",
    ),
    pytest.param(
        "nurse", "pallapp.reporting.services.set_patient_plan",
        lambda w: f"/patients/{w['patient']}/reporting-plan",
        lambda w: {
            "line_1-instrument": "esas_r", "line_1-respondent": "patient",
            "line_1-interval_days": "3", "reason": "Orkar ESAS",
        },
        AssessmentRefused(Reason.PROXY_NOT_ALLOWED),
        id="reporting",
    ),
]


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(("who", "service", "url", "data", "refusal"), PAGES)
def test_every_page_shows_any_refusal_in_the_users_language(
    app, client, auth, ward, monkeypatch, language, who, service, url, data, refusal
):
    def refuse(*args, **kwargs):
        raise refusal

    monkeypatch.setattr(service, refuse)
    auth.login(ward["emails"][f"{who}_{language}"])
    response = client.post(url(ward), data=data(ward))
    assert response.status_code == 200  # the form again, with the refusal, as before
    assert str(escape(words(app, refusal.reason, language))) in response.get_data(as_text=True)
