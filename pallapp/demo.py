"""Demo data: two care units that share patients, staff, patients, a patient and a relative.

Everything here is fictional. Personal identity numbers are generated with valid check digits
from a fixed seed, so runs are repeatable; the names are common Swedish names.
"""

from __future__ import annotations

import random
from datetime import date, timedelta

from sqlalchemy import func, select

from pallapp.extensions import db
from pallapp.models import (
    CareUnit,
    Patient,
    PatientUnit,
    Phase,
    RelativeLink,
    Role,
    UnitKind,
    UnitMembership,
    User,
)
from pallapp.passwords import hash_password
from pallapp.pnr import parse_personnummer
from pallapp.timeutil import today_local

DEMO_PASSWORD = "pallapp-demo"

GIVEN_NAMES = [
    "Anna",
    "Eva",
    "Maria",
    "Karin",
    "Kristina",
    "Lena",
    "Kerstin",
    "Ingrid",
    "Margareta",
    "Birgitta",
    "Lars",
    "Karl",
    "Anders",
    "Johan",
    "Per",
    "Nils",
    "Erik",
    "Lennart",
    "Olof",
    "Gunnar",
    "Sven",
    "Bengt",
    "Ulla",
    "Gun",
    "Sten",
    "Rolf",
    "Elsa",
    "Britt",
    "Åke",
    "Göran",
]
FAMILY_NAMES = [
    "Andersson",
    "Johansson",
    "Karlsson",
    "Nilsson",
    "Eriksson",
    "Larsson",
    "Olsson",
    "Persson",
    "Svensson",
    "Gustafsson",
    "Pettersson",
    "Jonsson",
    "Jansson",
    "Hansson",
    "Bengtsson",
    "Jönsson",
    "Lindberg",
    "Jakobsson",
    "Magnusson",
    "Lindström",
    "Olofsson",
    "Lindqvist",
    "Lindgren",
    "Berg",
    "Axelsson",
    "Bergström",
    "Lundberg",
    "Lind",
    "Lundgren",
    "Mattsson",
]
DIAGNOSES = [
    "Lungcancer (C34)",
    "Prostatacancer (C61)",
    "Bröstcancer (C50)",
    "Koloncancer (C18)",
    "Pankreascancer (C25)",
    "Hjärtsvikt (I50)",
    "KOL (J44)",
    "ALS (G12.2)",
    "Demens i Alzheimers sjukdom (F00)",
    "Njursvikt (N18)",
]


class DemoDataExists(RuntimeError):
    pass


def _luhn_check_digit(nine_digits: str) -> int:
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def make_personnummer(rng: random.Random, born: date, coordination: bool = False) -> str:
    day = born.day + (60 if coordination else 0)
    serial = f"{rng.randint(10, 989):03d}"
    short = f"{born:%y%m}{day:02d}{serial}"
    return f"{born:%Y%m}{day:02d}-{serial}{_luhn_check_digit(short)}"


def load_demo_data(skip_if_present: bool = False) -> str:
    """Create the demo records in the current session; the caller commits."""
    if db.session.scalar(select(func.count(CareUnit.id))):
        if skip_if_present:
            return "The database has data already; demo data not loaded."
        raise DemoDataExists(
            "The database has data already; demo data is only loaded into an empty one."
        )

    rng = random.Random(20261122)  # fixed seed: the same demo every time
    today = today_local()
    team = CareUnit(
        name="Specialiserad palliativ vård Dalarna",
        kind=UnitKind.SPECIALISED_PALLIATIVE.value,
        phone="023-49 00 00",
        # The demo logs staff in with passwords, also behind production settings
        # (deploy/topology.py); a real unit decides this itself.
        password_alone_allowed=True,
    )
    home = CareUnit(
        name="Hemsjukvården Borlänge",
        kind=UnitKind.MUNICIPAL_HOME_CARE.value,
        phone="0243-74 00 00",
        password_alone_allowed=True,
    )
    db.session.add_all([team, home])
    db.session.flush()

    password = hash_password(DEMO_PASSWORD)
    start = today - timedelta(days=365)

    def staff(email: str, name: str, role: Role, units: list[CareUnit]) -> User:
        user = User(email=email, name=name, role=role.value, password_hash=password)
        db.session.add(user)
        db.session.flush()
        for unit in units:
            db.session.add(UnitMembership(user_id=user.id, unit_id=unit.id, start=start))
        return user

    nurse = staff("nurse@example.org", "Sara Lind, sjuksköterska", Role.NURSE, [team, home])
    staff("nurse2@example.org", "Jonas Berg, sjuksköterska", Role.NURSE, [home])
    physician = staff("physician@example.org", "Dr Helena Ek", Role.PHYSICIAN, [team])
    staff("manager@example.org", "Maja Holm, enhetschef", Role.MANAGER, [team])
    staff("admin@example.org", "Admin Adminsson", Role.ADMIN, [])

    patients: list[Patient] = []
    for index in range(30):
        born = date(rng.randint(1930, 1965), rng.randint(1, 12), rng.randint(1, 28))
        identity = parse_personnummer(make_personnummer(rng, born, coordination=index == 29))
        # Enrolled long enough ago for three months of ratings (pallapp.demo_history).
        enrolled = today - timedelta(days=rng.randint(95, 200))
        patient = Patient(
            personnummer=identity.digits,
            is_coordination_number=identity.is_coordination_number,
            birth_date=identity.birth_date,
            given_name=GIVEN_NAMES[index],
            family_name=FAMILY_NAMES[index],
            main_diagnosis=rng.choice(DIAGNOSES),
            enrolled_on=enrolled,
            phase=(Phase.END_OF_LIFE if index % 7 == 3 else Phase.EARLY).value,
        )
        db.session.add(patient)
        db.session.flush()
        # 0-11: the palliative team only; 12-21: home care only; 22-29: both (shared care).
        units = [team] if index < 12 else [home] if index < 22 else [team, home]
        for unit in units:
            db.session.add(PatientUnit(patient_id=patient.id, unit_id=unit.id, start=enrolled))
        patients.append(patient)

    own = patients[22]  # a shared patient: both units read the same record
    self_user = User(
        email="patient@example.org",
        name=own.name,
        role=Role.PATIENT.value,
        password_hash=password,
        patient_id=own.id,
    )
    db.session.add(self_user)
    relative = User(
        email="relative@example.org",
        name="Lisa Lindgren",
        role=Role.RELATIVE.value,
        password_hash=password,
    )
    db.session.add(relative)
    db.session.flush()
    db.session.add(
        RelativeLink(
            relative_id=relative.id,
            patient_id=own.id,
            relation="dotter",
            may_answer_as_proxy=True,
            may_view_history=True,
        )
    )
    db.session.flush()
    from pallapp.demo_careplan import load_demo_careplans
    from pallapp.demo_history import load_demo_history

    assessments = load_demo_history(nurse, patients, self_user)
    doses = load_demo_careplans(nurse, physician, patients, team.phone)
    return (
        f"Demo data loaded: 2 care units, {len(patients)} patients, {assessments} assessments, "
        f"care plans, as-needed orders and {doses} doses, "
        f"7 accounts (password {DEMO_PASSWORD!r})."
    )
