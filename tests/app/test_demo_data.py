"""The demo data command."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from pallapp import create_app
from pallapp.access import visible_patients
from pallapp.extensions import db
from pallapp.models import CareUnit, Patient, PatientUnit, User


def test_demo_data_refuses_in_production(monkeypatch, tmp_path):
    monkeypatch.setenv("PALLAPP_SECRET_KEY", "x" * 64)
    monkeypatch.setenv("PALLAPP_BASE_URL", "https://pallapp.example.se")
    app = create_app({"ENV_NAME": "production", "DATABASE_URL": f"sqlite:///{tmp_path}/p.db"})
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code != 0
    assert "never loaded in production" in result.output


def test_demo_data_accounts_units_and_shared_patients(app):
    result = app.test_cli_runner().invoke(args=["demo-data"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        emails = set(db.session.scalars(select(User.email)))
        assert emails == {
            f"{name}@example.org"
            for name in ("nurse", "nurse2", "physician", "manager", "admin", "patient", "relative")
        }
        assert db.session.scalar(select(func.count(CareUnit.id))) == 2
        assert db.session.scalar(select(func.count(Patient.id))) == 30
        shared = db.session.scalar(
            select(func.count()).select_from(
                select(PatientUnit.patient_id)
                .group_by(PatientUnit.patient_id)
                .having(func.count(PatientUnit.unit_id) == 2)
                .subquery()
            )
        )
        assert shared == 8

        def visible(email):
            user = db.session.scalar(select(User).where(User.email == email))
            return set(db.session.scalars(visible_patients(user)))

        nurse, nurse2 = visible("nurse@example.org"), visible("nurse2@example.org")
        assert len(nurse) == 30
        assert len(nurse2) == 18  # 10 home-care only + 8 shared
        own = db.session.scalar(select(User).where(User.email == "patient@example.org")).patient
        assert own in nurse2  # the demo patient is shared by both units
        assert visible("relative@example.org") == {own}


def test_demo_data_if_empty_does_not_load_twice(app):
    runner = app.test_cli_runner()
    assert runner.invoke(args=["demo-data"]).exit_code == 0
    again = runner.invoke(args=["demo-data", "--if-empty"])
    assert again.exit_code == 0
    assert "not loaded" in again.output
    assert runner.invoke(args=["demo-data"]).exit_code != 0
    with app.app_context():
        assert db.session.scalar(select(func.count(Patient.id))) == 30


@pytest.mark.parametrize("who", ["nurse2"])
def test_nurse2_cannot_open_a_patient_of_the_other_unit(app, client, auth, who):
    app.test_cli_runner().invoke(args=["demo-data"])
    with app.app_context():
        team_only = db.session.scalar(
            select(Patient)
            .join(PatientUnit)
            .join(CareUnit)
            .where(CareUnit.kind == "specialised_palliative")
            .where(
                ~Patient.id.in_(
                    select(PatientUnit.patient_id)
                    .join(CareUnit)
                    .where(CareUnit.kind == "municipal_home_care")
                )
            )
        ).public_id
    auth.login(f"{who}@example.org", "pallapp-demo")
    assert client.get(f"/patients/{team_only}").status_code == 404
    auth.logout()
    auth.login("nurse@example.org", "pallapp-demo")
    assert client.get(f"/patients/{team_only}").status_code == 200
