"""`needs_for` and `find_patient_and_needs` answer many needs in one query: the same answers,
for every actor of the world, as asking `visible_patients` once per need."""

from __future__ import annotations

import pytest
from sqlalchemy import event, select

from pallapp.access import (
    Need,
    NotVisible,
    can,
    find_patient_and_needs,
    needs_for,
    visible_patients,
)
from pallapp.extensions import db
from pallapp.models import Patient, User
from tests.app.world import build_world


def _one_by_one(user: User, public_id: str) -> frozenset[Need]:
    return frozenset(
        need
        for need in Need
        if db.session.scalar(visible_patients(user, need).where(Patient.public_id == public_id))
        is not None
    )


def test_needs_in_one_query_are_the_needs_one_by_one(app):
    world = build_world(app)
    with app.app_context():
        for actor, email in world.emails.items():
            user = db.session.scalar(select(User).where(User.email == email))
            for public_id in (world.patient, world.other_patient):
                patient = db.session.scalar(select(Patient).where(Patient.public_id == public_id))
                expected = _one_by_one(user, public_id)
                assert needs_for(user, patient) == expected, (actor, public_id)
                assert {n for n in Need if can(user, patient, n)} == expected, (actor, public_id)
                if Need.VIEW in expected:
                    found, needs = find_patient_and_needs(user, public_id)
                    assert (found.id, needs) == (patient.id, expected), (actor, public_id)
                else:
                    with pytest.raises(NotVisible):
                        find_patient_and_needs(user, public_id)


def test_a_need_the_role_never_has_costs_no_query(app):
    world = build_world(app)
    with app.app_context():
        nurse = db.session.scalar(select(User).where(User.email == world.emails["nurse"]))
        admin = db.session.scalar(select(User).where(User.email == world.emails["admin"]))
        patient = db.session.scalar(select(Patient).where(Patient.public_id == world.patient))
        statements = []

        def remember(*args):
            statements.append(args[2])

        event.listen(db.engine, "before_cursor_execute", remember)
        try:
            assert not can(nurse, patient, Need.PRESCRIBE)
            assert needs_for(admin, patient) == frozenset()
        finally:
            event.remove(db.engine, "before_cursor_execute", remember)
        assert statements == []


def test_the_episodes_come_with_the_record_and_the_same_needs(app):
    # `with_episodes`: the patient page's one query also brings the episodes and their units;
    # the answers are those without it, and naming the units sends nothing more.
    world = build_world(app)
    with app.app_context():
        for actor, email in world.emails.items():
            user = db.session.scalar(select(User).where(User.email == email))
            try:
                expected = find_patient_and_needs(user, world.patient)
            except NotVisible:
                with pytest.raises(NotVisible):
                    find_patient_and_needs(user, world.patient, with_episodes=True)
                continue
            db.session.expunge_all()
            user = db.session.scalar(select(User).where(User.email == email))
            statements = []

            def remember(*args, seen=statements):
                seen.append(args[2])

            event.listen(db.engine, "before_cursor_execute", remember)
            try:
                found, needs = find_patient_and_needs(user, world.patient, with_episodes=True)
                units = sorted(episode.unit.name for episode in found.episodes)
            finally:
                event.remove(db.engine, "before_cursor_execute", remember)
            assert (found.id, needs) == (expected[0].id, expected[1]), actor
            assert len(statements) == 1, actor
            assert units, actor  # the world's patient is followed by a unit
            db.session.expunge_all()
