"""Access-log review: the manager's search and CSV export, and the patient's own list."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from pallapp.extensions import db
from pallapp.models import AuditEvent, User
from pallapp.timeutil import today_local
from tests.app.world import build_world


@pytest.fixture
def world(app):
    return build_world(app)


def search(client, path="/audit-log", **fields):  # type: ignore[no-untyped-def]
    """Post the search form: the last 30 days unless given."""
    today = today_local()
    data = {"start": (today - timedelta(days=29)).isoformat(), "end": today.isoformat()}
    data.update(fields)
    return client.post(path, data=data)


def opens(client, auth, email, path):  # type: ignore[no-untyped-def]
    """Log in as `email`, open `path` (audited as a view), log out."""
    auth.login(email)
    assert client.get(path).status_code == 200
    auth.logout()


def test_manager_sees_who_opened_their_units_patients_only(app, client, auth, world):
    opens(client, auth, world.emails["nurse"], f"/patients/{world.patient}")
    opens(client, auth, world.emails["nurse_other_unit"], f"/patients/{world.other_patient}")
    auth.login(world.emails["manager"])
    page = client.get("/audit-log").get_data(as_text=True)
    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == world.emails["nurse"]))
        other = db.session.scalar(
            select(User).where(User.email == world.emails["nurse_other_unit"])
        )
        nurse_name, other_name = nurse.name, other.name
    assert nurse_name in page
    assert "Alma" in page  # the patient of the manager's unit
    # Unit B's patient and the nurse who opened only that record stay out of sight.
    assert "Bertil" not in page
    assert other_name not in page


def test_search_by_user_and_period(app, client, auth, world):
    opens(client, auth, world.emails["nurse"], f"/patients/{world.patient}")
    opens(client, auth, world.emails["physician"], f"/patients/{world.patient}")
    auth.login(world.emails["manager"])
    page = search(client, user=world.emails["physician"])
    text = page.get_data(as_text=True)
    assert world.emails["physician"] in text
    assert world.emails["nurse"] not in text
    # A period that ended yesterday holds none of today's events.
    yesterday = today_local() - timedelta(days=1)
    earlier = search(
        client, start=(yesterday - timedelta(days=7)).isoformat(), end=yesterday.isoformat()
    ).get_data(as_text=True)
    assert "Inga händelser matchar sökningen." in earlier


def test_an_end_before_the_start_is_a_form_error(client, auth, world):
    auth.login(world.emails["manager"])
    today = today_local()
    page = search(client, start=today.isoformat(), end=(today - timedelta(days=1)).isoformat())
    assert page.status_code == 200
    assert "Slutdatum kan inte vara före startdatum." in page.get_data(as_text=True)


def test_csv_export_is_scoped_masked_and_audited(app, client, auth, world):
    opens(client, auth, world.emails["nurse"], f"/patients/{world.patient}")
    opens(client, auth, world.emails["nurse_other_unit"], f"/patients/{world.other_patient}")
    auth.login(world.emails["manager"])
    response = search(client, "/audit-log.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows  # the nurse's view of Alma's record, at least
    assert {row["patient"].split()[0] for row in rows} == {"Alma"}
    assert world.emails["nurse"] in {row["email"] for row in rows}
    with app.app_context():
        exports = db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.object_type == "audit_log")
        ).all()
    assert len(exports) == 1
    # Only masked numbers: no run of 12 digits (a whole personnummer) in the file.
    assert not re.search(r"\d{12}", response.get_data(as_text=True).replace("-", ""))


@pytest.mark.parametrize(
    "actor", ["nurse", "physician", "admin", "self", "relative_proxy", "former_nurse"]
)
def test_only_managers_review_the_log(client, auth, world, actor):
    auth.login(world.emails[actor])
    assert client.get("/audit-log").status_code == 404
    assert search(client).status_code == 404
    assert search(client, "/audit-log.csv").status_code == 404


def test_anonymous_is_sent_to_login(client):
    assert client.get("/audit-log").status_code == 302
    assert client.get("/start/access-log").status_code == 302


def test_patient_sees_which_staff_and_units_opened_the_record(app, client, auth, world):
    opens(client, auth, world.emails["physician"], f"/patients/{world.patient}")
    # A relative's own visit and another patient's record are not listed.
    opens(client, auth, world.emails["relative_proxy"], f"/patients/{world.patient}")
    opens(client, auth, world.emails["nurse_other_unit"], f"/patients/{world.other_patient}")
    auth.login(world.emails["self"])
    page = client.get("/start/access-log")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    with app.app_context():
        names = {
            key: db.session.scalar(select(User.name).where(User.email == world.emails[key]))
            for key in ("physician", "relative_proxy", "nurse_other_unit")
        }
    assert names["physician"] in text
    assert "Team A" in text  # the physician's unit on that day
    assert "öppnade journalen" in text
    assert names["relative_proxy"] not in text
    assert names["nurse_other_unit"] not in text


@pytest.mark.parametrize("actor", ["nurse", "manager", "relative_proxy", "admin"])
def test_only_patients_have_an_own_access_list(client, auth, world, actor):
    auth.login(world.emails[actor])
    assert client.get("/start/access-log").status_code == 404


def test_searching_by_patient_keeps_the_name_out_of_the_url(client, auth, world):
    auth.login(world.emails["manager"])
    page = client.get("/audit-log").get_data(as_text=True)
    assert re.search(r'<form method="post" class="search-form"', page)
    found = search(client, patient="Alma")
    assert found.status_code == 200
    assert found.request.url.endswith("/audit-log")  # no query string
