"""The access matrix: every patient page x every kind of user.

Expected outcomes are written out per actor, not derived from the code under test. A refused
request answers 404 (the patient's existence is not revealed) and leaves a `denied` audit row.
"""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from pallapp.access import Need, bound_patient_condition, visible_patients
from pallapp.extensions import db
from pallapp.models import AuditEvent, Patient, User
from tests.app.world import build_world

OK, HIDDEN, LOGIN = 200, 404, "login"

# actor -> (patient page GET, invite page GET, invite POST)
MATRIX = {
    "nurse": (OK, OK, OK),
    "physician": (OK, OK, OK),
    "manager": (OK, HIDDEN, HIDDEN),  # reads the unit's records, does not chart or invite
    "admin": (HIDDEN, HIDDEN, HIDDEN),  # no clinical data at all
    "self": (OK, HIDDEN, HIDDEN),
    "relative_proxy": (OK, HIDDEN, HIDDEN),
    "relative_plain": (OK, HIDDEN, HIDDEN),
    "relative_revoked": (HIDDEN, HIDDEN, HIDDEN),
    "relative_unlinked": (HIDDEN, HIDDEN, HIDDEN),
    "other_patient": (HIDDEN, HIDDEN, HIDDEN),
    "nurse_other_unit": (HIDDEN, HIDDEN, HIDDEN),
    "physician_other_unit": (HIDDEN, HIDDEN, HIDDEN),
    "former_nurse": (HIDDEN, HIDDEN, HIDDEN),
    "anonymous": (LOGIN, LOGIN, LOGIN),
}


def _denied_rows(app, email):
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == email))
        return db.session.scalars(
            select(AuditEvent).where(AuditEvent.action == "denied", AuditEvent.user_id == user.id)
        ).all()


@pytest.mark.parametrize("actor", sorted(MATRIX))
def test_patient_pages_by_actor(app, client, auth, actor):
    world = build_world(app)
    if actor != "anonymous":
        response = auth.login(world.emails[actor])
        assert response.status_code == 302, "every actor in the matrix can log in"
    requests = [
        ("GET", f"/patients/{world.patient}"),
        ("GET", f"/patients/{world.patient}/invite"),
        ("POST", f"/patients/{world.patient}/invite"),
    ]
    invite_form = {
        "who": "relative",
        "name": "Nils Test",
        "email": f"new-{actor}@example.org",
        "relation": "bror",
    }
    for (method, url), expected in zip(requests, MATRIX[actor], strict=True):
        response = client.open(url, method=method, data=invite_form if method == "POST" else None)
        if expected == LOGIN:
            assert response.status_code == 302
            assert response.location.startswith("/login")
        elif expected == HIDDEN:
            assert response.status_code == 404, (actor, method, url)
            assert b"Alma" not in response.data
        else:
            assert response.status_code == 200, (actor, method, url)
            if method == "GET" and url.endswith(world.patient):
                assert b"Alma" in response.data

    hidden = MATRIX[actor].count(HIDDEN)
    if actor != "anonymous":
        rows = _denied_rows(app, world.emails[actor])
        assert len(rows) == hidden
        with app.app_context():
            patient_id = db.session.scalar(
                select(Patient.id).where(Patient.public_id == world.patient)
            )
        assert all(row.patient_id == patient_id and row.outcome == "denied" for row in rows)


def test_deactivated_account_cannot_log_in(app, auth):
    world = build_world(app)
    response = auth.login(world.emails["deactivated_nurse"])
    assert response.status_code == 200
    assert b"/logout" not in response.data


def test_unknown_patient_id_looks_the_same_as_a_hidden_one(app, client, auth):
    world = build_world(app)
    auth.login(world.emails["nurse"])
    hidden = client.get(f"/patients/{world.other_patient}")
    unknown = client.get("/patients/does-not-exist")
    assert hidden.status_code == unknown.status_code == 404
    # Identical but for the requested address (echoed in the language form's return path) and
    # the CSRF token, which is signed with the time in seconds (two requests may straddle one).
    def masked(page: bytes, address: str) -> bytes:
        page = re.sub(rb'name="csrf_token" value="[^"]+"', b'name="csrf_token" value="T"', page)
        return page.replace(address.encode(), b"ID")

    assert masked(hidden.data, world.other_patient) == masked(unknown.data, "does-not-exist")


@pytest.mark.parametrize(
    ("actor", "expected"),
    [
        ("nurse", {"Alma"}),
        ("nurse_other_unit", {"Bertil"}),
        ("former_nurse", set()),
        ("manager", {"Alma"}),
        ("admin", set()),
        ("self", {"Alma"}),
        ("relative_plain", {"Alma"}),
        ("relative_revoked", set()),
        ("other_patient", {"Bertil"}),
    ],
)
def test_visible_patients_query(app, actor, expected):
    world = build_world(app)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == world.emails[actor]))
        names = {p.given_name for p in db.session.scalars(visible_patients(user))}
    assert names == expected


@pytest.mark.parametrize(
    ("actor", "need", "expected"),
    [
        ("relative_proxy", Need.VIEW_HISTORY, True),
        ("relative_plain", Need.VIEW_HISTORY, False),
        ("relative_proxy", Need.CHANGE, False),
        ("self", Need.CHANGE, False),
        ("nurse", Need.CHANGE, True),
        ("manager", Need.CHANGE, False),
        ("manager", Need.VIEW_HISTORY, True),
    ],
)
def test_needs_beyond_viewing(app, actor, need, expected):
    world = build_world(app)
    with app.app_context():
        user = db.session.scalar(select(User).where(User.email == world.emails[actor]))
        found = db.session.scalar(
            visible_patients(user, need).where(Patient.public_id == world.patient)
        )
    assert (found is not None) is expected


def test_bound_condition_finds_who_visible_patients_finds(app):
    """`bound_patient_condition` (statements built once, the user bound at each call) lets
    every actor `need` exactly the patients `visible_patients` gives, for every need; one
    statement built around it serves every user of its test."""
    world = build_world(app)
    shown = 0
    with app.app_context():
        for email in world.emails.values():
            user = db.session.scalar(select(User).where(User.email == email))
            for need in Need:
                expected = set(db.session.scalars(visible_patients(user, need).with_only_columns(Patient.id)))
                bound = bound_patient_condition(user, need)
                if bound is None:
                    assert expected == set(), (email, need)
                    continue
                condition, values = bound
                found = set(db.session.scalars(select(Patient.id).where(condition), values))
                assert found == expected, (email, need)
                shown += len(found)
    assert shown  # not only refusals


def test_today_lists_only_my_units_patients(app, client, auth):
    world = build_world(app)
    auth.login(world.emails["nurse_other_unit"])
    page = client.get("/today")
    assert page.status_code == 200
    assert b"Bertil" in page.data
    assert b"Alma" not in page.data


@pytest.mark.parametrize("actor", ["self", "relative_plain", "admin"])
def test_today_is_for_staff_only(app, client, auth, actor):
    world = build_world(app)
    auth.login(world.emails[actor])
    assert client.get("/today").status_code == 403
