"""The revision that makes doses numbers (0339d2a04b2e), with data, on SQLite and PostgreSQL:
what can be read as a number is copied into the new columns, everything else stays text, and
the way down loses nothing."""

from __future__ import annotations

from decimal import Decimal

import pytest
from alembic.script import ScriptDirectory
from flask import current_app
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect, text

from pallapp import create_app
from pallapp.extensions import db
from tests.conftest import DATABASES, temporary_database_url

REVISION = "0339d2a04b2e"


def revision_before(revision: str) -> str:
    """The revision this one follows (read from the script, so the test holds wherever the
    revision is placed in the chain)."""
    config = current_app.extensions["migrate"].migrate.get_config()
    return ScriptDirectory.from_config(config).get_revision(revision).down_revision

# Dose texts as people wrote them before doses were numbers, with the order's unit, and the
# numbers the revision reads from them (None: kept as text only).
ORDER_DOSES = [
    ("2,5", "mg", (Decimal("2.5"), Decimal("2.5"))),
    ("2.5-5", "mg", (Decimal("2.5"), Decimal("5"))),
    ("2,5 – 5", "mg", (Decimal("2.5"), Decimal("5"))),
    ("2,5 mg", "mg", (Decimal("2.5"), Decimal("2.5"))),  # its own unit after the number
    ("1-2 ML", "ml", (Decimal("1"), Decimal("2"))),
    ("5-2,5", "mg", None),  # reversed range
    ("1 ampull", "ml", None),
    ("2,5 mg/ml", "mg", None),
    ("0", "mg", None),
    ("0,00001", "mg", None),  # more decimals than the column keeps
]
GIVEN_DOSES = [
    ("2,5", "mg", Decimal("2.5")),
    ("10 E", "E", Decimal("10")),
    ("1-2", "mg", None),  # a range is not an amount given
    ("en halv", "ml", None),
]


@pytest.fixture(params=DATABASES)
def empty_database(request, tmp_path):
    yield from temporary_database_url(request.param, tmp_path, "dose_numbers")


def test_doses_become_numbers_and_the_text_is_kept_both_ways(empty_database):
    app = create_app({"ENV_NAME": "testing", "DATABASE_URL": empty_database})
    with app.app_context():
        before = revision_before(REVISION)
        # Real rows (the demo), taken back to the revision before, then given the old texts.
        upgrade()
        from pallapp.demo import load_demo_data

        load_demo_data()
        db.session.commit()
        db.session.remove()
        downgrade(revision=before)
        with db.engine.begin() as connection:
            order_ids = connection.execute(
                text("SELECT id FROM prn_order ORDER BY id")
            ).scalars().all()[: len(ORDER_DOSES)]
            dose_ids = connection.execute(
                text("SELECT id FROM prn_administration ORDER BY id")
            ).scalars().all()[: len(GIVEN_DOSES)]
            assert (len(order_ids), len(dose_ids)) == (len(ORDER_DOSES), len(GIVEN_DOSES))
            for row_id, (dose, unit, _) in zip(order_ids, ORDER_DOSES, strict=True):
                connection.execute(
                    text("UPDATE prn_order SET dose = :dose, dose_unit = :unit WHERE id = :id"),
                    {"dose": dose, "unit": unit, "id": row_id},
                )
            for row_id, (dose, unit, _) in zip(dose_ids, GIVEN_DOSES, strict=True):
                connection.execute(
                    text(
                        "UPDATE prn_administration SET dose = :dose, dose_unit = :unit,"
                        " over_limit_reason = NULL WHERE id = :id"
                    ),
                    {"dose": dose, "unit": unit, "id": row_id},
                )
            orders_before = connection.execute(
                text("SELECT COUNT(*) FROM prn_order")
            ).scalar()
            doses_before = connection.execute(
                text("SELECT COUNT(*) FROM prn_administration")
            ).scalar()

        upgrade(revision=REVISION)
        with db.engine.begin() as connection:
            for row_id, (dose, unit, numbers) in zip(order_ids, ORDER_DOSES, strict=True):
                row = connection.execute(
                    text("SELECT dose, dose_unit, dose_min, dose_max FROM prn_order WHERE id = :id"),
                    {"id": row_id},
                ).one()
                assert (row.dose, row.dose_unit) == (dose, unit)  # the text as written
                read = None if row.dose_min is None else (row.dose_min, row.dose_max)
                assert read == numbers, dose
            for row_id, (dose, _unit, amount) in zip(dose_ids, GIVEN_DOSES, strict=True):
                row = connection.execute(
                    text("SELECT dose, amount FROM prn_administration WHERE id = :id"),
                    {"id": row_id},
                ).one()
                assert (row.dose, row.amount) == (dose, amount), dose
            # The demo's own doses, "2,5" mg, are read too.
            unread = connection.execute(
                text("SELECT COUNT(*) FROM prn_administration WHERE amount IS NULL")
            ).scalar()
            assert unread == sum(1 for _, _, amount in GIVEN_DOSES if amount is None)
            # A confirmed mismatch, with and without an over-limit reason beside it.
            connection.execute(
                text(
                    "UPDATE prn_administration SET dose_mismatch_reason = 'Muntlig ordination',"
                    " over_limit_reason = :over WHERE id = :id"
                ),
                [{"over": None, "id": dose_ids[0]}, {"over": "Svår smärta", "id": dose_ids[1]}],
            )

        downgrade(revision=before)
        with db.engine.begin() as connection:
            columns = {c["name"] for c in inspect(connection).get_columns("prn_administration")}
            assert {"amount", "dose_mismatch_reason"}.isdisjoint(columns)
            columns = {c["name"] for c in inspect(connection).get_columns("prn_order")}
            assert {"dose_min", "dose_max"}.isdisjoint(columns)
            assert connection.execute(text("SELECT COUNT(*) FROM prn_order")).scalar() == (
                orders_before
            )
            assert connection.execute(
                text("SELECT COUNT(*) FROM prn_administration")
            ).scalar() == doses_before
            texts = connection.execute(
                text("SELECT dose FROM prn_order WHERE id IN :ids ORDER BY id").bindparams(
                    db.bindparam("ids", expanding=True)
                ),
                {"ids": order_ids},
            ).scalars().all()
            assert texts == [dose for dose, _, _ in ORDER_DOSES]
            reasons = connection.execute(
                text(
                    "SELECT over_limit_reason FROM prn_administration WHERE id IN :ids ORDER BY id"
                ).bindparams(db.bindparam("ids", expanding=True)),
                {"ids": dose_ids[:2]},
            ).scalars().all()
            assert reasons == [
                "prn_dose_mismatch: Muntlig ordination",
                "Svår smärta / prn_dose_mismatch: Muntlig ordination",
            ]
        upgrade()  # and up again
        db.engine.dispose()
