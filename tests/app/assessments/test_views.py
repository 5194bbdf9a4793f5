"""The assessment pages over HTTP: fill in, result, history, correction, with real logins.

Expected scores are worked out by hand from INSTRUMENTS.md in each test. Users see the pages in
English (their own language setting), so the checks do not depend on the Swedish catalogue.
"""

from __future__ import annotations

import re
from datetime import timedelta
from uuid import uuid4

import pytest
from sqlalchemy import func, select

from pallapp import scoring
from pallapp.extensions import db
from pallapp.models import Assessment, AuditEvent, Flag, Role
from pallapp.timeutil import now_local
from tests.factories import link_relative, make_patient, make_unit, make_user

PHONE = "010-123 45 67"  # what make_unit gives every unit

ESAS_ITEMS = (
    "pain", "tiredness", "drowsiness", "nausea", "lack_of_appetite", "shortness_of_breath",
    "depression", "anxiety", "wellbeing",
)
# A full ESAS-r with no item >= 7 and none 4-6 except lack_of_appetite (4).
ESAS = {
    "pain": 2, "tiredness": 3, "drowsiness": 1, "nausea": 0, "lack_of_appetite": 4,
    "shortness_of_breath": 1, "depression": 2, "anxiety": 3, "wellbeing": 0,
}
IPOS_ITEMS = scoring.INSTRUMENTS["ipos_patient"].item_codes
ROAG_ITEMS = scoring.INSTRUMENTS["roag"].item_codes


@pytest.fixture
def world(app):
    with app.app_context():
        unit = make_unit("Team Ludvika")
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        patient = make_patient([unit], given_name="Britta")
        other = make_patient([unit], given_name="Gösta")
        patient_user = make_user(Role.PATIENT, patient=patient, language="en")
        other_user = make_user(Role.PATIENT, patient=other, language="en")
        helper = make_user(Role.RELATIVE, language="en")
        proxy = make_user(Role.RELATIVE, language="en")
        link_relative(helper, patient, proxy=False)
        link_relative(proxy, patient, proxy=True)
        db.session.commit()
        return {
            "nurse": nurse.email,
            "patient_user": patient_user.email,
            "other_user": other_user.email,
            "helper": helper.email,
            "proxy": proxy.email,
            "patient": patient.public_id,
            "patient_id": patient.id,
            "other": other.public_id,
            "enrolled_on": patient.enrolled_on,
        }


def token() -> str:
    return uuid4().hex


def fill_url(world, code: str = "esas_r", patient: str | None = None) -> str:
    return f"/patients/{patient or world['patient']}/assessments/new/{code}"


def post_data(answers: dict[str, object], client_token: str | None = None, **extra) -> dict:
    data = {f"item_{code}": "" if value is None else str(value) for code, value in answers.items()}
    data["client_token"] = client_token or token()
    data.update(extra)
    return data


def assessments(app) -> list[Assessment]:
    with app.app_context():
        rows = db.session.scalars(select(Assessment).order_by(Assessment.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def count(app) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Assessment.id)))


def checked_value(page: bytes, name: str) -> str | None:
    """The value of the checked radio button called `name` in a rendered form, or None."""
    html = page.decode()
    values = [
        re.search(r'value="([^"]*)"', tag).group(1)
        for tag in re.findall(rf'<input[^>]*name="{name}"[^>]*>', html)
        if re.search(r"\bchecked\b", tag)
    ]
    assert len(values) <= 1, values
    return values[0] if values else None


def result_id(response) -> str:
    match = re.search(r"/assessments/([A-Za-z0-9_-]+)$", response.location)
    assert match, response.location
    return match.group(1)


# --- 1. a full valid post ---------------------------------------------------------------------


def test_full_esas_post_by_a_nurse_is_stored_and_shown(app, client, auth, world):
    auth.login(world["nurse"])
    assert client.get(fill_url(world)).status_code == 200
    response = client.post(fill_url(world), data=post_data(ESAS))
    assert response.status_code == 302
    stored = assessments(app)
    assert len(stored) == 1
    assert response.location.endswith(
        f"/patients/{world['patient']}/assessments/{stored[0].public_id}"
    )
    total = 2 + 3 + 1 + 0 + 4 + 1 + 2 + 3 + 0  # = 16
    physical = 2 + 3 + 1 + 0 + 4 + 1  # = 11
    emotional = 2 + 3  # = 5
    assert stored[0].total == total
    assert stored[0].scores["subscales"] == {"physical": physical, "emotional": emotional}
    assert stored[0].instrument == "esas_r"
    assert stored[0].respondent == "patient"  # the nurse enters the patient's spoken answers
    assert stored[0].answers["pain"] == 2
    page = client.get(response.location)
    assert page.status_code == 200
    assert f"{total} of 90".encode() in page.data
    assert f"{physical} of 60".encode() in page.data
    assert f"{emotional} of 20".encode() in page.data


