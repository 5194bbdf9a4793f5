"""The dose and order pages in Swedish: the warning names the doses a dose collides with, a
tenfold dose is stopped at the form, orders need limits and a dose in numbers, orders without
limits and oral orders in the end of life are explained in words."""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

import pytest
from sqlalchemy import func, select

from pallapp.careplan import doses as dose_service
from pallapp.careplan import milestones as milestone_service
from pallapp.careplan import orders as order_service
from pallapp.careplan.orders import OrderDetails
from pallapp.extensions import db
from pallapp.models import Flag, PrnAdministration, PrnOrder, Role, User, utcnow
from pallapp.timeutil import STOCKHOLM, today_local
from tests.factories import make_patient, make_unit, make_user
from tests.sql_log import selects, statements_sent

# At most 3 doses in 24 hours, at least 4 hours apart.
MORPHINE = OrderDetails(
    indication="pain", drug="Morfin", strength="10 mg/ml", dose="2,5", dose_unit="mg", route="sc",
    min_interval_minutes=240, max_doses_per_24h=3,
)
DAY = today_local() - timedelta(days=2)


def local(hour: int, minute: int = 0) -> datetime:
    return datetime.combine(DAY, time(hour, minute), tzinfo=STOCKHOLM)


def swedish_short(moment: datetime) -> str:
    """How the pages write a time in Swedish (Babel's short format for sv: yyyy-MM-dd HH:mm)."""
    return moment.astimezone(STOCKHOLM).strftime("%Y-%m-%d %H:%M")


@pytest.fixture
def ctx(app):
    with app.app_context():
        unit = make_unit("Team Borlänge")
        patient = make_patient([unit], given_name="Karin")
        nurse = make_user(Role.NURSE, units=[unit], language="sv")
        colleague = make_user(Role.NURSE, units=[unit], language="sv")
        physician = make_user(Role.PHYSICIAN, units=[unit], language="sv")
        order = order_service.create_order(physician, patient.public_id, MORPHINE,
                                      start_at=utcnow() - timedelta(days=5))
        db.session.commit()
        world = {
            "pid": patient.public_id, "patient_id": patient.id, "order": order.public_id,
            "nurse": nurse.email, "colleague": colleague.email, "colleague_name": colleague.name,
            "physician": physician.email, "physician_id": physician.id,
        }
    return world


def user(email):
    return db.session.scalar(select(User).where(User.email == email))


def dose_form(when, token, **extra):
    return {"given_at": when.astimezone(STOCKHOLM).strftime("%Y-%m-%dT%H:%M"), "dose": "2,5",
            "dose_unit": "mg", "route": "sc", "client_token": token, **extra}


def count_doses():
    return db.session.scalar(select(func.count(PrnAdministration.id)))


def words(response):
    """The page's text without tags, spaces collapsed."""
    page = re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))
    return " ".join(page.split())


def test_the_warning_names_the_later_doses_a_back_dated_dose_collides_with(app, ctx, client, auth):
    with app.app_context():
        for hour in (10, 14, 18):
            dose_service.record_dose(user(ctx["colleague"]), ctx["pid"], ctx["order"],
                                 given_at=local(hour), dose="2,5", dose_unit="mg", route="sc",
                                 client_token=f"{hour}".ljust(32, "a"))
        db.session.commit()
    auth.login(ctx["nurse"])
    url = f"/patients/{ctx['pid']}/orders/{ctx['order']}/dose"
    warned = client.post(url, data=dose_form(local(9), "b" * 32))
    assert warned.status_code == 200
    text = words(warned)
    assert "Varning: den här dosen är utanför ordinationens gränser" in text
    # 09:00 is 1 h before the 10:00 dose (at least 4 h), and the 4th within 24 h (at most 3).
    assert "nästa dos gavs bara 1 tim efter den här" in text
    assert "med den här dosen skulle 4 doser ha getts inom 24 timmar" in text
    assert "Den krockar med de här doserna:" in text
    for hour in (10, 14, 18):
        named = f"{swedish_short(local(hour))}: 2,5 mg, given av {ctx['colleague_name']}"
        assert named in text, named
    with app.app_context():
        assert count_doses() == 3
    confirmed = client.post(url, data=dose_form(local(9), "b" * 32, confirm_over_limit="y",
                                                over_limit_reason="Svår smärta, jour kontaktad"))
    assert confirmed.status_code == 302
    with app.app_context():
        assert count_doses() == 4
        flag = db.session.scalar(select(Flag).where(Flag.code == "prn_over_limit"))
        assert (flag.severity, flag.items) == ("high", ["pain"])


