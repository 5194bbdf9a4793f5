"""Fuzzing every form (issue 7): arbitrary values posted to every POST route of the app.

For each route that takes a POST, an actor allowed to use it opens the page, reads the names of
the form's fields from the HTML, and Hypothesis posts arbitrary values under those names: wrong
types, huge strings, unicode, HTML and SQL payloads, fields left out or sent twice, unknown
fields. Two properties must hold for every post:

- the app never answers with a server error (5xx);
- a post that the app did not accept (anything but a redirect after success) stores nothing:
  every table keeps its row count, except the append-only audit log.

The number of cases per route is bounded (FUZZ_EXAMPLES, or PALLAPP_FUZZ_EXAMPLES) so the suite
runs in a bounded time in CI.
"""

from __future__ import annotations

import os
from html.parser import HTMLParser

import pyotp
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from pallapp.extensions import db
from pallapp.models import User, utcnow
from tests.app.test_route_matrix import RULES, build_objects, url_for_rule

FUZZ_EXAMPLES = int(os.environ.get("PALLAPP_FUZZ_EXAMPLES", "12"))

#: Who fuzzes a route: the first actor in this list whom the route's rule lets through.
PREFERRED_ACTORS = ("physician", "nurse", "manager", "admin", "self", "anonymous")
#: Routes whose POST ends the session (logging out): nothing to fuzz but the act itself.
SKIPPED = {"auth.logout"}
#: Routes that only take a POST (their form sits on another page): the fields they read.
POST_ONLY_FIELDS = {
    "auth.language": ["csrf_token", "language", "next"],
    "logreview.export": [
        "csrf_token", "start", "end", "patient", "user", "action", "no_care_relationship",
        "exclude_mine", "sample", "seed",
    ],
    "review.export_csv": ["csrf_token", "pseudonymised"],
    "interop.export_fhir": ["csrf_token"],
    "interop.spr_csv": ["csrf_token"],
    "interop.revoke_api_client": ["csrf_token", "submit"],
    "review.export_quality_csv": ["csrf_token", "start", "end"],
    "admin.revoke": ["csrf_token", "submit"],
    "admin.staff_active": ["csrf_token", "submit", "active"],
    "admin.staff_units": ["csrf_token", "submit", "end", "add"],
    "admin.staff_second_factor": ["csrf_token", "submit"],
    "patients.account_active": ["csrf_token", "submit", "active"],
    "patients.withdraw_invitation": ["csrf_token", "submit", "back"],
    "alerts.acknowledge": ["csrf_token"],
    "alerts.end_expected_level": ["csrf_token"],
    "patients.reminder_choice": ["csrf_token", "reminders"],
}

#: Routes reached only half-way through a login (password right, second factor awaited): the
#: nurse is given a second factor and logs in with her password before each post.
AWAITING_SECOND_FACTOR = {"auth.second_factor_login"}

HOSTILE = st.sampled_from(
    [
        "",
        " ",
        "0",
        "-1",
        "11",
        "2.5",
        "1e309",
        "NaN",
        "9" * 400,
        "x" * 20_000,
        "<script>alert(1)</script>",
        '"><img src=x onerror=alert(1)>',
        "'; DROP TABLE patient; --",
        "' OR '1'='1",
        "\x00",
        "\u202e\u200b\ufeff",
        "😀" * 100,
        "null",
        "true",
        "[]",
        '{"a": 1}',
        "cannot_assess",
        "not_applicable",
        "2026-13-45T25:61",
        "1900-01-01",
        "2999-12-31T23:59",
        "../../etc/passwd",
        "%s%s%s%n",
    ]
)
VALUE = HOSTILE | st.text(max_size=300) | st.integers(-(10**12), 10**12).map(str)


class FieldNames(HTMLParser):
    """The names of the inputs, selects, textareas and named buttons of a page's forms."""

    def __init__(self) -> None:
        super().__init__()
        self.names: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        name = dict(attrs).get("name")
        if tag in ("input", "select", "textarea", "button") and name and name not in self.names:
            self.names.append(name)


def field_names(html: str) -> list[str]:
    parser = FieldNames()
    parser.feed(html)
    # The language switch and logout of every page's header and footer are other routes.
    return [name for name in parser.names if name not in ("language", "next")]