# --- 2. out-of-range and forged values --------------------------------------------------------


ESAS_BAD = ("11", "-1", "abc", "2.5", "1e1", " 3", "٣")  # "٣": an Arabic-Indic digit three


@pytest.mark.parametrize(
    ("code", "user", "item", "bad"),
    [
        *[("esas_r", "nurse", "pain", bad) for bad in ESAS_BAD],
        ("esas_r", "patient_user", "pain", "11"),
        ("ipos_patient", "patient_user", "pain", "cannot_assess"),
        ("ipos_patient", "nurse", "pain", "cannot_assess"),
        ("ipos_patient", "nurse", "pain", "5"),
        ("roag", "nurse", "dentures", "0"),
        ("roag", "nurse", "voice", "4"),
        ("roag", "nurse", "voice", "not_applicable"),
    ],
)
def test_bad_values_are_refused_and_the_other_answers_kept(
    app, client, auth, world, code, user, item, bad
):
    if code == "esas_r":
        answers: dict[str, object] = dict(ESAS)
        keep = ("tiredness", "3")
    elif code == "ipos_patient":
        answers = {c: 1 for c in IPOS_ITEMS} | {"weakness": 3}
        keep = ("weakness", "3")
    else:
        answers = {c: 1 for c in ROAG_ITEMS} | {"saliva": 2}
        keep = ("saliva", "2")
    answers[item] = bad
    auth.login(world[user])
    page = client.post(fill_url(world, code), data=post_data(answers))
    assert page.status_code == 200
    assert b"Choose one of the options shown." in page.data
    assert b'id="item_' + item.encode() + b'-error"' in page.data  # the error is on that item
    assert checked_value(page.data, f"item_{keep[0]}") == keep[1]
    assert checked_value(page.data, f"item_{item}") is None
    assert count(app) == 0


def test_a_valid_post_of_the_same_shapes_is_accepted(app, client, auth, world):
    """Control for the test above: the same posts with a valid value are stored."""
    auth.login(world["nurse"])
    ipos = {c: 1 for c in IPOS_ITEMS} | {"weakness": 3}
    roag = {c: 1 for c in ROAG_ITEMS} | {"saliva": 2, "dentures": "not_applicable"}
    for code, answers in (("esas_r", ESAS), ("ipos_patient", ipos), ("roag", roag)):
        response = client.post(fill_url(world, code), data=post_data(answers))
        assert response.status_code == 302, code
    assert count(app) == 3


# --- 3. CSRF ----------------------------------------------------------------------------------


def csrf_token(page: bytes) -> str:
    match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', page) or re.search(
        rb'value="([^"]+)"[^>]*name="csrf_token"', page
    )
    assert match, "no csrf_token in the page"
    return match.group(1).decode()


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_a_post_without_csrf_token_is_refused(app, client, world, app_config):
    from tests.factories import PASSWORD

    login_page = client.get("/login")
    client.post(
        "/login",
        data={"email": world["nurse"], "password": PASSWORD, "csrf_token": csrf_token(login_page.data)},
    )
    form = client.get(fill_url(world))
    assert form.status_code == 200  # logged in
    response = client.post(fill_url(world), data=post_data(ESAS))
    assert response.status_code == 400
    assert count(app) == 0
    # The same post with the token is accepted: the token was the only thing missing.
    response = client.post(fill_url(world), data=post_data(ESAS, csrf_token=csrf_token(form.data)))
    assert response.status_code == 302
    assert count(app) == 1


# --- 4. the same client_token twice -----------------------------------------------------------


def test_the_same_token_twice_stores_one_record(app, client, auth, world):
    auth.login(world["nurse"])
    data = post_data(ESAS)
    first = client.post(fill_url(world), data=data)
    second = client.post(fill_url(world), data=data)
    assert first.status_code == second.status_code == 302
    assert second.location == first.location
    assert count(app) == 1
    assert b"already been sent" in client.get(second.location).data


