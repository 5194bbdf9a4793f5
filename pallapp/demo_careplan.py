"""Demo care plans, milestones, as-needed orders and doses, through the same services as real
ones (so every check, flag and audit event is what the app really does).

Everything here is fictional. The drugs are the typical examples INSTRUMENTS.md names for the
four standard indications, written by the demo physician, never proposed by the app. Patient
17 is in the end-of-life phase but followed by home care only, where no physician of ours
prescribes: it shows the `prn_missing` reminder. Patient 3 has had frequent doses for pain.
Patient 10, also in the end-of-life phase, has nausea ordered as tablets only: an order by mouth
does not count (a dying patient often cannot swallow), so it too shows `prn_missing`, for
nausea, with that explanation. Every order has both limits and its dose as a number or a range
(midazolam 1-2 mg).

For the quality indicators: six of the team's patients have no care plan; some early-phase
patients have a pain (and anxiety) order only; the two patients who died (`DIED_DAYS_AGO`) had a
brytpunktssamtal and orders, one of them without nausea; both deaths were expected, the second
patient died with a pressure ulcer, and only the first one's relatives have been offered a
bereavement conversation so far.
"""

from __future__ import annotations

import random
from datetime import timedelta
from uuid import UUID

from pallapp.careplan import doses as dose_service
from pallapp.careplan import milestones as milestone_service
from pallapp.careplan import orders as order_service
from pallapp.careplan import plan as plan_service
from pallapp.careplan.orders import OrderDetails
from pallapp.demo_history import DIED_DAYS_AGO
from pallapp.models import Patient, Phase, User, utcnow
from pallapp.timeutil import today_local

STANDARD_ORDERS = (
    OrderDetails(indication="pain", drug="Morfin", strength="10 mg/ml", dose="2,5", dose_unit="mg",
                 route="sc", min_interval_minutes=60, max_doses_per_24h=6,
                 instructions="Vid smärta. Kontakta läkare om mer än 3 doser per dygn."),
    OrderDetails(indication="nausea", drug="Haloperidol", strength="5 mg/ml", dose="0,5",
                 dose_unit="mg", route="sc", min_interval_minutes=120, max_doses_per_24h=3),
    OrderDetails(indication="anxiety", drug="Midazolam", strength="5 mg/ml", dose="1-2",
                 dose_unit="mg", route="sc", min_interval_minutes=60, max_doses_per_24h=6),
    OrderDetails(indication="death_rattle", drug="Glykopyrron", strength="0,2 mg/ml", dose="0,2",
                 dose_unit="mg", route="sc", min_interval_minutes=240, max_doses_per_24h=4),
)

# Tablets: do not cover nausea in the end-of-life phase (`prn_missing` counts s.c. and i.v.).
ORAL_NAUSEA = OrderDetails(indication="nausea", drug="Haloperidol", strength="1 mg tablett",
                           dose="1", dose_unit="mg", route="po", min_interval_minutes=120,
                           max_doses_per_24h=3)


def _plan(patient: Patient, team_phone: str) -> dict[str, str]:
    home = patient.phase == Phase.END_OF_LIFE
    return {
        "goals_and_wishes": "Att få vara hemma med familjen och ha så lite smärta som möjligt.",
        "preferred_place_of_care": "Hemmet",
        "preferred_place_of_death": "Hemmet" if home else "Inte bestämt ännu",
        "contacts": f"Dagtid och natt: palliativa teamet {team_phone}. Vid akut fara: 112.",
        "responsible_nurse": "Sara Lind, sjuksköterska",
        "responsible_physician": "Dr Helena Ek",
        "treatment_limitations": (
            "Vård i hemmet med symtomlindring. Ingen hjärt-lungräddning; vid försämring "
            "vård hemma utan inläggning, enligt patientens önskan."
        ),
        "deterioration_signs": (
            "Ökad smärta, oro, rosslig andning, svårt att svälja: ge vid behov-läkemedel enligt "
            "ordination och ring teamet."
        ),
        "for_patient_and_relatives": (
            "Vi kommer hem till er varje vardag. Ring oss när som helst, dag som natt, om något "
            "oroar er."
        ),
    }