def row_counts() -> dict[str, int]:
    return {
        table.name: db.session.scalar(select(func.count()).select_from(table)) or 0
        for table in db.metadata.sorted_tables
        if table.name != "audit_event"
    }


def fuzzed_form(draw_names: list[str]):  # type: ignore[no-untyped-def]
    """A strategy for a MultiDict: each known field left out, sent once or sent twice, plus
    sometimes a field the form does not know."""
    per_field = st.one_of(
        st.just([]), st.lists(VALUE, min_size=1, max_size=1), st.lists(VALUE, min_size=2, max_size=2)
    )
    known = st.fixed_dictionaries({name: per_field for name in draw_names})
    unknown = st.dictionaries(st.sampled_from(["id", "patient_id", "role", "is_admin"]), VALUE, max_size=2)

    def combine(parts):  # type: ignore[no-untyped-def]
        fields, extra = parts
        data = MultiDict()
        for name, values in fields.items():
            for value in values:
                data.add(name, value)
        for name, value in extra.items():
            data.add(name, value)
        return data

    return st.tuples(known, unknown).map(combine)


def post_routes(app) -> list:  # type: ignore[no-untyped-def,type-arg]
    return sorted(
        (rule for rule in app.url_map.iter_rules() if "POST" in rule.methods and rule.endpoint not in SKIPPED),
        key=lambda rule: (rule.endpoint, rule.rule),
    )


def test_every_post_route_is_fuzzed(app):
    # The fuzz list comes from the URL map: a new POST route is fuzzed without being named.
    endpoints = {rule.endpoint for rule in post_routes(app)}
    assert len(endpoints) >= 20
    assert all(any(actor in RULES[e] for actor in PREFERRED_ACTORS) for e in endpoints)


@pytest.fixture
def fuzz_setup(app, client, auth):  # type: ignore[no-untyped-def]
    return build_objects(app)


def _routes_for_params() -> list[str]:
    from pallapp import create_app

    probe = create_app({"ENV_NAME": "testing", "DATABASE_URL": "sqlite://"})
    return [f"{rule.endpoint} {rule.rule}" for rule in post_routes(probe)]


@pytest.mark.parametrize("route", _routes_for_params())
def test_fuzz_post_route(app, client, auth, fuzz_setup, route):
    endpoint, path = route.split(" ", 1)
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint and r.rule == path)
    # Public routes (login, invitations, language) are fuzzed by a visitor.
    if "anonymous" in RULES[endpoint]:
        actor = "anonymous"
    else:
        actor = next(a for a in PREFERRED_ACTORS if a in RULES[endpoint])
    objects = fuzz_setup
    if endpoint in AWAITING_SECOND_FACTOR:
        actor = "nurse"
        with app.app_context():
            nurse = db.session.scalar(select(User).where(User.email == objects.world.emails[actor]))
            nurse.totp_secret = pyotp.random_base32()
            nurse.totp_enabled_at = utcnow()
            db.session.commit()
    if actor != "anonymous":
        assert auth.login(objects.world.emails[actor]).status_code == 302
    url = url_for_rule(rule, objects)
    if "GET" in rule.methods:
        page = client.get(url)
        assert page.status_code == 200, (actor, url, page.status_code)
        names = field_names(page.get_data(as_text=True))
        assert names, f"{url} shows no form fields"
    else:
        names = POST_ONLY_FIELDS[endpoint]

    @settings(
        max_examples=FUZZ_EXAMPLES,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(data=fuzzed_form(names))
    def post_arbitrary(data: MultiDict) -> None:  # type: ignore[type-arg]
        if actor != "anonymous":
            # A fuzzed post may end the session (an invitation logs out); log in again.
            auth.login(objects.world.emails[actor])
        with app.app_context():
            before = row_counts()
        response = client.post(url, data=data)
        assert response.status_code < 500, (route, dict(data.lists()), response.status_code)
        accepted = response.status_code in (301, 302, 303) and "/login" not in (response.location or "")
        if not accepted:
            with app.app_context():
                after = row_counts()
            changed = {t: (before[t], after[t]) for t in before if before[t] != after[t]}
            assert changed == {}, (route, response.status_code, changed)
        response.close()

    post_arbitrary()