# --- 5. who may submit ------------------------------------------------------------------------


def test_a_patient_cannot_submit_for_another_patient(app, client, auth, world):
    auth.login(world["other_user"])
    assert client.get(fill_url(world)).status_code == 404
    response = client.post(fill_url(world), data=post_data(ESAS))
    assert response.status_code == 404
    assert count(app) == 0
    # Their own record works.
    assert client.post(fill_url(world, patient=world["other"]), data=post_data(ESAS)).status_code == 302
    assert count(app) == 1


def test_a_relative_without_proxy_permission_cannot_answer_as_relative(app, client, auth, world):
    auth.login(world["helper"])
    response = client.post(fill_url(world), data=post_data(ESAS, respondent="relative"))
    assert response.status_code == 200
    assert b"has not allowed you to answer for them" in response.data
    assert count(app) == 0


def test_a_relative_without_proxy_permission_may_help(app, client, auth, world):
    auth.login(world["helper"])
    response = client.post(fill_url(world), data=post_data(ESAS))
    assert response.status_code == 302
    [stored] = assessments(app)
    assert stored.respondent == "patient"
    assert stored.answered_by_id is None


def test_a_relative_with_proxy_permission_answers_as_relative(app, client, auth, world):
    auth.login(world["proxy"])
    page = client.get(fill_url(world))
    assert b'name="respondent"' in page.data
    # The choice is required for a proxy.
    assert client.post(fill_url(world), data=post_data(ESAS)).status_code == 200
    assert count(app) == 0
    response = client.post(fill_url(world), data=post_data(ESAS, respondent="relative"))
    assert response.status_code == 302
    [stored] = assessments(app)
    assert stored.respondent == "relative"
    assert stored.answered_by_id is not None


# --- 6. skipped items -------------------------------------------------------------------------


def test_skipped_items_need_confirmation_then_are_scored_incomplete(app, client, auth, world):
    auth.login(world["nurse"])
    answers = dict(ESAS, nausea=None, anxiety=None)
    data = post_data(answers)
    page = client.post(fill_url(world), data=data)
    assert page.status_code == 200
    box = page.data[page.data.index(b'id="skipped-heading"') :]
    box = box[: box.index(b"</ul>")]
    labels = {
        code: scoring.INSTRUMENTS["esas_r"].item(code).label.encode() for code in ESAS_ITEMS
    }
    assert labels["nausea"] in box
    assert labels["anxiety"] in box
    assert labels["pain"] not in box
    assert checked_value(page.data, "item_tiredness") == "3"
    assert count(app) == 0

    response = client.post(fill_url(world), data=dict(data, confirm_incomplete="1"))
    assert response.status_code == 302
    [stored] = assessments(app)
    assert stored.total is None  # no imputation: the total needs all nine items
    # physical lacks nausea, emotional lacks anxiety: both None.
    assert stored.scores["subscales"] == {"physical": None, "emotional": None}
    assert set(stored.scores["missing"]) == {"nausea", "anxiety"}
    assert stored.answers["nausea"] is None
    result = client.get(response.location)
    assert b"not computed" in result.data
    assert labels["anxiety"] in result.data


# --- 7. corrections ---------------------------------------------------------------------------


def correct_url(world, assessment_id: str) -> str:
    return f"/patients/{world['patient']}/assessments/{assessment_id}/correct"


def test_a_correction_supersedes_and_keeps_the_original(app, client, auth, world):
    auth.login(world["nurse"])
    original_id = result_id(client.post(fill_url(world), data=post_data(dict(ESAS, pain=9))))
    [before] = assessments(app)
    form = client.get(correct_url(world, original_id))
    assert form.status_code == 200
    assert checked_value(form.data, "item_pain") == "9"  # pre-filled from the original

    no_reason = client.post(
        correct_url(world, original_id), data=post_data(dict(ESAS, pain=2), reason="  ")
    )
    assert no_reason.status_code == 200
    assert count(app) == 1

    response = client.post(
        correct_url(world, original_id),
        data=post_data(dict(ESAS, pain=2), reason="Typed 9 instead of 2"),
    )
    assert response.status_code == 302
    original, corrected = assessments(app)
    assert original.public_id == original_id
    assert original.answers == before.answers
    assert original.scores == before.scores
    assert original.total == before.total == 9 + 3 + 1 + 0 + 4 + 1 + 2 + 3 + 0  # = 23
    assert corrected.supersedes_id == original.id
    assert corrected.correction_reason == "Typed 9 instead of 2"
    assert corrected.total == 2 + 3 + 1 + 0 + 4 + 1 + 2 + 3 + 0  # = 16
    assert response.location.endswith(corrected.public_id)

    history = client.get(f"/patients/{world['patient']}/assessments")
    assert history.status_code == 200
    assert original.public_id.encode() in history.data
    assert corrected.public_id.encode() in history.data
    assert b"Corrected by a later version" in history.data
    assert b"Typed 9 instead of 2" in history.data

    # The superseded version cannot be corrected again.
    again = client.post(
        correct_url(world, original_id), data=post_data(dict(ESAS, pain=3), reason="again")
    )
    assert again.status_code == 200
    assert count(app) == 2


