"""Nothing lost, nothing half-stored (issue 7).

(a) A failure injected midway through a multi-row write (an assessment with its flags, a dose
    with its flag) leaves nothing behind, the user sees the plain 500 page, and the same form
    sent again afterwards is stored whole.
(b) PostgreSQL only: two threads, each with its own app context and connection, send the same
    form token at the same moment; exactly one record is stored and both get it back. The same
    for a dose, and for two care-plan saves based on the same version.
(c) A stale care-plan edit over HTTP is refused with a clear message; nothing is overwritten.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path
from uuid import uuid4

import pytest
from flask import Flask
from sqlalchemy import event, func, make_url, select

import pallapp
from pallapp import audit, carerecord
from pallapp.assessments import services as assessment_services
from pallapp.careplan import common as careplan_common
from pallapp.careplan import doses as dose_service
from pallapp.careplan import orders as order_service
from pallapp.careplan import plan as plan_service
from pallapp.careplan.orders import OrderDetails
from pallapp.extensions import db
from pallapp.models import (
    Assessment,
    AuditAction,
    AuditEvent,
    CarePlan,
    Flag,
    PrnAdministration,
    Role,
    User,
    utcnow,
)
from pallapp.refusals import Reason
from pallapp.timeutil import STOCKHOLM
from tests.factories import PASSWORD, make_patient, make_unit, make_user

ESAS_ITEMS = (
    "pain", "tiredness", "drowsiness", "nausea", "lack_of_appetite", "shortness_of_breath",
    "depression", "anxiety", "wellbeing",
)
# pain 8 (severe) and nausea 5 (moderate): the assessment is stored with two flags.
ESAS_FLAGGED = dict.fromkeys(ESAS_ITEMS, 1) | {"pain": 8, "nausea": 5}
MORPHINE = OrderDetails(
    indication="pain", drug="Morfin", strength="10 mg/ml", dose="2,5", dose_unit="mg", route="sc",
    min_interval_minutes=60, max_doses_per_24h=6,
)
# Limits every order must have, wide enough that twenty doses two minutes apart are never over
# one (each try gives its dose two minutes before the previous try's).
OXYCODONE = OrderDetails(
    indication="pain", drug="Oxikodon", strength="10 mg/ml", dose="2", dose_unit="mg", route="sc",
    min_interval_minutes=1, max_doses_per_24h=100,
)
PLAN = {
    "contacts": "Ring 010-111 dygnet runt",
    "treatment_limitations": "Vård i hemmet",
    "for_patient_and_relatives": "Vi kommer varje dag.",
}
TRIES = 20
SOURCE_ROOT = str(Path(pallapp.__file__).resolve().parent.parent)


class InjectedFailure(RuntimeError):
    """Stands for anything that can break midway: a bug, a lost connection, a full disk."""


@pytest.fixture
def world(app: Flask) -> dict[str, object]:
    with app.app_context():
        unit = make_unit("Team Sala")
        # English pages: the assertions read the msgids, whatever the Swedish catalogue says.
        nurse = make_user(Role.NURSE, units=[unit], language="en")
        physician = make_user(Role.PHYSICIAN, units=[unit], language="en")
        patient = make_patient([unit], given_name="Karin")
        limited = order_service.create_order(
            physician, patient.public_id, MORPHINE, start_at=utcnow() - timedelta(days=1)
        )
        plan_service.save_care_plan(nurse, patient.public_id, PLAN, based_on=None)
        db.session.commit()
        return {
            "unit": unit.id,
            "nurse": nurse.email,
            "nurse_id": nurse.id,
            "physician": physician.email,
            "physician_id": physician.id,
            "patient": patient.public_id,
            "patient_id": patient.id,
            "limited_order": limited.public_id,
        }


def counts(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {
            model.__tablename__: db.session.scalar(select(func.count(model.id)))
            for model in (Assessment, Flag, PrnAdministration, CarePlan, AuditEvent)
        }


def esas_form(token: str) -> dict[str, str]:
    return {**{f"item_{code}": str(value) for code, value in ESAS_FLAGGED.items()},
            "client_token": token}


def local_input(moment) -> str:  # type: ignore[no-untyped-def]
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%dT%H:%M")


def dose_form(when, token: str, **extra: str) -> dict[str, str]:  # type: ignore[no-untyped-def]
    return {"given_at": local_input(when), "dose": "2,5", "dose_unit": "mg", "route": "sc",
            "client_token": token, **extra}


def assert_plain_500(response) -> None:  # type: ignore[no-untyped-def]
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Something went wrong" in body
    for leak in ("Traceback", 'File "', ".py", "site-packages", SOURCE_ROOT, "InjectedFailure",
                 "injected"):
        assert leak not in body, leak


# --- (a) a failure midway ------------------------------------------------------------------


class Injection:
    """Makes one step of a multi-row write fail, and notes how much was already flushed."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.monkeypatch = monkeypatch
        self.fired = 0
        self.rows_flushed_before: list[int] = []
        self._listener: Callable[..., None] | None = None

    def on_flag_insert(self, parent: type) -> None:
        """Inserting a flag fails, after the assessment or dose row went to the database."""

        def refuse(mapper, connection, target):  # type: ignore[no-untyped-def]
            flushed = connection.execute(select(func.count(parent.id))).scalar_one()
            self.rows_flushed_before.append(flushed)
            self.fired += 1
            raise InjectedFailure("flag insert")

        self._listener = refuse
        event.listen(Flag, "before_insert", refuse)

    def on_audit_of(self, parent: type) -> None:
        """Writing the audit event of the new record fails, after its rows were flushed."""
        original = audit.record

        def failing(action, **kwargs):  # type: ignore[no-untyped-def]
            if action is AuditAction.CREATE and isinstance(kwargs.get("obj"), parent):
                self.rows_flushed_before.append(
                    db.session.scalar(select(func.count(parent.id)))
                )
                self.fired += 1
                raise InjectedFailure("audit record")
            return original(action, **kwargs)

        self.monkeypatch.setattr(audit, "record", failing)

    def remove(self) -> None:
        if self._listener is not None:
            event.remove(Flag, "before_insert", self._listener)
            self._listener = None
        self.monkeypatch.undo()


