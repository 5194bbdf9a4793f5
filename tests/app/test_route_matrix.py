"""Every route of the app against every kind of user: the authorization matrix (issue 7).

The routes come from the URL map, so a new route makes `test_every_route_has_a_declared_rule`
fail until its rule is written into RULES below. The rules are written from the product's
access rules (DESIGN.md, access.py's docstring, the issues), not read from the views: a
mismatch is a finding, either in the code or in this table.

Each actor logs in once and requests every route: GET where the route has it, else an empty
POST (CSRF is off in app tests, so the request reaches the access check). `allowed` means the
route answered without refusing (any status below 500 except 403 and 404, and no redirect to
the login page); `refused` means 403 or 404, and for anyone not logged in, the login page.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from flask import Flask
from sqlalchemy import select

from pallapp.assessments.services import submit_assessment
from pallapp.auth.services import issue_invitation
from pallapp.careplan import doses as dose_service
from pallapp.careplan import orders as order_service
from pallapp.extensions import db
from pallapp.flags.expected import mark_expected
from pallapp.interop import api_clients
from pallapp.models import Alert, CareUnit, Flag, Patient, Role, User, utcnow
from tests.app.world import World, build_world
from tests.factories import link_relative, make_user
from tests.identity import CITIZEN_USERS, STAFF_USERS, login_at_provider, provider_available

# --- who -----------------------------------------------------------------------------------

ANONYMOUS = frozenset({"anonymous", "deactivated_nurse"})  # the second cannot log in
STAFF_ELSEWHERE = frozenset({"nurse_other_unit", "physician_other_unit", "former_nurse"})
# Actors who logged in through a provider (tests/identity.py): the same rights as the actor
# they stand beside, a nurse of unit A and a relative with proxy and history rights.
OIDC_ACTORS = {"nurse_oidc": ("staff", "nurse-nina"), "relative_oidc": ("citizen", "relative-rut")}
CARE = frozenset({"nurse", "physician", "nurse_oidc"})  # chart for the patient (unit A)
UNIT_STAFF = CARE | {"manager"}  # read the patient's record
ALL_STAFF = UNIT_STAFF | STAFF_ELSEWHERE
HISTORY_SIDE = frozenset({"self", "relative_proxy", "relative_oidc"})  # proxy link, history
SELF_SIDE = HISTORY_SIDE | {"relative_plain"}
OUTSIDERS = frozenset({"relative_revoked", "relative_unlinked", "other_patient"})
LOGGED_IN = ALL_STAFF | SELF_SIDE | OUTSIDERS | {"admin"}
EVERYONE = LOGGED_IN | ANONYMOUS
ACTORS = sorted(EVERYONE)


@pytest.fixture
def app_config(request: pytest.FixtureRequest) -> dict[str, object]:
    """Both test providers where they are installed (their routes answer 404 otherwise)."""
    if not provider_available():
        return {}
    return request.getfixturevalue("identity_providers").config()  # type: ignore[no-any-return]

# --- what ----------------------------------------------------------------------------------

#: endpoint -> the actors allowed through. The patient in patient URLs is followed by unit A.
RULES: dict[str, frozenset[str]] = {
    # public
    "patients.index": EVERYONE,
    "auth.login": EVERYONE,
    "auth.invitation": EVERYONE,
    "auth.language": EVERYONE,
    "static": EVERYONE,
    "health.healthz": EVERYONE,  # the proxy's and monitors' health check: no data in it
    # The installable app: the same for everyone, no data, no cookie (pallapp/offline).
    "offline.service_worker": EVERYONE,
    "offline.manifest": EVERYONE,
    "offline.page": EVERYONE,
    "about.about": EVERYONE,  # what pallapp is and the instruments' acknowledgements
    # Logging in at a provider (404 where none is configured): anyone may start, and the way
    # back without this session's state is answered 400 for anyone alike.
    "auth.oidc_login": EVERYONE,
    "auth.oidc_invitation": EVERYONE,
    "auth.oidc_callback": EVERYONE,
    # The code after a password: anyone reaches the page, which sends them to the login page
    # unless a password was just accepted.
    "auth.second_factor_login": EVERYONE,
    # any account
    "auth.logout": LOGGED_IN,
    "auth.password": LOGGED_IN,
    "auth.second_factor_setup": LOGGED_IN,
    # patients and relatives have a start page; staff and admins are sent to theirs
    "patients.start": LOGGED_IN,
    # staff lists
    "patients.today": ALL_STAFF,
    # Nurses and physicians of any unit; a former member sees an empty page (no unit to use).
    "patients.enrol": ALL_STAFF - {"manager"},
    "review.overview": ALL_STAFF - {"manager"},
    "review.export_index": ALL_STAFF,
    # Quality indicators: any staff member reads their own units' report (a former member sees
    # an empty page); the patient lists and the CSV of unit A only its staff.
    "review.quality_report": ALL_STAFF,
    # the patient record
    "patients.show": UNIT_STAFF | SELF_SIDE,
    "patients.invite": CARE,
    # Relatives' access: the patient and the staff who chart for them; accounts: those staff.
    "patients.relatives_page": CARE | {"self"},
    "patients.end_relative_access": CARE | {"self"},
    "patients.withdraw_invitation": CARE | {"self"},
    "patients.account_active": CARE,
    "assessments.choose": CARE | SELF_SIDE,
    "assessments.fill": CARE | SELF_SIDE,
    "assessments.history": UNIT_STAFF | HISTORY_SIDE,
    "assessments.show": UNIT_STAFF | HISTORY_SIDE,
    "assessments.correct": CARE,
    "careplan.plan": UNIT_STAFF | SELF_SIDE,  # patients and relatives see their part
    "careplan.edit_plan": CARE,
    "careplan.plan_history": UNIT_STAFF,
    "careplan.milestones": UNIT_STAFF,
    "careplan.new_milestone": CARE,
    "careplan.orders": UNIT_STAFF,  # relatives only where a unit lets them give doses
    "careplan.new_order": frozenset({"physician"}),
    "careplan.change_order": frozenset({"physician"}),
    "careplan.stop_order": frozenset({"physician"}),
    "careplan.record_dose": CARE,
    "careplan.correct_dose": CARE,
    "careplan.evaluate_dose": CARE,
    # Alerts: every staff member sees the open alerts of their own units (none elsewhere);
    # acknowledging one needs the right to change the patient's record.
    "alerts.index": ALL_STAFF,
    "alerts.acknowledge": CARE,
    "alerts.new_expected_level": CARE,
    "alerts.end_expected_level": CARE,
    # The reporting plan: staff who read the record see it; saving needs the right to change.
    "reporting.plan": UNIT_STAFF,
    # Patients and relatives turn their own e-mail reminders off or on.
    "patients.reminder_choice": SELF_SIDE | OUTSIDERS,
    "review.flags": UNIT_STAFF,
    "review.acknowledge": CARE,
    "review.trends": UNIT_STAFF,
    "review.trend_chart": UNIT_STAFF,
    "review.summary": UNIT_STAFF,
    "review.export_csv": UNIT_STAFF,
    "interop.export_fhir": UNIT_STAFF,
    "review.quality_patients": UNIT_STAFF,
    "review.export_quality_csv": UNIT_STAFF,
    # Svenska palliativregistret pre-fill: the unit's staff (the world's patient is alive: the
    # page says so; tests/app/test_spr.py covers deceased ones).
    "interop.spr_index": ALL_STAFF,
    "interop.spr_unit": UNIT_STAFF,
    "interop.spr_patient": UNIT_STAFF,
    "interop.spr_csv": UNIT_STAFF,
    # EHR integrations: the unit's manager issues and revokes its API credentials.
    "interop.api_clients_page": frozenset({"manager"}),
    "interop.revoke_api_client": frozenset({"manager"}),
    # The FHIR API: definitions (no patient data) for anyone, so canonical URLs resolve ...
    "fhir_api.metadata": EVERYONE,
    "fhir_api.read_questionnaire": EVERYONE,
    "fhir_api.read_code_system": EVERYONE,
    # ... patient data only with an API credential: no session of any person opens it (401).
    "fhir_api.search_patients": frozenset(),
    "fhir_api.read_patient": frozenset(),
    "fhir_api.everything": frozenset(),
    "fhir_api.search_responses": frozenset(),
    "fhir_api.search_observations": frozenset(),
    # access-log review
    "logreview.search": frozenset({"manager"}),
    "logreview.export": frozenset({"manager"}),
    "logreview.mine": frozenset({"self", "other_patient"}),  # every patient, their own record
    # administration: no clinical data, administrators only
    "admin.units": frozenset({"admin"}),
    "admin.unit": frozenset({"admin"}),
    "admin.staff": frozenset({"admin"}),
    "admin.new_staff": frozenset({"admin"}),
    "admin.staff_active": frozenset({"admin"}),
    "admin.staff_units": frozenset({"admin"}),
    "admin.staff_second_factor": frozenset({"admin"}),
    "admin.invitations": frozenset({"admin"}),
    "admin.revoke": frozenset({"admin"}),
}

#: Endpoints that end the session (logging out; an invitation link logs out whoever opens it,
#: since it is meant for someone else): requested last, each after a fresh login.
LAST = ("auth.invitation", "auth.logout", "auth.oidc_login", "auth.oidc_invitation")
#: Routes that exist only where a provider is configured (a 404 otherwise).
PROVIDER_ROUTES = frozenset({"auth.oidc_login", "auth.oidc_invitation", "auth.oidc_callback"})


@dataclass(frozen=True)
class Objects:
    """Opaque ids for every URL argument, all belonging to the world's patient or unit A."""

    world: World
    values: dict[str, str]


