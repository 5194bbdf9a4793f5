"""Ending a relative's access, and deactivating the accounts around a patient.

The patient and the nurses and physicians of the patient's units see who may act for the
patient and can end a relative's access, with a reason; the relative's sessions end at once.
Those staff can also deactivate (and reactivate) the patient's and the relatives' accounts.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from pallapp.auth.services import issue_invitation
from pallapp.extensions import db
from pallapp.models import AuditEvent, Invitation, RelativeLink, Role, User
from tests.factories import PASSWORD, link_relative, make_patient, make_unit, make_user

REASON = "Patienten vill inte längre att sonen ser skattningarna."


@pytest.fixture
def family(app):  # type: ignore[no-untyped-def]
    with app.app_context():
        unit, elsewhere = make_unit(), make_unit()
        patient = make_patient([unit], given_name="Greta")
        other = make_patient([elsewhere], given_name="Olle")
        people = {
            "nurse": make_user(Role.NURSE, units=[unit]),
            "physician": make_user(Role.PHYSICIAN, units=[unit]),
            "manager": make_user(Role.MANAGER, units=[unit]),
            "nurse_elsewhere": make_user(Role.NURSE, units=[elsewhere]),
            "self": make_user(Role.PATIENT, patient=patient),
            "other_patient": make_user(Role.PATIENT, patient=other),
            "son": make_user(Role.RELATIVE),
            "daughter": make_user(Role.RELATIVE),
            "stranger": make_user(Role.RELATIVE),
            "admin": make_user(Role.ADMIN),
        }
        son_link = link_relative(people["son"], patient, proxy=True, history=True)
        link_relative(people["daughter"], patient)
        link_relative(people["stranger"], other)
        db.session.commit()
        return {
            "patient": patient.public_id,
            "patient_id": patient.id,
            "link": son_link.public_id,
            "emails": {name: user.email for name, user in people.items()},
            "ids": {name: user.public_id for name, user in people.items()},
        }


def logged_in(app, family, who):  # type: ignore[no-untyped-def]
    browser = app.test_client()
    response = browser.post("/login", data={"email": family["emails"][who], "password": PASSWORD})
    assert response.status_code == 302, who
    return browser


def the_link(app, family) -> RelativeLink:  # type: ignore[no-untyped-def]
    with app.app_context():
        link = db.session.scalar(select(RelativeLink).where(RelativeLink.public_id == family["link"]))
        db.session.expunge(link)
        return link


def events(app, action: str) -> list[AuditEvent]:  # type: ignore[no-untyped-def]
    with app.app_context():
        found = list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))
        for event in found:
            db.session.expunge(event)
        return found


@pytest.mark.parametrize("who", ["nurse", "physician"])
def test_item02_staff_end_a_relatives_access_with_a_reason(app, family, who):
    staff = logged_in(app, family, who)
    son = logged_in(app, family, "son")
    patient_page = f"/patients/{family['patient']}"
    assert son.get(patient_page).status_code == 200

    page = staff.get(f"{patient_page}/relatives")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    end_url = f"{patient_page}/relatives/{family['link']}/end"
    assert end_url in text
    assert staff.get(end_url).status_code == 200
    done = staff.post(end_url, data={"reason": REASON})
    assert done.status_code == 302

    # The relative's session ended at once, and a new login finds no access.
    assert son.get(patient_page).location.startswith("/login")
    son = logged_in(app, family, "son")
    assert son.get(patient_page).status_code == 404
    link = the_link(app, family)
    assert link.revoked_at is not None
    assert link.revoked_reason == REASON
    with app.app_context():
        staff_id = db.session.scalar(select(User.id).where(User.public_id == family["ids"][who]))
    assert link.revoked_by_id == staff_id
    revoked = [e for e in events(app, "revoke") if e.object_id == family["link"]]
    assert [(e.user_id, e.patient_id, e.detail) for e in revoked] == [
        (staff_id, family["patient_id"], "ended by staff")
    ]
    assert REASON not in (revoked[0].detail or "")  # the audit log holds no free text
    # The page said so, and lists the ended access with its reason.
    after = staff.get(f"{patient_page}/relatives").get_data(as_text=True)
    assert REASON in after


def test_item02_the_patient_ends_a_relatives_access(app, family):
    greta = logged_in(app, family, "self")
    son = logged_in(app, family, "son")
    start = greta.get("/start").get_data(as_text=True)
    relatives_url = f"/patients/{family['patient']}/relatives"
    assert relatives_url in start
    end_url = f"{relatives_url}/{family['link']}/end"
    assert greta.get(end_url).status_code == 200
    assert greta.post(end_url, data={"reason": "Jag vill klara mig själv."}).status_code == 302
    assert son.get("/start").location.startswith("/login")
    assert the_link(app, family).revoked_reason == "Jag vill klara mig själv."
    with app.app_context():
        greta_id = db.session.scalar(select(User.id).where(User.public_id == family["ids"]["self"]))
    assert [(e.user_id, e.detail) for e in events(app, "revoke")] == [
        (greta_id, "ended by the patient")
    ]


@pytest.mark.parametrize("reason", ["", "   ", "x" * 501])
def test_item02_a_reason_is_required(app, family, reason):
    nurse = logged_in(app, family, "nurse")
    end_url = f"/patients/{family['patient']}/relatives/{family['link']}/end"
    page = nurse.post(end_url, data={"reason": reason})
    assert page.status_code == 200
    assert the_link(app, family).revoked_at is None
    assert events(app, "revoke") == []


@pytest.mark.parametrize(
    "who", ["manager", "nurse_elsewhere", "son", "daughter", "stranger", "other_patient", "admin"]
)
def test_item02_nobody_else_ends_access_or_changes_accounts(app, family, who):
    browser = logged_in(app, family, who)
    base = f"/patients/{family['patient']}"
    assert browser.get(f"{base}/relatives").status_code in (403, 404)
    assert browser.post(f"{base}/relatives/{family['link']}/end", data={"reason": "x"}).status_code in (403, 404)
    active = browser.post(f"{base}/accounts/{family['ids']['self']}/active", data={"active": "0"})
    assert active.status_code in (403, 404)
    assert the_link(app, family).revoked_at is None
    with app.app_context():
        assert db.session.scalar(select(User.active).where(User.public_id == family["ids"]["self"]))


def test_item02_the_patient_cannot_deactivate_accounts(app, family):
    greta = logged_in(app, family, "self")
    son_account = f"/patients/{family['patient']}/accounts/{family['ids']['son']}/active"
    assert greta.post(son_account, data={"active": "0"}).status_code == 404
    with app.app_context():
        assert db.session.scalar(select(User.active).where(User.public_id == family["ids"]["son"]))


@pytest.mark.parametrize("account", ["self", "son"])
def test_item02_staff_deactivate_and_reactivate_the_patients_and_relatives_accounts(
    app, family, account
):
    nurse = logged_in(app, family, "nurse")
    owner = logged_in(app, family, account)
    with app.app_context():
        nurse_user = db.session.scalar(select(User).where(User.public_id == family["ids"]["nurse"]))
        target = db.session.scalar(select(User).where(User.public_id == family["ids"][account]))
        # An invitation still open for the same e-mail (e.g. sent twice) must die with the account.
        pending = issue_invitation(
            created_by=nurse_user, email=target.email, name=target.name, role=Role(target.role),
            valid_for=timedelta(hours=1), patient_id=family["patient_id"],
        ).invitation.public_id
        db.session.commit()
    url = f"/patients/{family['patient']}/accounts/{family['ids'][account]}/active"
    assert nurse.post(url, data={}).status_code == 400  # no choice sent: nothing happens
    assert nurse.post(url, data={"active": "0"}).status_code == 302
    assert owner.get("/start").location.startswith("/login")  # logged out at once
    refused = owner.post("/login", data={"email": family["emails"][account], "password": PASSWORD})
    assert refused.status_code == 200
    with app.app_context():
        assert db.session.scalar(select(User.active).where(User.public_id == family["ids"][account])) is False
        invitation = db.session.scalar(select(Invitation).where(Invitation.public_id == pending))
        assert invitation.revoked_at is not None
    updates = [e for e in events(app, "update") if e.object_id == family["ids"][account]]
    assert [(e.detail, e.patient_id) for e in updates] == [("deactivated", family["patient_id"])]

    assert nurse.post(url, data={"active": "1"}).status_code == 302
    assert logged_in(app, family, account).get("/start").status_code == 200


def test_item02_accounts_of_other_patients_are_not_reached_through_this_one(app, family):
    nurse = logged_in(app, family, "nurse")
    for other in ("other_patient", "stranger", "nurse_elsewhere", "admin"):
        url = f"/patients/{family['patient']}/accounts/{family['ids'][other]}/active"
        assert nurse.post(url, data={"active": "0"}).status_code == 404, other
        with app.app_context():
            assert db.session.scalar(select(User.active).where(User.public_id == family["ids"][other]))


@pytest.mark.parametrize(
    ("language", "proxy_words", "history_words"),
    [
        ("sv", "Får svara på frågorna åt dig.", "Får se dina tidigare skattningar."),
        ("en", "May answer the questions for you.", "May see your earlier ratings."),
    ],
)
def test_item02_the_patient_sees_who_may_answer_and_see_history(
    app, family, language, proxy_words, history_words
):
    greta = logged_in(app, family, "self")
    greta.post("/language", data={"language": language, "next": "/start"})
    page = greta.get(f"/patients/{family['patient']}/relatives")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert f'<html lang="{language}">' in text
    with app.app_context():
        son = db.session.scalar(select(User).where(User.public_id == family["ids"]["son"]))
        daughter = db.session.scalar(select(User).where(User.public_id == family["ids"]["daughter"]))
        names = (son.name, daughter.name)
    for name in names:
        assert name in text
    assert text.count(proxy_words) == 1  # the son only
    assert text.count(history_words) == 1
    # Reading the page is audited as a read of the patient's record.
    views = [e for e in events(app, "view") if e.detail == "relatives and accounts"]
    assert [e.patient_id for e in views] == [family["patient_id"]]


def test_item02_an_unused_invitation_can_be_withdrawn_by_the_patient(app, family, client):
    nurse = logged_in(app, family, "nurse")
    invite = nurse.post(
        f"/patients/{family['patient']}/invite",
        data={"who": "relative", "name": "Kusin Karl", "email": "karl@example.org", "relation": "kusin"},
    )
    assert invite.status_code == 200
    greta = logged_in(app, family, "self")
    page = greta.get(f"/patients/{family['patient']}/relatives").get_data(as_text=True)
    assert "Kusin Karl" in page
    with app.app_context():
        invitation = db.session.scalar(select(Invitation).where(Invitation.email == "karl@example.org"))
        public_id = invitation.public_id
    url = f"/patients/{family['patient']}/invitations/{public_id}/withdraw"
    assert logged_in(app, family, "son").post(url).status_code == 404
    assert greta.post(url).status_code == 302
    with app.app_context():
        assert db.session.scalar(select(Invitation.revoked_at).where(Invitation.public_id == public_id))
    assert "Kusin Karl" not in greta.get(f"/patients/{family['patient']}/relatives").get_data(as_text=True)