def load_demo_careplans(
    nurse: User, physician: User, patients: list[Patient], team_phone: str
) -> int:
    """Care plans for the palliative team's patients, milestones, orders and doses; returns
    how many doses were recorded."""
    rng = random.Random(5150)  # noqa: S311  (fixed seed: the same fictional demo every time)
    now = utcnow()
    today = today_local()
    team_patients = [p for index, p in enumerate(patients) if index < 12 or index >= 22]
    for patient in team_patients[:14]:
        plan_service.save_care_plan(nurse, patient.public_id, _plan(patient, team_phone), based_on=None)
        milestone_service.record_milestone(
            physician, patient.public_id, kind="svas_held",
            occurred_on=max(patient.enrolled_on, today - timedelta(days=60)),
            participants="Patient, närstående, läkare, sjuksköterska",
        )
        milestone_service.record_milestone(
            nurse, patient.public_id, kind="care_plan_agreed",
            occurred_on=max(patient.enrolled_on, today - timedelta(days=55)),
            participants="Patient, sjuksköterska",
        )
    for patient in patients[22:26]:
        milestone_service.record_milestone(
            nurse, patient.public_id, kind="sip",
            occurred_on=today - timedelta(days=30),
            participants="Palliativa teamet, hemsjukvården, patient",
        )
    doses = 0
    for index, patient in enumerate(patients):
        if patient.phase != Phase.END_OF_LIFE:
            continue
        recorder = physician if patient in team_patients else nurse
        milestone_service.record_milestone(
            recorder, patient.public_id, kind="brytpunktssamtal",
            occurred_on=today - timedelta(days=8), participants="Patient, närstående, läkare",
        )
        if patient not in team_patients:
            continue  # no prescriber of ours: shows the prn_missing reminder
        ordered = STANDARD_ORDERS
        if index == 10:
            ordered = (STANDARD_ORDERS[0], ORAL_NAUSEA, *STANDARD_ORDERS[2:])
        orders = [
            order_service.create_order(physician, patient.public_id, details, start_at=now - timedelta(days=8))
            for details in ordered
        ]
        pain = orders[0]
        # Patient 3: four pain doses within the last day (three or more raise prn_frequent).
        hours_ago = (20, 14, 8, 3) if index == 3 else (30,)
        for hours in hours_ago:
            given = dose_service.record_dose(
                nurse, patient.public_id, pain.public_id,
                given_at=now - timedelta(hours=hours, minutes=rng.randint(0, 30)),
                dose="2,5", dose_unit="mg", route="sc", symptom_before=rng.randint(5, 8),
                client_token=UUID(int=rng.getrandbits(128)).hex,
            ).administration
            doses += 1
            if hours > 4:  # the latest dose still waits for its evaluation
                dose_service.evaluate_dose(
                    nurse, patient.public_id, given.public_id, effect="better",
                    symptom_after=rng.randint(1, 3), evaluated_at=given.given_at + timedelta(hours=1),
                )
    _early_orders(physician, patients)
    _deaths(nurse, physician, patients)
    return doses


def _early_orders(physician: User, patients: list[Patient]) -> None:
    """Early-phase patients of the team: a pain order for some, pain and anxiety for others."""
    now = utcnow()
    for index, indications in ((0, 1), (1, 1), (2, 1), (6, 3), (7, 3)):
        for details in STANDARD_ORDERS[:indications:2]:  # pain; pain and anxiety
            order_service.create_order(
                physician, patients[index].public_id, details, start_at=now - timedelta(days=30)
            )


def _deaths(nurse: User, physician: User, patients: list[Patient]) -> None:
    """Brytpunktssamtal, orders and death of the demo patients who died; a bereavement
    conversation offered to the first one's relatives."""
    now = utcnow()
    today = today_local()
    for index, days in DIED_DAYS_AGO.items():
        patient = patients[index]
        died = today - timedelta(days=days)
        milestone_service.record_milestone(
            physician, patient.public_id, kind="brytpunktssamtal",
            occurred_on=died - timedelta(days=10), participants="Patient, närstående, läkare",
        )
        orders = STANDARD_ORDERS if index == 5 else (*STANDARD_ORDERS[:1], *STANDARD_ORDERS[2:])
        for details in orders:
            order_service.create_order(
                physician, patient.public_id, details, start_at=now - timedelta(days=days + 10)
            )
        milestone_service.record_milestone(
            physician, patient.public_id, kind="death", occurred_on=died,
            place="home" if index == 5 else "hospice",
            # Both expected; the second patient had a pressure ulcer at death.
            death_expected=True, free_of_pressure_ulcers=index == 5,
        )
        if index == 5:
            milestone_service.record_milestone(
                nurse, patient.public_id, kind="efterlevandesamtal_offered",
                occurred_on=died + timedelta(days=14), participants="Närstående, sjuksköterska",
            )