@pytest.fixture
def injection(monkeypatch: pytest.MonkeyPatch) -> Iterator[Injection]:
    injected = Injection(monkeypatch)
    yield injected
    injected.remove()


@pytest.mark.parametrize("step", ["flag_insert", "audit_record"])
def test_a_failure_midway_through_an_assessment_stores_none_of_it(
    app, client, auth, world, injection, step
):
    app.config["PROPAGATE_EXCEPTIONS"] = False  # answer with the 500 page, as in production
    auth.login(world["nurse"])
    url = f"/patients/{world['patient']}/assessments/new/esas_r"
    token = uuid4().hex
    before = counts(app)
    if step == "flag_insert":
        injection.on_flag_insert(Assessment)
    else:
        injection.on_audit_of(Assessment)

    assert_plain_500(client.post(url, data=esas_form(token)))

    assert injection.fired == 1
    # The failure came after the assessment row had reached the database ...
    assert injection.rows_flushed_before == [before["assessment"] + 1]
    # ... and none of it stayed: no assessment, no flag, no audit event.
    assert counts(app) == before
    injection.remove()
    # The same form sent again is stored whole: the half-written try did not use up its token.
    again = client.post(url, data=esas_form(token))
    assert again.status_code == 302
    with app.app_context():
        stored = db.session.scalar(select(Assessment).where(Assessment.client_token == token))
        assert {(f.code, tuple(f.items)) for f in stored.flags} == {
            ("severe_item", ("pain",)), ("moderate_item", ("nausea",))
        }
    assert again.location.endswith(stored.public_id)
    after = counts(app)
    assert (after["assessment"], after["flag"]) == (before["assessment"] + 1, before["flag"] + 2)


