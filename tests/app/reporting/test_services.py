"""Reporting plans per patient: the phase's default, a phase change, and a plan of the
patient's own set by staff with a reason, replacing (never overwriting) the earlier one."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from pallapp.access import NotVisible
from pallapp.extensions import db
from pallapp.flags.plan import PlanLine
from pallapp.models import Phase, ReportingPlanEntry, Role
from pallapp.refusals import Reason
from pallapp.reporting import services
from tests.factories import make_patient, make_unit, make_user

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


@pytest.fixture
def ctx(app):
    with app.app_context():
        unit = make_unit("Team Väst")
        unit.assessment_interval_days = 5
        nurse = make_user(Role.NURSE, units=[unit])
        manager = make_user(Role.MANAGER, units=[unit])
        patient = make_patient([unit])
        patient.enrolled_on = NOW.date() - timedelta(days=30)
        db.session.commit()
        yield {"nurse": nurse, "manager": manager, "patient": patient}


def test_the_phase_default_uses_the_units_interval_and_a_phase_change_brings_the_new_plan(ctx):
    patient = ctx["patient"]
    plan = services.plan_for(patient, NOW)
    assert plan.lines == (PlanLine("esas_r", "patient", 5, relative_may_answer=True),)
    assert not plan.own
    patient.phase = Phase.END_OF_LIFE.value
    # End of life: the unit's end-of-life interval (default 2 days) and ROAG weekly.
    assert services.plan_for(patient, NOW).lines == (
        PlanLine("ipos_staff", "staff", 2), PlanLine("roag", "staff", 7),
    )
    patient.phase = Phase.DECEASED.value
    assert services.plan_for(patient, NOW).lines == ()


def test_staff_set_an_own_plan_with_a_reason_and_the_old_one_is_kept(ctx):
    patient = ctx["patient"]
    with pytest.raises(services.PlanRefused) as refused:
        services.set_patient_plan(ctx["nurse"], patient.public_id, [PlanLine("esas_r", "patient", 3)], " ", NOW)
    assert refused.value.reason is Reason.PLAN_REASON_REQUIRED
    with pytest.raises(NotVisible):  # a manager reads, but does not change, the record
        services.set_patient_plan(ctx["manager"], patient.public_id, [PlanLine("esas_r", "patient", 3)], "x", NOW)
    services.set_patient_plan(ctx["nurse"], patient.public_id, [PlanLine("esas_r", "patient", 3)], "Smärtan ändras snabbt", NOW)
    services.set_patient_plan(ctx["nurse"], patient.public_id, [PlanLine("ipos_patient", "patient", 7)], "Orkar IPOS", NOW + timedelta(days=1))
    db.session.commit()
    plan = services.plan_for(patient, NOW + timedelta(days=1))
    assert plan.own
    assert plan.reason == "Orkar IPOS"
    assert [line.instrument for line in plan.lines] == ["ipos_patient"]
    rows = db.session.scalars(select(ReportingPlanEntry).order_by(ReportingPlanEntry.id)).all()
    assert [(row.instrument, row.replaced_at) for row in rows] == [
        ("esas_r", NOW + timedelta(days=1)), ("ipos_patient", None),
    ]
    # The own plan belongs to the phase it was set in: end of life brings that phase's default.
    patient.phase = Phase.END_OF_LIFE.value
    assert not services.plan_for(patient, NOW).own
