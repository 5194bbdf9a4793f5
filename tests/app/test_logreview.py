"""Access-log review: the manager's search and CSV export, and the patient's own list."""

from __future__ import annotations

import csv
import io
import re
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from pallapp.extensions import db
from pallapp.models import AuditEvent, CareUnit, Patient, User, utcnow
from pallapp.timeutil import today_local
from tests.app.review.test_overview import ABBEY_ITEMS, IPOS_ITEMS, ROAG_ITEMS
from tests.app.review.test_views import ESAS_CALM, submit
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


# --- Loggkontroll that can be read: grouped, translated, filtered, sampled ---------------------


def event_rows(page) -> list[str]:  # type: ignore[no-untyped-def]
    """The text of each event row of the search page."""
    text = page.get_data(as_text=True)
    return [
        re.sub(r"<[^>]+>", " ", row)
        for row in re.findall(r'<tr class="event">(.*?)</tr>', text, flags=re.S)
    ]


def patient_events(app, public_id: str) -> list[AuditEvent]:
    with app.app_context():
        return db.session.scalars(
            select(AuditEvent)
            .join(Patient, Patient.id == AuditEvent.patient_id)
            .where(Patient.public_id == public_id)
            .order_by(AuditEvent.id)
        ).all()


def test_item15_a_trends_page_with_its_charts_is_one_event(app, client, auth, world):
    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == world.emails["nurse"]))
        alma = db.session.scalar(select(Patient).where(Patient.public_id == world.patient))
        submit(nurse, alma, "esas_r", dict(ESAS_CALM, pain=3), days_ago=1)
        submit(nurse, alma, "ipos_staff", dict.fromkeys(IPOS_ITEMS, 1) | {"pain": 2}, days_ago=1)
        submit(nurse, alma, "abbey", dict.fromkeys(ABBEY_ITEMS, 0), days_ago=1)
        submit(nurse, alma, "roag", dict.fromkeys(ROAG_ITEMS, 1), days_ago=1)
        db.session.commit()
    auth.login(world.emails["physician"])
    before = len(patient_events(app, world.patient))
    page = client.get(f"/patients/{world.patient}/trends")
    charts = re.findall(r'<img class="chart" src="([^"]+)"', page.get_data(as_text=True))
    # One image per chart of the four instruments rated (ESAS-r total, IPOS staff, Abbey, ROAG);
    # the item ratings are heat-map tables in the page itself, not images (issue 16).
    assert len(charts) == 4
    for chart in charts:
        assert client.get(chart.replace("&amp;", "&")).status_code == 200
    written = patient_events(app, world.patient)[before:]
    assert [(e.action, e.object_type) for e in written] == [("view", "trends")]
    # A chart opened on its own, with no page view of the patient before it, is logged.
    auth.logout()
    auth.login(world.emails["nurse"])
    assert client.get(charts[0].replace("&amp;", "&")).status_code == 200
    assert [(e.action, e.object_type) for e in patient_events(app, world.patient)[-1:]] == [
        ("view", "trend_chart")
    ]


def audit_codes_in_source() -> tuple[set[str], set[str]]:
    """Every action of AuditAction, and every object type the source can write: the literals
    passed as object_type / audit_as, and the table of every model (obj=...)."""
    from pallapp.extensions import db as database
    from pallapp.models import AuditAction

    source = "\n".join(
        path.read_text() for path in Path("pallapp").rglob("*.py")
    )
    literals = set(re.findall(r'(?:object_type|audit_as)(?::[^=]*)?=\s*"([a-z_]+)"', source))
    tables = set(database.metadata.tables)
    return {action.value for action in AuditAction}, literals | tables