@pytest.mark.parametrize("step", ["flag_insert", "audit_record"])
def test_a_failure_midway_through_a_dose_stores_none_of_it(
    app, client, auth, world, injection, step
):
    app.config["PROPAGATE_EXCEPTIONS"] = False
    auth.login(world["nurse"])
    url = f"/patients/{world['patient']}/orders/{world['limited_order']}/dose"
    assert client.post(url, data=dose_form(utcnow() - timedelta(minutes=40), uuid4().hex)).status_code == 302
    # 40 minutes after the first dose, the order says 60: stored with a high flag when confirmed.
    token = uuid4().hex
    over_limit = dose_form(utcnow(), token, confirm_over_limit="y",
                           over_limit_reason="Genombrottssmärta")
    before = counts(app)
    if step == "flag_insert":
        injection.on_flag_insert(PrnAdministration)
    else:
        injection.on_audit_of(PrnAdministration)

    assert_plain_500(client.post(url, data=over_limit))

    assert injection.fired == 1
    assert injection.rows_flushed_before == [before["prn_administration"] + 1]
    assert counts(app) == before
    injection.remove()
    assert client.post(url, data=over_limit).status_code == 302
    with app.app_context():
        stored = db.session.scalar(
            select(PrnAdministration).where(PrnAdministration.client_token == token)
        )
        assert stored.over_limit_reason == "Genombrottssmärta"
        flags = db.session.scalars(select(Flag).where(Flag.code == "prn_over_limit")).all()
        assert [flag.params["dose"] for flag in flags] == [stored.public_id]
    after = counts(app)
    assert after["prn_administration"] == before["prn_administration"] + 1


# --- (b) the same form at the same moment, on PostgreSQL --------------------------------------


@pytest.fixture
def postgres_app(app: Flask, database_url: str) -> Flask:
    if make_url(database_url).get_backend_name() != "postgresql":
        pytest.skip(
            "concurrent submissions need PostgreSQL (SQLite serialises every writer); "
            "this test runs in the PostgreSQL half"
        )
    return app