def build_objects(app: Flask) -> Objects:
    world = build_world(app)
    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == world.emails["nurse"]))
        physician = db.session.scalar(select(User).where(User.email == world.emails["physician"]))
        admin = db.session.scalar(select(User).where(User.email == world.emails["admin"]))
        patient = db.session.scalar(select(Patient).where(Patient.public_id == world.patient))
        unit = db.session.scalar(select(CareUnit).where(CareUnit.name == "Team A"))
        esas = dict.fromkeys(
            ("pain", "tiredness", "drowsiness", "nausea", "lack_of_appetite",
             "shortness_of_breath", "depression", "anxiety", "wellbeing"),
            8,
        )
        assessment = submit_assessment(
            nurse, world.patient, instrument="esas_r", answers=esas, client_token="a" * 32
        ).assessment
        flag = db.session.scalar(select(Flag).where(Flag.assessment_id == assessment.id))
        marking = mark_expected(
            nurse, world.patient, instrument="esas_r", item="pain", level=3, days=7,
            reason="expected", now=utcnow(),
        )
        # A self-report with a severe rating raises an alert for unit A.
        own = db.session.scalar(select(User).where(User.email == world.emails["self"]))
        reported = submit_assessment(
            own, world.patient, instrument="esas_r", answers=esas, client_token="s" * 32
        ).assessment
        alert = db.session.scalar(
            select(Alert).join(Flag, Alert.flag_id == Flag.id).where(
                Flag.assessment_id == reported.id
            )
        )
        order = order_service.create_order(
            physician,
            world.patient,
            order_service.OrderDetails(
                indication="pain", drug="Morfin", dose="2.5", dose_unit="mg", route="sc",
                min_interval_minutes=60, max_doses_per_24h=6,
            ),
        )
        dose = dose_service.record_dose(
            nurse, world.patient, order.public_id, given_at=utcnow(),
            dose="2.5", dose_unit="mg", route="sc", client_token="d" * 32,
        ).administration
        # Targets for the administrators' state-changing posts: nobody else's account.
        spare = make_user(Role.NURSE, units=[unit])
        invitation = issue_invitation(
            created_by=admin, email="spare@example.org", name="Spare", role=Role.NURSE,
            valid_for=timedelta(hours=1), unit_id=unit.id,
        )
        # ... and for the posts about the patient's relatives: a relative of their own.
        spare_relative = make_user(Role.RELATIVE)
        spare_link = link_relative(spare_relative, patient)
        manager = db.session.scalar(select(User).where(User.email == world.emails["manager"]))
        api_client = api_clients.issue(manager, unit.public_id, "EHR", 30).client
        # The actors who log in through a provider, bound as an invitation would bind them.
        provider_nurse = make_user(Role.NURSE, units=[unit])
        provider_relative = make_user(Role.RELATIVE)
        link_relative(provider_relative, patient, proxy=True, history=True)
        for user, provider, claim in (
            (provider_nurse, "staff", STAFF_USERS["nurse-nina"]["hsa_id"]),
            (provider_relative, "citizen", CITIZEN_USERS["relative-rut"]["personnummer"]),
        ):
            user.password_hash = None
            user.identity_provider, user.identity_claim = provider, claim
        relative_invitation = issue_invitation(
            created_by=nurse, email="cousin@example.org", name="Cousin", role=Role.RELATIVE,
            valid_for=timedelta(hours=1), patient_id=patient.id, relation="cousin",
        )
        values = {
            "patient": patient.public_id,
            "assessment_id": assessment.public_id,
            "flag_id": flag.public_id,
            "alert": alert.public_id,
            "marking_id": marking.public_id,
            "order_id": order.public_id,
            "dose_id": dose.public_id,
            "unit_id": unit.public_id,
            "unit": unit.public_id,
            "staff": spare.public_id,
            "invitation": invitation.invitation.public_id,
            "token": invitation.token,
            "link_id": spare_link.public_id,
            "account_id": spare_relative.public_id,
            "invitation_id": relative_invitation.invitation.public_id,
            "code": "esas_r",
            "indicator": "care_plan",
            "key": "esas_total",
            "filename": "app.css",
            "client_id": api_client.public_id,
            "questionnaire": "esas-r",
            "code_system": "pallapp-scores",
            "resource_id": "0" * 32,
            "provider": "staff",
        }
        db.session.commit()
    return Objects(world, values)


