"""Small factory functions that build records for tests (call inside an app context)."""

from __future__ import annotations

import itertools
from datetime import date, timedelta

from argon2 import PasswordHasher

from pallapp.demo import make_personnummer
from pallapp.extensions import db
from pallapp.models import (
    CareUnit,
    Patient,
    PatientUnit,
    RelativeLink,
    Role,
    UnitKind,
    UnitMembership,
    User,
    utcnow,
)
from pallapp.pnr import parse_personnummer
from pallapp.timeutil import today_local

PASSWORD = "correct horse battery"
# Argon2id at its lowest cost for the test accounts. The login code checks it exactly as it
# checks a production hash (the parameters travel inside the hash), in microseconds instead of
# the quarter of a CPU second that pallapp's own parameters cost on purpose, at each of the
# thousands of logins in the suite. tests/unit/app/test_passwords.py holds those parameters.
_PASSWORD_HASH = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash(PASSWORD)
_counter = itertools.count(1)


def make_unit(
    name: str | None = None,
    kind: UnitKind = UnitKind.SPECIALISED_PALLIATIVE,
    *,
    password_alone_allowed: bool = False,
) -> CareUnit:
    unit = CareUnit(
        name=name or f"Unit {next(_counter)}",
        kind=kind.value,
        phone="010-123 45 67",
        password_alone_allowed=password_alone_allowed,
    )
    db.session.add(unit)
    db.session.flush()
    return unit


def make_user(
    role: Role,
    *,
    email: str | None = None,
    units: list[CareUnit] = (),  # type: ignore[assignment]
    patient: Patient | None = None,
    membership_start: date | None = None,
    membership_end: date | None = None,
    active: bool = True,
    language: str | None = None,
) -> User:
    number = next(_counter)
    user = User(
        email=email or f"{role.value}{number}@example.org",
        name=f"{role.value.title()} {number}",
        role=role.value,
        password_hash=_PASSWORD_HASH,
        patient_id=patient.id if patient else None,
        active=active,
        language=language,
    )
    db.session.add(user)
    db.session.flush()
    for unit in units:
        db.session.add(
            UnitMembership(
                user_id=user.id,
                unit_id=unit.id,
                start=membership_start or today_local() - timedelta(days=100),
                end=membership_end,
            )
        )
    db.session.flush()
    return user


class _CountingSerial:
    """Stands in for `random.Random` in `make_personnummer`: the serial follows the counter, so
    patients born the same day get distinct numbers (random serials collided now and then)."""

    def __init__(self, number: int) -> None:
        self.number = number

    def randint(self, low: int, high: int) -> int:
        return low + self.number % (high - low + 1)


def make_patient(
    units: list[CareUnit] = (),  # type: ignore[assignment]
    *,
    given_name: str = "Astrid",
    family_name: str | None = None,
    born: date = date(1941, 3, 14),
    episode_end: date | None = None,
) -> Patient:
    number = next(_counter)
    identity = parse_personnummer(make_personnummer(_CountingSerial(number), born))
    enrolled = today_local() - timedelta(days=30)
    patient = Patient(
        personnummer=identity.digits,
        is_coordination_number=identity.is_coordination_number,
        birth_date=identity.birth_date,
        given_name=given_name,
        family_name=family_name or f"Testsson{number}",
        enrolled_on=enrolled,
    )
    db.session.add(patient)
    db.session.flush()
    for unit in units:
        db.session.add(
            PatientUnit(patient_id=patient.id, unit_id=unit.id, start=enrolled, end=episode_end)
        )
    db.session.flush()
    return patient


def link_relative(
    relative: User,
    patient: Patient,
    *,
    proxy: bool = False,
    history: bool = False,
    revoked: bool = False,
) -> RelativeLink:
    link = RelativeLink(
        relative_id=relative.id,
        patient_id=patient.id,
        relation="son",
        may_answer_as_proxy=proxy,
        may_view_history=history,
        revoked_at=utcnow() if revoked else None,
    )
    db.session.add(link)
    db.session.flush()
    return link