class Checkpoint:
    """Wraps a service's lookup: counts calls, and in forced mode holds each thread after its
    first call until both have made it, so both pass the "already stored?" check before
    either writes (the worst interleaving, every time)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, module: object, name: str) -> None:
        self.original = getattr(module, name)
        self.lock = threading.Lock()
        self.reset(forced=False)
        monkeypatch.setattr(module, name, self)

    def reset(self, *, forced: bool) -> None:
        self.forced = forced
        self.calls = 0
        self.both_checked = threading.Barrier(2, timeout=30)
        self.waited: set[int] = set()

    def __call__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        result = self.original(*args, **kwargs)
        me = threading.get_ident()
        with self.lock:
            self.calls += 1
            first = me not in self.waited
            self.waited.add(me)
        if self.forced and first:
            self.both_checked.wait()
        return result


def race(app: Flask, user_id: int, act: Callable[[User], object]) -> list[object]:
    """`act` in two threads at once, each in its own app context (own session and
    connection), each committing as the request boundary does."""
    start = threading.Barrier(2, timeout=30)

    def one() -> object:
        with app.app_context():
            try:
                user = db.session.get(User, user_id)
                start.wait()
                outcome = act(user)
                db.session.commit()
                return outcome
            finally:
                db.session.rollback()
                db.session.remove()

    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = [pool.submit(one) for _ in range(2)]
        return [future.result(timeout=60) for future in futures]


@pytest.mark.postgres_only
@pytest.mark.parametrize("forced", [False, True], ids=["same_moment", "both_past_the_check"])
def test_the_same_assessment_form_twice_at_once_stores_one(postgres_app, world, monkeypatch, forced):
    app = postgres_app
    checkpoint = Checkpoint(monkeypatch, assessment_services, "_existing_for_token")
    reached_the_constraint = 0
    for _ in range(TRIES):
        token = uuid4().hex
        checkpoint.reset(forced=forced)

        def submit(user: User, token: str = token) -> tuple[str, bool]:
            submitted = assessment_services.submit_assessment(
                user, world["patient"], instrument="esas_r", answers=ESAS_FLAGGED,
                client_token=token,
            )
            return submitted.assessment.public_id, submitted.created

        outcomes = race(app, world["nurse_id"], submit)
        assert outcomes[0][0] == outcomes[1][0]  # both answered with the same assessment
        assert sorted(created for _, created in outcomes) == [False, True]
        # The loser looks the token up twice (before, and after the unique constraint refused it).
        reached_the_constraint += checkpoint.calls == 3
        with app.app_context():
            stored = db.session.scalars(
                select(Assessment).where(Assessment.client_token == token)
            ).all()
            assert len(stored) == 1
            assert stored[0].public_id == outcomes[0][0]
            flags = [(f.code, tuple(f.items)) for f in stored[0].flags]
            assert len(flags) == len(set(flags)) > 0
            created_events = db.session.scalar(
                select(func.count(AuditEvent.id)).where(
                    AuditEvent.action == "create", AuditEvent.object_id == stored[0].public_id
                )
            )
            assert created_events == 1
    if forced:
        assert reached_the_constraint == TRIES
    with app.app_context():
        assert db.session.scalar(select(func.count(Assessment.id))) == TRIES
    print(f"assessment races ({'forced' if forced else 'same moment'}): {TRIES} tries, "
          f"{2 * TRIES} submissions, {reached_the_constraint} reached the unique constraint")


@pytest.mark.postgres_only
@pytest.mark.parametrize("forced", [False, True], ids=["same_moment", "both_past_the_check"])
def test_the_same_dose_form_twice_at_once_stores_one(postgres_app, world, monkeypatch, forced):
    app = postgres_app
    with app.app_context():
        physician = db.session.get(User, world["physician_id"])
        order = order_service.create_order(
            physician, world["patient"], OXYCODONE, start_at=utcnow() - timedelta(days=1)
        ).public_id
        db.session.commit()
    checkpoint = Checkpoint(monkeypatch, dose_service, "_dose_for_token")
    reached_the_constraint = 0
    first = utcnow() - timedelta(minutes=1)
    for number in range(TRIES):
        token = uuid4().hex
        checkpoint.reset(forced=forced)
        given_at = first - timedelta(minutes=2 * number)

        def give(user: User, token: str = token, given_at=given_at) -> tuple[str, bool]:
            recorded = dose_service.record_dose(
                user, world["patient"], order, given_at=given_at,
                dose="2", dose_unit="mg", route="sc", client_token=token,
            )
            return recorded.administration.public_id, recorded.created

        outcomes = race(app, world["nurse_id"], give)
        assert outcomes[0][0] == outcomes[1][0]
        assert sorted(created for _, created in outcomes) == [False, True]
        reached_the_constraint += checkpoint.calls == 3
        with app.app_context():
            stored = db.session.scalars(
                select(PrnAdministration).where(PrnAdministration.client_token == token)
            ).all()
            assert [dose.public_id for dose in stored] == [outcomes[0][0]]
    if forced:
        assert reached_the_constraint == TRIES
    with app.app_context():
        assert db.session.scalar(select(func.count(PrnAdministration.id))) == TRIES
        # Only the stored dose raised flags: one open "frequent doses" flag, not one per thread.
        frequent = db.session.scalars(
            select(Flag).where(Flag.code == "prn_frequent", Flag.closed_at.is_(None))
        ).all()
        assert len(frequent) == 1
    print(f"dose races ({'forced' if forced else 'same moment'}): {TRIES} tries, "
          f"{2 * TRIES} submissions, {reached_the_constraint} reached the unique constraint")


@pytest.mark.postgres_only
@pytest.mark.parametrize("forced", [False, True], ids=["same_moment", "both_past_the_check"])
def test_two_care_plan_saves_on_the_same_version_at_once_store_one(
    postgres_app, world, monkeypatch, forced
):
    app = postgres_app
    checkpoint = Checkpoint(monkeypatch, carerecord, "current_care_plan")
    for attempt in range(TRIES):
        checkpoint.reset(forced=forced)
        version = attempt + 1  # the fixture saved version 1

        def save(user: User, version: int = version) -> int | Reason:
            values = dict(PLAN, contacts=f"Ring {user.name}, försök {version}")
            try:
                return plan_service.save_care_plan(
                    user, world["patient"], values, based_on=version
                ).version
            except careplan_common.Refused as refused:
                return refused.reason

        outcomes = race(app, world["nurse_id"], save)
        assert sorted(outcomes, key=str) == sorted([version + 1, Reason.STALE], key=str)
    with app.app_context():
        versions = db.session.scalars(
            select(CarePlan.version).where(CarePlan.patient_id == world["patient_id"])
            .order_by(CarePlan.version)
        ).all()
        assert versions == list(range(1, TRIES + 2))
    print(f"care-plan races ({'forced' if forced else 'same moment'}): {TRIES} tries, "
          f"{2 * TRIES} saves, {TRIES} refused as stale")


# --- (c) a stale care-plan edit over HTTP -----------------------------------------------------


def based_on(page: str) -> str:
    match = re.search(r'name="based_on" type="hidden" value="(\d+)"', page)
    assert match, "no based_on field in the edit form"
    return match.group(1)


def test_a_stale_care_plan_edit_is_refused_and_the_saved_version_is_kept(app, world):
    url = f"/patients/{world['patient']}/care-plan/edit"
    nurse, physician = app.test_client(), app.test_client()
    assert nurse.post("/login", data={"email": world["nurse"], "password": PASSWORD}).status_code == 302
    assert physician.post("/login", data={"email": world["physician"], "password": PASSWORD}).status_code == 302
    # Both open the edit form of version 1.
    nurse_form = based_on(nurse.get(url).get_data(as_text=True))
    physician_form = based_on(physician.get(url).get_data(as_text=True))
    assert nurse_form == physician_form == "1"

    nurse_saves = nurse.post(url, data=dict(PLAN, contacts="Ring 010-222", based_on=nurse_form))
    assert nurse_saves.status_code == 302
    stale = physician.post(
        url, data=dict(PLAN, treatment_limitations="Ingen sjukhusvård", based_on=physician_form)
    )
    page = stale.get_data(as_text=True)
    assert stale.status_code == 200
    assert "Someone saved the care plan while you were editing it." in page
    assert "Read the newest version and make your change again." in page
    # What the physician wrote is still in the form, not thrown away.
    assert "Ingen sjukhusvård" in page

    with app.app_context():
        plans = db.session.scalars(
            select(CarePlan).where(CarePlan.patient_id == world["patient_id"])
            .order_by(CarePlan.version)
        ).all()
        assert [plan.version for plan in plans] == [1, 2]
        assert (plans[0].contacts, plans[0].treatment_limitations) == (
            PLAN["contacts"], PLAN["treatment_limitations"]
        )
        assert (plans[1].contacts, plans[1].treatment_limitations) == (
            "Ring 010-222", PLAN["treatment_limitations"]
        )
        assert plans[1].created_by_id == world["nurse_id"]

    # Read again, the physician's change lands on top of the nurse's.
    fresh = physician.get(url).get_data(as_text=True)
    assert based_on(fresh) == "2"
    assert "Ring 010-222" in fresh
    saved = physician.post(url, data=dict(
        PLAN, contacts="Ring 010-222", treatment_limitations="Ingen sjukhusvård", based_on="2"
    ))
    assert saved.status_code == 302
    with app.app_context():
        plans = db.session.scalars(
            select(CarePlan).where(CarePlan.patient_id == world["patient_id"])
            .order_by(CarePlan.version)
        ).all()
        assert [(plan.version, plan.contacts, plan.treatment_limitations) for plan in plans] == [
            (1, PLAN["contacts"], PLAN["treatment_limitations"]),
            (2, "Ring 010-222", PLAN["treatment_limitations"]),
            (3, "Ring 010-222", "Ingen sjukhusvård"),
        ]
