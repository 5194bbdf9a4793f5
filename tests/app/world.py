"""A small world of units, staff, patients and relatives for access tests."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from flask import Flask

from pallapp.extensions import db
from pallapp.models import Role, UnitKind
from pallapp.timeutil import today_local
from tests.factories import link_relative, make_patient, make_unit, make_user


@dataclass(frozen=True)
class World:
    patient: str  # public id of the patient the matrix is about (followed by unit A)
    other_patient: str  # followed by unit B only
    emails: dict[str, str]  # actor name -> e-mail


def build_world(app: Flask) -> World:
    with app.app_context():
        unit_a = make_unit("Team A", UnitKind.SPECIALISED_PALLIATIVE)
        unit_b = make_unit("Home care B", UnitKind.MUNICIPAL_HOME_CARE)
        patient = make_patient([unit_a], given_name="Alma")
        other = make_patient([unit_b], given_name="Bertil")
        yesterday = today_local() - timedelta(days=1)
        actors = {
            "nurse": make_user(Role.NURSE, units=[unit_a]),
            "physician": make_user(Role.PHYSICIAN, units=[unit_a]),
            "manager": make_user(Role.MANAGER, units=[unit_a]),
            "admin": make_user(Role.ADMIN),
            "self": make_user(Role.PATIENT, patient=patient),
            "relative_proxy": make_user(Role.RELATIVE),
            "relative_plain": make_user(Role.RELATIVE),
            "relative_revoked": make_user(Role.RELATIVE),
            "relative_unlinked": make_user(Role.RELATIVE),
            "other_patient": make_user(Role.PATIENT, patient=other),
            "nurse_other_unit": make_user(Role.NURSE, units=[unit_b]),
            "physician_other_unit": make_user(Role.PHYSICIAN, units=[unit_b]),
            "former_nurse": make_user(Role.NURSE, units=[unit_a], membership_end=yesterday),
            "deactivated_nurse": make_user(Role.NURSE, units=[unit_a], active=False),
        }
        link_relative(actors["relative_proxy"], patient, proxy=True, history=True)
        link_relative(actors["relative_plain"], patient)
        link_relative(actors["relative_revoked"], patient, proxy=True, history=True, revoked=True)
        link_relative(actors["relative_unlinked"], other)
        world = World(
            patient=patient.public_id,
            other_patient=other.public_id,
            emails={name: user.email for name, user in actors.items()},
        )
        db.session.commit()
    return world