def test_item15_every_action_and_object_type_is_translated(app, client, auth, world):
    from pallapp.logreview.labels import ACTION_LABELS, OBJECT_LABELS, OUTCOME_LABELS

    actions, objects = audit_codes_in_source()
    assert "trend_chart" in objects
    assert "enrolment_check" in objects
    assert sorted(actions - set(ACTION_LABELS)) == []
    assert sorted(objects - set(OBJECT_LABELS)) == []
    assert {"ok", "denied", "throttled", "idle_timeout"} <= set(OUTCOME_LABELS)
    # On the Swedish page, no code shows: a view of the trends reads as words.
    opens(client, auth, world.emails["nurse"], f"/patients/{world.patient}/trends")
    auth.login(world.emails["nurse_other_unit"])
    assert client.get(f"/patients/{world.patient}").status_code == 404  # denied
    auth.logout()
    auth.login(world.emails["manager"])
    rows = event_rows(client.get("/audit-log"))
    assert any("öppnade · förlopp" in row for row in rows), rows
    assert any("nekades åtkomst · journal" in row and "nekad" in row for row in rows), rows
    for row in rows:
        for code in ("trend_chart", "trends", "view", "denied", "patient_list", " ok "):
            assert code not in row, (code, row)


def test_item15_filters_by_action_care_relationship_and_own_events(app, client, auth, world):
    with app.app_context():
        users = {
            key: db.session.scalar(select(User).where(User.email == world.emails[key]))
            for key in ("nurse", "former_nurse", "manager")
        }
        alma = db.session.scalar(select(Patient).where(Patient.public_id == world.patient))
        names = {key: user.name for key, user in users.items()}
        # The former nurse read Alma's record three days ago, while still a member of Team A
        # (the membership ended yesterday): then they had a care relationship.
        db.session.add(
            AuditEvent(
                at=utcnow() - timedelta(days=3), action="view", user_id=users["former_nurse"].id,
                patient_id=alma.id, object_type="patient", object_id=alma.public_id,
            )
        )
        number = alma.formatted_personnummer
        db.session.commit()
    opens(client, auth, world.emails["nurse"], f"/patients/{world.patient}")
    # The other unit's nurse tries the record (refused) and probes the enrolment form.
    auth.login(world.emails["nurse_other_unit"])
    assert client.get(f"/patients/{world.patient}").status_code == 404
    with app.app_context():
        unit_b = db.session.scalar(select(CareUnit.public_id).where(CareUnit.name == "Home care B"))
    client.post(
        "/patients/new",
        data={"personnummer": number, "given_name": "X", "family_name": "Y",
              "enrolled_on": today_local().isoformat(), "unit": unit_b},
    )
    auth.logout()
    # The former nurse, today, is refused.
    auth.login(world.emails["former_nurse"])
    assert client.get(f"/patients/{world.patient}").status_code == 404
    auth.logout()
    auth.login(world.emails["manager"])
    client.get(f"/patients/{world.patient}")  # the manager's own view

    with app.app_context():
        other_name = db.session.scalar(
            select(User.name).where(User.email == world.emails["nurse_other_unit"])
        )
    without = event_rows(search(client, no_care_relationship="y"))
    # The refusal and the enrolment check by the other unit's nurse, today's refusal of the
    # former nurse; not the former nurse's read while a member, not the unit's own staff.
    assert sorted(
        ("nekades åtkomst" in row, "kontroll vid inskrivning" in row, name)
        for row in without
        for name in (other_name, names["former_nurse"])
        if name in row
    ) == sorted(
        [(True, False, other_name), (False, True, other_name), (True, False, names["former_nurse"])]
    )
    assert len(without) == 3
    denied = event_rows(search(client, action="denied"))
    assert len(denied) == 2
    assert all("nekades åtkomst" in row for row in denied)
    everything = event_rows(search(client))
    mine = [row for row in everything if names["manager"] in row]
    assert mine  # the manager's own view, and nothing else hides it by default
    not_mine = event_rows(search(client, exclude_mine="y"))
    assert len(not_mine) == len(everything) - len(mine)
    assert all(names["manager"] not in row for row in not_mine)