def test_a_correction_without_reason_field_stores_nothing(app, client, auth, world):
    auth.login(world["nurse"])
    original_id = result_id(client.post(fill_url(world), data=post_data(ESAS)))
    response = client.post(correct_url(world, original_id), data=post_data(dict(ESAS, pain=5)))
    assert response.status_code == 200
    assert b"Write why the assessment is corrected." in response.data
    assert count(app) == 1


def test_a_patient_cannot_open_or_post_a_correction(app, client, auth, world):
    auth.login(world["patient_user"])
    original_id = result_id(client.post(fill_url(world), data=post_data(ESAS)))
    assert client.get(correct_url(world, original_id)).status_code == 404
    response = client.post(
        correct_url(world, original_id), data=post_data(dict(ESAS, pain=0), reason="mine")
    )
    assert response.status_code == 404
    assert count(app) == 1


# --- 8. the call-now box ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answers", "severe"),
    [
        (dict(ESAS, pain=8), True),  # 8 >= 7: severe
        (dict(ESAS, pain=7), True),  # 7 is the lowest severe rating
        (dict(ESAS, pain=6), False),  # 6 is moderate; everything else <= 4
        (ESAS, False),
    ],
)
def test_call_now_box_for_a_severe_self_report(app, client, auth, world, answers, severe):
    auth.login(world["patient_user"])
    response = client.post(fill_url(world), data=post_data(answers))
    assert response.status_code == 302
    page = client.get(response.location)
    assert page.status_code == 200
    assert (b'class="call-now"' in page.data) is severe
    assert (PHONE.encode() in page.data) is severe
    assert (b'href="tel:0101234567"' in page.data) is severe


def test_call_now_box_for_a_severe_band_below_the_units_flag_threshold(app, client, auth, world):
    """A unit may raise its severe_item threshold; a rating in the severe band (7-10) still
    tells the patient to call."""
    with app.app_context():
        from pallapp.models import CareUnit

        unit = db.session.scalar(select(CareUnit).where(CareUnit.name == "Team Ludvika"))
        unit.flag_thresholds = {"esas_severe_item": 9, "esas_moderate_item": 4}
        db.session.commit()
    auth.login(world["patient_user"])
    response = client.post(fill_url(world), data=post_data(dict(ESAS, pain=8)))
    assert response.status_code == 302
    with app.app_context():
        flags = db.session.scalars(select(Flag)).all()
        # 8 < 9: no high flag, only moderate (4-8) for pain and lack_of_appetite.
        assert {(f.code, f.severity) for f in flags} == {("moderate_item", "medium")}
    page = client.get(response.location)
    assert b'class="call-now"' in page.data
    assert PHONE.encode() in page.data


# --- 9. stored flags --------------------------------------------------------------------------


def test_stored_flags_equal_flags_for_of_the_same_answers(app, client, auth, world):
    auth.login(world["nurse"])
    first = dict(ESAS)
    second = dict(ESAS, pain=8, tiredness=6, anxiety=5)
    client.post(fill_url(world), data=post_data(first))
    response = client.post(fill_url(world), data=post_data(second))
    assert response.status_code == 302
    expected = scoring.flags_for(
        scoring.score("esas_r", second),
        scoring.score("esas_r", first),
        scoring.DEFAULT_THRESHOLDS,
    )
    with app.app_context():
        latest = db.session.scalar(select(Assessment).order_by(Assessment.id.desc()).limit(1))
        stored = {(f.code, f.severity, tuple(f.items)) for f in latest.flags}
    assert stored == {(f.code, f.severity, tuple(f.items)) for f in expected}
    # By hand: pain 8 severe; tiredness 6, anxiety 5, lack_of_appetite 4 moderate; pain +6,
    # tiredness +3, anxiety +2 rose by >= 2; total 16 -> 16 + 6 + 3 + 2 = 27 (+11 >= 4).
    assert {code for code, _severity, _items in stored} == {
        "severe_item", "moderate_item", "item_rise", "total_rise",
    }