def url_for_rule(rule, objects: Objects) -> str:  # type: ignore[no-untyped-def]
    """The rule's URL with every argument filled from `objects`."""
    values = dict(objects.values)
    if rule.endpoint.startswith("admin.unit"):
        values["public_id"] = values["unit"]
    elif rule.endpoint in ("admin.staff_active", "admin.staff_units", "admin.staff_second_factor"):
        values["public_id"] = values["staff"]
    elif rule.endpoint == "admin.revoke":
        values["public_id"] = values["invitation"]
    elif rule.endpoint == "alerts.acknowledge":
        values["public_id"] = values["alert"]
    else:
        values["public_id"] = values["patient"]
    path = rule.rule
    for argument in rule.arguments:
        path = path.replace(f"<{argument}>", values[argument])
        for converter in ("string", "path", "int"):
            path = path.replace(f"<{converter}:{argument}>", values[argument])
    return path


def app_rules(app: Flask) -> list:  # type: ignore[type-arg]
    rules = list(app.url_map.iter_rules())
    return sorted(rules, key=lambda r: (r.endpoint in LAST, r.endpoint, r.rule))


def test_every_route_has_a_declared_rule(app):
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert sorted(endpoints - set(RULES)) == [], "declare who may use these routes in RULES"
    assert sorted(set(RULES) - endpoints) == [], "these rules name routes that no longer exist"