def test_item15_a_random_sample_of_n_events_can_be_drawn_again(app, client, auth, world):
    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == world.emails["nurse"]))
        alma = db.session.scalar(select(Patient).where(Patient.public_id == world.patient))
        now = utcnow()
        for minutes in range(1, 41):  # 40 reads, a minute apart
            db.session.add(
                AuditEvent(
                    at=now - timedelta(minutes=minutes), action="view", user_id=nurse.id,
                    patient_id=alma.id, object_type="patient", object_id=alma.public_id,
                )
            )
        db.session.commit()
    auth.login(world.emails["manager"])
    first = search(client, sample="5", seed="")  # the browser sends the empty field
    seed = re.search(r'name="seed"[^>]*value="(\d+)"', first.get_data(as_text=True)).group(1)
    rows = event_rows(first)
    assert len(rows) == 5
    # The same number draws the same sample, on the page and in the CSV.
    assert event_rows(search(client, sample="5", seed=seed)) == rows
    exported = search(client, "/audit-log.csv", sample="5", seed=seed).get_data(as_text=True)
    assert len(list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))) == 5
    # Asking for more than there are gives them all; the review itself is logged with its
    # sample size and number (never a patient's name).
    assert len(event_rows(search(client, sample="1000", seed=seed))) == 40
    with app.app_context():
        reviews = db.session.scalars(
            select(AuditEvent.detail).where(AuditEvent.object_type == "audit_log")
        ).all()
    assert f"sample 5, seed {seed}" in reviews


@pytest.mark.parametrize("field", ["sample", "seed"])
def test_an_over_long_sample_number_is_a_form_error(client, auth, world, field):
    """Found by fuzzing: 400 digits made WTForms' range check overflow (a server error)."""
    auth.login(world.emails["manager"])
    for path in ("/audit-log", "/audit-log.csv"):
        response = search(client, path, **{field: "9" * 400})
        assert response.status_code == 200
        assert response.mimetype == "text/html"


@pytest.mark.parametrize(
    ("start", "end"),
    [("0001-01-01", "2026-01-31"), ("2026-01-01", "9999-12-31"), ("0001-01-01", "9999-12-31")],
)
@pytest.mark.parametrize("path", ["/audit-log", "/audit-log.csv"])
def test_item16_out_of_range_dates_get_a_message(client, auth, world, start, end, path):
    auth.login(world.emails["manager"])
    response = search(client, path, start=start, end=end)
    # The search page again (for the CSV button too), saying what is wrong; no file.
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    assert "Välj ett datum mellan 2000-01-01 och 2099-12-31." in response.get_data(as_text=True)


def test_the_swedish_day_of_a_stored_time_is_computed_in_sql_as_python_does(app):
    """`local_date` (used for "without a care relationship") against zoneinfo, around every
    change of offset in four years and around local midnight in winter and summer."""
    from datetime import UTC, datetime

    from pallapp.logreview.localdate import local_date
    from pallapp.timeutil import STOCKHOLM

    moments = []
    for year in (2025, 2026, 2027, 2028):
        for month in (3, 10):  # the last Sunday of March and of October, at 01:00 UTC
            last_sunday = max(
                datetime(year, month, day, 1, tzinfo=UTC)
                for day in range(25, 32)
                if datetime(year, month, day).weekday() == 6
            )
            moments += [last_sunday + timedelta(seconds=delta) for delta in (-1, 0, 1)]
            moments += [last_sunday + timedelta(hours=hours) for hours in (-2, 21, 22, 23)]
        # Local midnight: 23:00 UTC in winter, 22:00 UTC in summer.
        for month, hour in ((1, 23), (7, 22)):
            midnight = datetime(year, month, 15, hour, tzinfo=UTC)
            moments += [midnight - timedelta(microseconds=1), midnight]
    with app.app_context():
        events = [AuditEvent(at=moment, action="view") for moment in moments]
        db.session.add_all(events)
        db.session.flush()
        computed = dict(
            db.session.execute(
                select(AuditEvent.id, local_date(AuditEvent.at)).where(
                    AuditEvent.id.in_([event.id for event in events])
                )
            ).all()
        )
        db.session.rollback()
    wrong = [
        (moment.isoformat(), str(computed[event.id]))
        for event, moment in zip(events, moments, strict=True)
        if str(computed[event.id]) != moment.astimezone(STOCKHOLM).date().isoformat()
    ]
    assert wrong == []
    assert len(moments) == 4 * (2 * 7 + 2 * 2)