# --- 10. audit --------------------------------------------------------------------------------


def audit_rows(app) -> list[AuditEvent]:
    with app.app_context():
        rows = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id)).all()
        for row in rows:
            db.session.expunge(row)
        return rows


def test_views_and_submissions_are_audited(app, client, auth, world):
    auth.login(world["nurse"])
    data = post_data(ESAS)
    assessment_id = result_id(client.post(fill_url(world), data=data))
    client.post(fill_url(world), data=data)  # the same form again
    client.get(f"/patients/{world['patient']}/assessments/{assessment_id}")
    client.get(f"/patients/{world['patient']}/assessments")
    corrected_id = result_id(
        client.post(
            correct_url(world, assessment_id), data=post_data(dict(ESAS, pain=1), reason="typo")
        )
    )
    rows = [
        (e.action, e.object_type, e.object_id, e.detail)
        for e in audit_rows(app)
        if e.patient_id == world["patient_id"]
    ]
    assert ("create", "assessment", assessment_id, None) in rows
    assert ("view", "assessment", assessment_id, "resubmitted") in rows
    assert ("view", "assessment", assessment_id, None) in rows
    assert ("view", "assessment_history", None, None) in rows
    assert ("correct", "assessment", corrected_id, None) in rows
    assert all(e.user_id is not None for e in audit_rows(app) if e.action != "login_failed")


def test_a_refused_submission_is_audited_as_denied(app, client, auth, world):
    auth.login(world["other_user"])
    client.post(fill_url(world), data=post_data(ESAS))
    denied = [e for e in audit_rows(app) if e.action == "denied"]
    assert [(e.patient_id, e.outcome) for e in denied] == [(world["patient_id"], "denied")]


@pytest.mark.parametrize("code", [None, "esas_r", "abbey"])
def test_opening_the_form_is_audited(app, client, auth, world, code):
    auth.login(world["nurse"])
    before = len(audit_rows(app))
    url = f"/patients/{world['patient']}/assessments/new" + (f"/{code}" if code else "")
    assert client.get(url).status_code == 200
    new = audit_rows(app)[before:]
    assert [(e.action, e.patient_id, e.object_type, e.object_id) for e in new] == [
        ("view", world["patient_id"], "assessment_form", code)
    ]


# --- 11. observed_at --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("shift_days", "message"),
    [
        (1, b"cannot be in the future"),
        (None, b"cannot be before the patient was enrolled"),
    ],
)
def test_observed_at_out_of_bounds_is_refused(app, client, auth, world, shift_days, message):
    if shift_days is None:
        # Noon of the day before enrolment (local time).
        day = world["enrolled_on"] - timedelta(days=1)
        when = f"{day.isoformat()}T12:00"
    else:
        when = (now_local() + timedelta(days=shift_days)).strftime("%Y-%m-%dT%H:%M")
    auth.login(world["nurse"])
    page = client.post(fill_url(world), data=post_data(ESAS, observed_at=when))
    assert page.status_code == 200
    assert message in page.data
    assert checked_value(page.data, "item_tiredness") == "3"
    assert count(app) == 0


def test_observed_at_in_the_past_after_enrolment_is_kept(app, client, auth, world):
    day = world["enrolled_on"] + timedelta(days=1)
    auth.login(world["nurse"])
    response = client.post(fill_url(world), data=post_data(ESAS, observed_at=f"{day.isoformat()}T12:00"))
    assert response.status_code == 302
    [stored] = assessments(app)
    with app.app_context():
        from pallapp.timeutil import STOCKHOLM

        local = stored.observed_at.astimezone(STOCKHOLM)
    assert (local.date(), local.hour, local.minute) == (day, 12, 0)


def test_flags_are_not_stored_for_a_refused_post(app, client, auth, world):
    auth.login(world["nurse"])
    client.post(fill_url(world), data=post_data(dict(ESAS, pain="11", tiredness=9)))
    with app.app_context():
        assert db.session.scalar(select(func.count(Flag.id))) == 0
    assert count(app) == 0
