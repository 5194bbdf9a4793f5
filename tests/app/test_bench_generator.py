"""The benchmark data generator writes what the services would have written.

The generator (benchmarks/generate.py) bypasses the services for speed, so these tests check its
rows against the services' own rules, read back from the database: scores, flags against the
previous assessment, corrections, dose limits, `prn_frequent`, care-plan versions, milestones and
audit events. Then the pages a load run opens must work on the generated data.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from benchmarks.generate import Region, generate
from pallapp import scoring
from pallapp.assessments.services import previous_assessment, rescore, scores_as_json
from pallapp.extensions import db
from pallapp.flags import order_rule
from pallapp.models import (
    Assessment,
    AuditEvent,
    CarePlan,
    Flag,
    Milestone,
    Patient,
    PrnAdministration,
    PrnOrder,
)
from tests.conftest import make_app

# Small but with every kind of row: 24 patients in 2 units over 44 days (history scale 4).
REGION = Region(patients=24, units=2, history_scale=4, seed=7)
NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def region(app, tmp_path):
    with app.app_context():
        counts = generate(REGION, tmp_path / "accounts.json", progress=False, now=NOW)
    return counts, json.loads((tmp_path / "accounts.json").read_text())


def _flag_key(code, items, params):
    return (code, tuple(items), tuple(sorted(params.items())))


def test_sizes_and_accounts(app, region):
    counts, accounts = region
    assert counts["patient"] == 24
    assert counts["care_unit"] == 2
    # Per unit 6 nurses, 3 physicians, 1 manager; one patient in ten has an account.
    assert len(accounts["nurses"]) == 12
    assert len(accounts["physicians"]) == 6
    assert len(accounts["managers"]) == 2
    assert len(accounts["patients"]) == 3  # patients 0, 10 and 20
    assert counts["assessment"] > 24
    assert counts["prn_administration"] > 0
    assert counts["flag"] > 0


def test_scores_are_the_scoring_engines(app, region):
    with app.app_context():
        assessments = db.session.scalars(select(Assessment)).all()
        for assessment in assessments:
            result = scoring.score(assessment.instrument, assessment.answers)
            assert assessment.scores == scores_as_json(result)
            assert (assessment.total, assessment.band) == (result.total, result.band)
            assert assessment.scoring_version == scoring.SCORING_VERSION
            assert assessment.observed_at <= NOW
            assert assessment.created_at <= NOW


def test_flags_are_what_the_service_computes(app, region):
    """Each assessment's flags equal `flags_for` against the previous assessment the service
    picks (latest current version within 30 days, leaving out the one corrected)."""
    with app.app_context():
        assessments = db.session.scalars(select(Assessment).order_by(Assessment.id)).all()
        for assessment in assessments:
            previous = previous_assessment(
                assessment.patient_id, assessment.instrument, assessment.observed_at,
                window_days=scoring.DEFAULT_THRESHOLDS.previous_window_days,
                exclude_id=assessment.supersedes_id,
            )
            expected = scoring.flags_for(rescore(assessment), rescore(previous) if previous else None)
            stored = sorted(_flag_key(f.code, f.items, f.params) for f in assessment.flags)
            wanted = sorted(_flag_key(f.code, f.items, dict(f.params)) for f in expected)
            assert stored == wanted, assessment.id
            assert all(f.source == "assessment" for f in assessment.flags)
            if assessment.supersedes_id is not None:
                original = db.session.get(Assessment, assessment.supersedes_id)
                assert assessment.correction_reason
                assert original.observed_at == assessment.observed_at
                for flag in original.flags:
                    # Closed: acknowledged before the correction, or superseded by it.
                    assert flag.closed_at is not None
                    assert flag.closed_at <= assessment.created_at
                    if flag.close_reason == "superseded":
                        assert flag.closed_at == assessment.created_at


def test_doses_keep_to_their_orders_and_frequent_doses_flag(app, region):
    """No dose breaks its order's limits (the service would warn), and a `prn_frequent` flag
    is raised at exactly the doses where the rule fires while no flag for that indication is
    open (`careplan.doses._store_dose`)."""
    with app.app_context():
        doses = db.session.scalars(
            select(PrnAdministration).order_by(PrnAdministration.given_at, PrnAdministration.id)
        ).all()
        frequent = db.session.scalars(select(Flag).where(Flag.code == "prn_frequent")).all()
        flag_at_dose = {flag.params["dose"]: flag for flag in frequent}
        given: dict[int, list[scoring.DoseGiven]] = defaultdict(list)
        last_flag: dict[tuple[int, str], Flag] = {}
        for dose in doses:
            order = dose.order
            assert order.is_active(dose.given_at)
            earlier = given[dose.patient_id]
            assert scoring.prn_over_limit(order_rule(order), earlier, dose.given_at) is None
            assert dose.over_limit_reason is None
            assert scoring.prn_dose_mismatch(
                order_rule(order), dose.amount, dose.dose_unit, dose.route
            ) is None
            this = scoring.DoseGiven(order.series_id, order.indication, dose.given_at)
            fired = scoring.prn_frequent(earlier, this)
            earlier.append(this)
            key = (dose.patient_id, order.indication)
            prior = last_flag.get(key)
            none_open = prior is None or (
                prior.closed_at is not None and prior.closed_at <= dose.given_at
            )
            flag = flag_at_dose.get(dose.public_id)
            assert (flag is not None) == (fired is not None and none_open), dose.id
            if flag is not None:
                assert flag.source == "dose"
                assert flag.created_at == dose.given_at
                assert flag.items == [order.indication]
                assert fired is not None
                assert flag.params["doses"] == fired.params["doses"]
                last_flag[key] = flag
            if dose.evaluated_at is not None:
                assert dose.evaluated_at > dose.given_at
                assert dose.effect
        assert len(flag_at_dose) == len(frequent)


def test_orders_plans_milestones_and_audit(app, region):
    with app.app_context():
        for patient in db.session.scalars(select(Patient)):
            plans = db.session.scalars(
                select(CarePlan).where(CarePlan.patient_id == patient.id).order_by(CarePlan.version)
            ).all()
            assert [plan.version for plan in plans] == list(range(1, len(plans) + 1))
            kinds = set(db.session.scalars(
                select(Milestone.kind).where(Milestone.patient_id == patient.id)
            ))
            assert ("brytpunktssamtal" in kinds) == (patient.phase == "end_of_life")
            orders = db.session.scalars(select(PrnOrder).where(PrnOrder.patient_id == patient.id)).all()
            assert any(o.indication == "pain" for o in orders)
            for order in orders:
                if order.supersedes is not None:
                    assert order.supersedes.stop_at == order.start_at
                    assert order.supersedes.stop_cause == "changed"
                    assert order.supersedes.series_id == order.series_id
        audited = {
            (event.object_type, event.object_id)
            for event in db.session.scalars(select(AuditEvent))
        }
        for model in (Assessment, PrnAdministration, PrnOrder, CarePlan, Milestone):
            for public_id in db.session.scalars(select(model.public_id)):
                assert (model.__tablename__, public_id) in audited


def test_same_seed_same_region(app, region, tmp_path):
    """Deterministic from the seed: a second run into another database gives the same rows."""
    other = make_app(f"sqlite:///{tmp_path / 'again.db'}")

    def fingerprint(application):
        with application.app_context():
            return [
                (a.public_id, a.patient.personnummer, a.instrument, a.observed_at, a.answers)
                for a in db.session.scalars(select(Assessment).order_by(Assessment.id))
            ]

    with other.app_context():
        db.create_all()
        generate(REGION, None, progress=False, now=NOW)
    assert fingerprint(app) == fingerprint(other)


def test_pages_of_a_load_run_work_on_generated_data(app, region, client):
    _counts, accounts = region
    assert client.post("/login", data={"email": accounts["nurses"][0],
                                       "password": accounts["password"]}).status_code == 302
    today = client.get("/today")
    assert today.status_code == 200
    patient_links = sorted(set(re.findall(r'href="(/patients/[\w-]+)"', today.get_data(as_text=True))))
    assert patient_links, "the nurse's Today page lists the unit's patients"
    for path in (patient_links[0], patient_links[0] + "/assessments",
                 patient_links[0] + "/trends?range=all"):
        assert client.get(path).status_code == 200, path
    client.post("/logout")
    client.post("/login", data={"email": accounts["physicians"][0],
                                "password": accounts["password"]})
    assert client.get("/overview").status_code == 200