#: Routes that hand out patient data as a file. POST only: every POST needs the CSRF token, so
#: a link or an image on another site cannot start an export in a staff member's name.
EXPORTS = frozenset(
    {
        "review.export_csv", "interop.export_fhir", "review.export_quality_csv",
        "logreview.export", "interop.spr_csv",
    }
)


def test_exports_answer_post_only(app):
    methods = {
        rule.endpoint: rule.methods - {"HEAD", "OPTIONS"}
        for rule in app.url_map.iter_rules()
        if rule.endpoint in EXPORTS
    }
    assert methods == dict.fromkeys(EXPORTS, {"POST"})


def classify(response) -> str:  # type: ignore[no-untyped-def]
    assert response.status_code < 500, response.status_code
    # 401: the FHIR API asks for its bearer credential, which no person's session carries.
    if response.status_code in (401, 403, 404):
        return "refused"
    # Flask-Login's refusal sends to the login page with ?next=; a view that sends there on
    # purpose (logging out, "/" for a visitor) does so without it.
    location = response.location or ""
    if response.status_code in (301, 302, 303) and "/login?next=" in location:
        return "refused"
    return "allowed"


@pytest.mark.parametrize("actor", ACTORS)
def test_route_matrix(app, client, auth, actor):
    if actor in OIDC_ACTORS and not provider_available():
        from tests.identity import SKIP_REASON

        pytest.skip(SKIP_REASON)
    objects = build_objects(app)

    def log_in():  # type: ignore[no-untyped-def]
        if actor in OIDC_ACTORS:
            provider, login = OIDC_ACTORS[actor]
            return login_at_provider(client, f"/login/with/{provider}", login)
        return auth.login(objects.world.emails[actor])

    if actor not in ANONYMOUS:
        assert log_in().status_code == 302
    elif actor == "deactivated_nurse":
        assert auth.login(objects.world.emails[actor]).status_code == 200  # refused

    providers = provider_available()
    mismatches = []
    for rule in app_rules(app):
        if rule.endpoint in LAST and actor not in ANONYMOUS:
            log_in()
        method = "GET" if "GET" in rule.methods else "POST"
        url = url_for_rule(rule, objects)
        response = client.open(url, method=method, data={})
        got = classify(response)
        response.close()
        allowed = actor in RULES[rule.endpoint]
        if rule.endpoint in PROVIDER_ROUTES and not providers:
            allowed = False
        expected = "allowed" if allowed else "refused"
        if got != expected:
            mismatches.append(f"{method} {rule.rule} ({rule.endpoint}): expected {expected}, got {got}")
    assert mismatches == [], "\n".join(mismatches)