def test_a_tenfold_dose_is_stopped_at_the_form(app, ctx, client, auth):
    auth.login(ctx["nurse"])
    url = f"/patients/{ctx['pid']}/orders/{ctx['order']}/dose"
    form_page = client.get(url).get_data(as_text=True)
    # The ordered dose is beside the amount field, tied to it for screen readers.
    assert re.search(r'id="dose-hint">Ordinerat: 2,5 mg</p>', form_page)
    assert re.search(r'<input[^>]*aria-describedby="dose-hint"[^>]*name="dose"', form_page)
    warned = client.post(url, data=dose_form(local(10), "c" * 32, dose="25"))
    assert warned.status_code == 200
    text = words(warned)
    assert "Varning: dosen avviker från ordinationen" in text
    assert "25 mg har angetts, men ordinationen är 2,5 mg." in text
    assert "Det är 10 gånger den ordinerade dosen. Kontrollera decimaltecknet." in text  # 25 / 2,5
    assert "Avviker från ordinationen: se varningen ovan." in text
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*name="dose"[^>]*value="25"',
                     warned.get_data(as_text=True))
    with app.app_context():
        assert count_doses() == 0
    unexplained = client.post(url, data=dose_form(local(10), "c" * 32, dose="25",
                                                  confirm_dose_mismatch="y"))
    assert "Skriv varför dosen avviker från ordinationen." in words(unexplained)
    with app.app_context():
        assert count_doses() == 0
    # Corrected to the ordered dose: stored without a flag.
    assert client.post(url, data=dose_form(local(10), "c" * 32, dose="2,5")).status_code == 302
    with app.app_context():
        assert count_doses() == 1
        assert db.session.scalars(select(Flag.code).where(Flag.source == "dose")).all() == []


def test_a_tenth_of_the_dose_and_a_confirmed_mismatch(app, ctx, client, auth):
    auth.login(ctx["nurse"])
    url = f"/patients/{ctx['pid']}/orders/{ctx['order']}/dose"
    warned = words(client.post(url, data=dose_form(local(10), "d" * 32, dose="0,25")))
    # 2,5 / 0,25 = 10.
    assert "Den ordinerade dosen är 10 gånger större. Kontrollera decimaltecknet." in warned
    confirmed = client.post(url, data=dose_form(local(10), "d" * 32, dose="0,25",
                                                confirm_dose_mismatch="y",
                                                dose_mismatch_reason="Halv dos enligt läkare"))
    assert confirmed.status_code == 302
    with app.app_context():
        row = db.session.scalar(select(PrnAdministration))
        assert (row.dose, row.dose_mismatch_reason) == ("0,25", "Halv dos enligt läkare")
        flag = db.session.scalar(select(Flag).where(Flag.code == "prn_dose_mismatch"))
        assert (flag.severity, flag.items) == ("high", ["pain"])


def test_another_unit_or_route_is_marked_on_its_own_field(app, ctx, client, auth):
    auth.login(ctx["nurse"])
    url = f"/patients/{ctx['pid']}/orders/{ctx['order']}/dose"
    warned = client.post(url, data=dose_form(local(10), "e" * 32, dose_unit="ml", route="iv"))
    text = words(warned)
    assert "Enheten ml är inte ordinationens enhet, mg." in text
    assert "Administrationssättet intravenöst (i.v.) är inte ordinationens, subkutant (s.c.)." in text
    page = warned.get_data(as_text=True)
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*name="dose_unit"', page)
    assert re.search(r'<select[^>]*aria-invalid="true"[^>]*name="route"', page)
    assert not re.search(r'<input[^>]*aria-invalid="true"[^>]*name="dose"', page)


def test_the_amount_given_must_be_a_number(app, ctx, client, auth):
    auth.login(ctx["nurse"])
    url = f"/patients/{ctx['pid']}/orders/{ctx['order']}/dose"
    refused = words(client.post(url, data=dose_form(local(10), "f" * 32, dose="2,5 mg")))
    assert "Skriv given mängd som ett tal, till exempel 2,5. Enheten skrivs i ett eget fält." in refused
    with app.app_context():
        assert count_doses() == 0


ORDER_FORM = {"indication": "nausea", "drug": "Haloperidol", "dose": "0,5-1", "dose_unit": "mg",
              "route": "sc", "min_interval": "2", "max_doses_per_24h": "3"}


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"min_interval": ""}, "Skriv minsta tid mellan doser. Utan den kan de doser som ges inte "
                               "kontrolleras."),
        ({"max_doses_per_24h": ""}, "Skriv högsta antal doser per dygn. Utan det kan de doser "
                                    "som ges inte kontrolleras."),
        ({"dose": "1-0,5"}, "Skriv intervallet från den mindre till den större dosen"),
        ({"dose": "0,5 mg"}, "Skriv dosen som ett tal eller ett intervall"),
    ],
)
def test_the_order_form_refuses_an_order_without_limits_or_numbers(app, ctx, client, auth,
                                                                   changes, message):
    auth.login(ctx["physician"])
    response = client.post(f"/patients/{ctx['pid']}/orders/new", data={**ORDER_FORM, **changes})
    assert response.status_code == 200
    assert message in words(response)
    with app.app_context():
        assert db.session.scalar(select(PrnOrder).where(PrnOrder.indication == "nausea")) is None


