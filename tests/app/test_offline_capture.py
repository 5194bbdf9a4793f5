"""The server side of offline capture: one record per form token, a question before storing
the same answers twice, the script's JSON answer, an idle post sent back to its form, and the
installable app's files (the browser side: tests/e2e/test_offline.py)."""

from __future__ import annotations

import json
import time

import pytest
from flask import Flask
from sqlalchemy import func, select

from pallapp.auth.session import LAST_SEEN
from pallapp.extensions import db
from pallapp.models import Assessment, Role
from tests.factories import PASSWORD, make_patient, make_unit, make_user

ESAS_ITEMS = (
    "pain", "tiredness", "drowsiness", "nausea", "lack_of_appetite", "shortness_of_breath",
    "depression", "anxiety", "wellbeing",
)
SCRIPT = {"X-Pallapp-Send": "1"}


@pytest.fixture
def world(app: Flask) -> dict[str, str]:
    with app.app_context():
        unit = make_unit("Team Sala")
        # English pages: the assertions read the msgids, whatever the Swedish catalogue says.
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        patient = make_patient([unit])
        db.session.commit()
        return {"nurse": nurse.email, "patient": patient.public_id}


def esas(token: str, **extra: str) -> dict[str, str]:
    return {**{f"item_{code}": "3" for code in ESAS_ITEMS}, "client_token": token, **extra}


def assessment_count(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count(Assessment.id)))


def form_url(world: dict[str, str]) -> str:
    return f"/patients/{world['patient']}/assessments/new/esas_r"


def test_the_script_gets_the_stored_address_and_the_same_token_stores_nothing(
    app, client, auth, world
):
    auth.login(world["nurse"])
    first = client.post(form_url(world), data=esas("a" * 32), headers=SCRIPT)
    assert first.status_code == 200
    answer = first.get_json()
    assert answer["created"] is True
    assert answer["location"].startswith(f"/patients/{world['patient']}/assessments/")
    # Back + send again, a double tap, the outbox retrying: the same token.
    again = client.post(form_url(world), data=esas("a" * 32), headers=SCRIPT)
    assert again.get_json() == {"location": answer["location"], "created": False}
    # Without the script the same is a redirect to the one record.
    plain = client.post(form_url(world), data=esas("a" * 32))
    assert plain.status_code == 302
    assert plain.headers["Location"] == answer["location"]
    assert assessment_count(app) == 1


def test_the_same_answers_in_a_new_form_ask_before_a_second_record(app, client, auth, world):
    auth.login(world["nurse"])
    client.post(form_url(world), data=esas("b" * 32))
    second = client.post(form_url(world), data=esas("c" * 32), headers=SCRIPT)
    page = second.get_data(as_text=True)
    # Not stored, and not JSON: the script shows the question as the page it is.
    assert second.status_code == 200
    assert second.mimetype == "text/html"
    assert "The same answers were saved a moment ago" in page
    assert 'name="confirm_identical" value="1"' in page
    assert assessment_count(app) == 1
    # Different answers are a new assessment without a question.
    other = client.post(form_url(world), data=esas("d" * 32, item_pain="7"))
    assert other.status_code == 302
    assert assessment_count(app) == 2
    # Confirmed: stored as a new one.
    confirmed = client.post(form_url(world), data=esas("c" * 32, confirm_identical="1"))
    assert confirmed.status_code == 302
    assert assessment_count(app) == 3


def test_an_idle_post_is_not_stored_and_leads_back_to_its_form(app, client, auth, world):
    auth.login(world["nurse"])
    with client.session_transaction() as session:
        session[LAST_SEEN] = time.time() - (app.config["STAFF_IDLE_MINUTES"] * 60 + 5)
    late = client.post(form_url(world), data=esas("e" * 32), headers=SCRIPT)
    assert late.status_code == 302
    assert late.headers["Location"] == "/login?next=" + form_url(world)
    assert assessment_count(app) == 0
    login_page = client.get(late.headers["Location"]).get_data(as_text=True)
    assert "Nothing has been sent yet." in login_page
    # Logged in again: back to the form (its answers come from the device).
    back = client.post(
        "/login", data={"email": world["nurse"], "password": PASSWORD, "next": form_url(world)}
    )
    assert back.status_code == 302
    assert back.headers["Location"] == form_url(world)


def test_the_installable_app_files_carry_no_cookie_and_no_patient_data(app, client, auth, world):
    auth.login(world["nurse"])
    for url in ("/sw.js", "/manifest.webmanifest", "/offline"):
        answer = client.get(url)
        assert answer.status_code == 200, url
        assert "Set-Cookie" not in answer.headers, url
        assert "cookie" not in answer.headers.get("Vary", "").lower(), url
    manifest = json.loads(client.get("/manifest.webmanifest").get_data())
    assert manifest["display"] == "standalone"
    assert {icon["sizes"] for icon in manifest["icons"]} == {"192x192", "512x512"}
    worker = client.get("/sw.js")
    assert worker.headers["Cache-Control"] == "no-cache"
    assert worker.mimetype == "text/javascript"
    offline = client.get("/offline").get_data(as_text=True)
    # Logged in, but the offline page is the same for everyone: no name on it.
    with app.app_context():
        from pallapp.models import User

        name = db.session.scalar(select(User.name).where(User.email == world["nurse"]))
    assert name not in offline