def test_an_order_with_a_range_is_shown_as_numbers(app, ctx, client, auth):
    auth.login(ctx["physician"])
    assert client.post(f"/patients/{ctx['pid']}/orders/new", data=ORDER_FORM).status_code == 302
    with app.app_context():
        nausea = db.session.scalar(select(PrnOrder).where(PrnOrder.indication == "nausea"))
        assert (nausea.dose, nausea.min_interval_minutes, nausea.max_doses_per_24h) == ("0,5-1", 120, 3)
    page = words(client.get(f"/patients/{ctx['pid']}/orders"))
    assert "Haloperidol · 0,5–1 mg · subkutant (s.c.)" in page


def legacy_order(ctx):
    """An order kept from before limits and numeric doses were required."""
    row = PrnOrder(patient_id=ctx["patient_id"], indication="anxiety", drug="Midazolam",
                   dose="1 ampull", dose_unit="ml", route="sc", prescriber_id=ctx["physician_id"],
                   start_at=utcnow() - timedelta(days=40))
    db.session.add(row)
    db.session.commit()
    return row.public_id


def test_an_order_without_limits_is_shown_as_such_to_physician_and_nurse(app, ctx, client, auth):
    with app.app_context():
        old = legacy_order(ctx)
    auth.login(ctx["physician"])
    patient_page = words(client.get(f"/patients/{ctx['pid']}"))
    assert "Vid behovsordination utan gränser" in patient_page  # the flag, opened by the visit
    assert "Gränser saknas: ordinationen saknar minsta tid mellan doser" in patient_page
    assert "Ändra ordinationen och ange båda." in patient_page
    assert "dos skriven som text: 1 ampull ml (kontrolleras inte)" in patient_page
    orders = words(client.get(f"/patients/{ctx['pid']}/orders"))
    assert "Gränser saknas" in orders
    auth.logout()
    auth.login(ctx["nurse"])
    dose_page = words(client.get(f"/patients/{ctx['pid']}/orders/{old}/dose"))
    assert "Ordinerat: dos skriven som text: 1 ampull ml (kontrolleras inte)" in dose_page
    assert "Gränser saknas" in dose_page
    assert "En läkare behöver ändra ordinationen." in words(client.get(f"/patients/{ctx['pid']}"))


def test_an_oral_order_at_the_end_of_life_is_explained(app, ctx, client, auth):
    with app.app_context():
        physician = user(ctx["physician"])
        milestone_service.record_milestone(physician, ctx["pid"], kind="brytpunktssamtal",
                                  occurred_on=today_local())
        morphine = db.session.scalar(select(PrnOrder).where(PrnOrder.public_id == ctx["order"]))
        order_service.change_order(physician, ctx["pid"], morphine.public_id,
                              OrderDetails(**{**MORPHINE.__dict__, "drug": "Oxikodon",
                                              "dose": "5", "route": "po"}),
                              reason="Tar tabletter")
        db.session.commit()
    auth.login(ctx["nurse"])
    explained = ("Smärta: den ordination som gäller är peroralt (p.o.), inte som injektion. Den "
                 "räknas inte i livets slutskede: en döende patient kan ofta inte svälja")
    patient_page = words(client.get(f"/patients/{ctx['pid']}"))
    assert "Vid behovsordinationer saknas" in patient_page
    assert explained in patient_page
    assert explained in words(client.get(f"/patients/{ctx['pid']}/orders"))


def test_the_dose_form_finds_the_patient_and_the_order_in_one_statement(app, ctx, client, auth):
    """`orders.get_order` reads the patient (through the access rules) and the order together.
    An order of another patient, or none, is a 404 that is not logged as a refused patient
    (the nurse may see the patient); a nurse outside the unit gets the refusal logged."""
    from pallapp.models import AuditEvent

    with app.app_context():
        other_unit = make_unit("Team Falun")
        other = make_patient([other_unit], given_name="Olof")
        stranger = make_user(Role.NURSE, units=[other_unit], language="sv")
        physician = make_user(Role.PHYSICIAN, units=[other_unit], language="sv")
        others_order = order_service.create_order(physician, other.public_id, MORPHINE)
        db.session.commit()
        others_order_id, stranger_email = others_order.public_id, stranger.email

    def denials():
        with app.app_context():
            return db.session.scalar(
                select(func.count(AuditEvent.id)).where(AuditEvent.outcome == "denied")
            )

    auth.login(ctx["nurse"])
    with statements_sent(app) as sent:
        form = client.get(f"/patients/{ctx['pid']}/orders/{ctx['order']}/dose")
    assert form.status_code == 200
    # The user's session, then the patient with the order.
    read = selects(sent)
    assert len(read) == 2, read
    assert "prn_order" in read[1]
    assert "Karin" in form.get_data(as_text=True)  # the order's patient, named on the page
    before = denials()
    assert client.get(f"/patients/{ctx['pid']}/orders/{others_order_id}/dose").status_code == 404
    assert client.get(f"/patients/{ctx['pid']}/orders/no-such-order/dose").status_code == 404
    assert denials() == before
    auth.logout()
    auth.login(stranger_email)
    assert client.get(f"/patients/{ctx['pid']}/orders/{ctx['order']}/dose").status_code == 404
    assert denials() == before + 1
