"""A region's worth of fictional data for benchmarks, deterministic from a seed.

    python -m benchmarks.generate --database-url URL [--history-scale 100] [--seed 1]

The region (DESIGN.md, "Quality budgets"): 2,000 active patients in 20 care units with 200
staff (per unit 6 nurses, 3 physicians, 1 manager). `--history-scale` sets how much history
they have: 100 is three years (1,095 days; about 500,000 assessments and 100,000 doses), 10 is
110 days and 1 is 11 days. The number of patients and staff stays the same at every scale, so
pages that list patients show the same rows and only the history behind them grows.

Rows are written with bulk INSERTs (no ORM objects, no per-row round trips), but every value is
what the services would have stored:
- answers are scored with `pallapp.scoring.score`, flags come from `scoring.flags_for` against
  the latest current version of the same instrument within the unit's window, as in
  `assessments.services._store`; corrections supersede the original and close its flags;
- doses respect their order's minimum interval and maximum per 24 h (so no `prn_over_limit`)
  and are the ordered amount, unit and route (so no `prn_dose_mismatch`); `prn_frequent` is
  raised by `scoring.prn_frequent` when no flag for that indication is open, as in
  `careplan.doses._store_dose`;
- care plans are numbered versions with `changed_fields`; an order change is a new version that
  supersedes and stops the old one; patients in the end-of-life phase have a brytpunktssamtal;
- every assessment, dose, care-plan version, order and milestone has its `create` audit event.

Page views are not generated (a real region would have many more audit rows); the audit table
grows with every page the load run opens. The database must be empty (the schema is created by
the migrations, as in production). Everything here is fictional.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time as clock
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a file: make the checkout importable
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import click
from sqlalchemy import func, insert, select, text

from pallapp import scoring
from pallapp.assessments.services import scores_as_json
from pallapp.demo import DEMO_PASSWORD, DIAGNOSES, FAMILY_NAMES, GIVEN_NAMES, make_personnummer
from pallapp.demo_careplan import STANDARD_ORDERS
from pallapp.extensions import db
from pallapp.flags import recall_period_for
from pallapp.models import (
    Assessment,
    AuditEvent,
    CarePlan,
    CareUnit,
    Flag,
    Milestone,
    Patient,
    PatientUnit,
    PrnAdministration,
    PrnOrder,
    UnitMembership,
    User,
)
from pallapp.models.careplan import CARE_PLAN_FIELDS
from pallapp.passwords import hash_password
from pallapp.timeutil import STOCKHOLM

FULL_HISTORY_DAYS = 1095  # three years: history scale 100 (the region)
ROLES_PER_UNIT = (("nurse", 6), ("physician", 3), ("manager", 1))
BATCH = 5000

# Expected assessments per patient and day, by phase. Early phase: mostly self-report (ESAS-r,
# IPOS) about every 2-3 days in all; end of life: staff instruments daily or so (INSTRUMENTS.md
# asks for ratings at least every 2 days then, ROAG weekly or more). Chosen so that three years
# of 2,000 patients give about 500,000 assessments.
RATES = {
    "early": {"esas_r": 0.20, "ipos_patient": 0.15, "ipos_staff": 0.04, "abbey": 0.02, "roag": 0.03},
    "end_of_life": {"esas_r": 0.25, "ipos_patient": 0.10, "ipos_staff": 0.5, "abbey": 0.5,
                    "roag": 0.3},
}
# Days with as-needed doses per patient and day, and the share of each indication.
DOSE_DAY_RATE = {"early": 0.063, "end_of_life": 0.8}
INDICATION_WEIGHTS = {"pain": 5, "nausea": 2, "anxiety": 2, "death_rattle": 1}
DOSES_ON_A_DAY = ((1, 70), (2, 20), (3, 8), (4, 2))
ACKNOWLEDGE_AFTER = timedelta(days=7)  # flags older than this have been seen to
CORRECTION_SHARE = 0.003
# Patients' own accounts point at their patient row, so they are written after it.
PATIENT_ACCOUNT = "patient account"


def now_utc() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


@dataclass
class Ids:
    """Primary keys handed out here, so rows can point at each other before they are written."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next.get(table, 1)
        self.next[table] = value + 1
        return value


class Writer:
    """Buffers rows per table and writes them in batches of executemany INSERTs."""

    def __init__(self) -> None:
        self.rows: dict[Any, list[dict[str, Any]]] = {}
        self.counts: dict[str, int] = {}
        # Parents first, so foreign keys are satisfied at every flush.
        self.order = [
            CareUnit, User, UnitMembership, Patient, PatientUnit, PATIENT_ACCOUNT, CarePlan,
            Milestone, PrnOrder, Assessment, PrnAdministration, Flag, AuditEvent,
        ]

    def add(self, model: Any, row: dict[str, Any]) -> None:
        rows = self.rows.setdefault(model, [])
        rows.append(row)
        if len(rows) >= BATCH and model in (Assessment, AuditEvent, Flag, PrnAdministration):
            self.flush()

    def flush(self) -> None:
        for model in self.order:
            rows = self.rows.pop(model, [])
            # Rows with a self-reference (a correction, an order change) go after the rows
            # they point at; ids are handed out in time order, so sorting by id is enough.
            rows.sort(key=lambda row: row.get("id", 0))
            table = (User if model is PATIENT_ACCOUNT else model).__table__
            for start in range(0, len(rows), BATCH):
                db.session.execute(insert(table), rows[start : start + BATCH])
            name = table.name
            self.counts[name] = self.counts.get(name, 0) + len(rows)
        db.session.commit()


@dataclass
class Region:
    patients: int = 2000
    units: int = 20
    history_scale: float = 100
    seed: int = 1

    @property
    def history_days(self) -> int:
        return max(1, round(FULL_HISTORY_DAYS * self.history_scale / 100))


@dataclass
class Staff:
    nurses: list[int]
    physicians: list[int]
    manager: int


class Generator:
    def __init__(self, region: Region, now: datetime) -> None:
        self.region = region
        self.now = now
        self.today = now.astimezone(STOCKHOLM).date()
        self.rng = random.Random(region.seed)
        self.ids = Ids()
        self.out = Writer()
        self.accounts: dict[str, Any] = {"password": DEMO_PASSWORD, "nurses": [],
                                         "physicians": [], "managers": [], "patients": []}
        self.password_hash = hash_password(DEMO_PASSWORD)
        self.used_pnr: set[str] = set()
        self.thresholds = scoring.DEFAULT_THRESHOLDS  # the generated units keep the defaults

    # --- helpers ---------------------------------------------------------------------------

    def public_id(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128)).hex[:16]

    def token(self) -> str:
        return uuid.UUID(int=self.rng.getrandbits(128)).hex

    def audit(self, at: datetime, user_id: int, patient_id: int, table: str, public_id: str,
              action: str = "create") -> None:
        self.out.add(AuditEvent, {
            "id": self.ids.take("audit_event"), "at": at, "user_id": user_id, "action": action,
            "patient_id": patient_id, "object_type": table, "object_id": public_id,
            "outcome": "ok", "client_address": None, "detail": None,
        })

    def daytime(self, day: date) -> datetime:
        """A moment in Swedish working hours (07-21) on `day`, as UTC; today, not after now."""
        midnight = datetime.combine(day, time(0), tzinfo=STOCKHOLM)
        latest = 21 * 60
        if day >= self.today:
            latest = min(latest, int((self.now - midnight).total_seconds() // 60))
        minutes = self.rng.randint(min(7 * 60, latest), latest)
        return (midnight + timedelta(minutes=minutes)).astimezone(UTC)

    # --- units and staff -------------------------------------------------------------------

    def units_and_staff(self) -> list[tuple[int, Staff]]:
        start = self.today - timedelta(days=self.region.history_days + 30)
        units: list[tuple[int, Staff]] = []
        for number in range(1, self.region.units + 1):
            unit_id = self.ids.take("care_unit")
            self.out.add(CareUnit, {
                "id": unit_id, "public_id": self.public_id(),
                "name": f"Regionenhet {number:02d}",
                "kind": ("specialised_palliative", "municipal_home_care", "primary_care",
                         "ward")[number % 4],
                "phone": f"010-{number:03d} 00 00", "assessment_interval_days": 7,
                "end_of_life_interval_days": 2, "ipos_recall_period": "7d",
                "flag_thresholds": {}, "relatives_may_record_doses": False,
                # Load runs log staff in with passwords under production settings.
                "password_alone_allowed": True,
                "created_at": self.now,
            })
            people: dict[str, list[int]] = {}
            for role, count in ROLES_PER_UNIT:
                for index in range(1, count + 1):
                    user_id = self.ids.take("user_account")
                    email = f"{role}-{number:02d}-{index}@region.example"
                    self.out.add(User, self.user_row(user_id, email, role,
                                                     f"{role.title()} {number:02d}-{index}"))
                    self.out.add(UnitMembership, {
                        "id": self.ids.take("unit_membership"), "user_id": user_id,
                        "unit_id": unit_id, "start": start, "end": None,
                    })
                    people.setdefault(role, []).append(user_id)
                    self.accounts[f"{role}s"].append(email)
            units.append((unit_id, Staff(people["nurse"], people["physician"],
                                         people["manager"][0])))
        return units

    def user_row(self, user_id: int, email: str, role: str, name: str,
                 patient_id: int | None = None) -> dict[str, Any]:
        return {
            "id": user_id, "public_id": self.public_id(), "email": email, "name": name,
            "role": role, "password_hash": self.password_hash, "language": None, "active": True,
            "session_token": self.token(), "patient_id": patient_id, "created_at": self.now,
            "last_login_at": None,
        }

    # --- patients --------------------------------------------------------------------------

    def personnummer(self, born: date) -> str:
        while True:
            digits = make_personnummer(self.rng, born).replace("-", "")
            if digits not in self.used_pnr:
                self.used_pnr.add(digits)
                return digits

    def patients(self, units: list[tuple[int, Staff]]) -> Iterator[None]:
        """One patient at a time with all of their history; yields after each."""
        days = self.region.history_days
        for index in range(self.region.patients):
            unit_id, staff = units[index % len(units)]
            rng = self.rng
            born = date(rng.randint(1925, 1975), rng.randint(1, 12), rng.randint(1, 28))
            enrolled = self.today - timedelta(days=rng.randint(0, days))
            # One in ten is in the end-of-life phase, since the brytpunktssamtal up to two
            # weeks ago (never before enrolment).
            end_of_life = None
            if rng.random() < 0.1:
                end_of_life = max(enrolled, self.today - timedelta(days=rng.randint(0, 14)))
            patient_id = self.ids.take("patient")
            self.out.add(Patient, {
                "id": patient_id, "public_id": self.public_id(),
                "personnummer": self.personnummer(born), "is_coordination_number": False,
                "given_name": GIVEN_NAMES[index % len(GIVEN_NAMES)],
                "family_name": FAMILY_NAMES[(index // len(GIVEN_NAMES)) % len(FAMILY_NAMES)],
                "birth_date": born, "main_diagnosis": rng.choice(DIAGNOSES),
                "enrolled_on": enrolled,
                "phase": "end_of_life" if end_of_life else "early", "died_on": None,
                "place_of_death": None, "created_at": self.daytime(enrolled),
            })
            self.out.add(PatientUnit, {"id": self.ids.take("patient_unit"),
                                       "patient_id": patient_id, "unit_id": unit_id,
                                       "start": enrolled, "end": None})
            if index % 10 == 5:  # shared care: the next unit follows the patient too
                other = units[(index + 1) % len(units)][0]
                self.out.add(PatientUnit, {"id": self.ids.take("patient_unit"),
                                           "patient_id": patient_id, "unit_id": other,
                                           "start": enrolled, "end": None})
            self_user = None
            if index % 10 == 0:  # one in ten reports from home with an account of their own
                self_user = self.ids.take("user_account")
                email = f"patient-{index:04d}@region.example"
                self.out.add(PATIENT_ACCOUNT, self.user_row(self_user, email, "patient",
                                                 "Patient", patient_id=patient_id))
                self.accounts["patients"].append(email)
            person = PatientHistory(self, patient_id, unit_id, staff, enrolled, end_of_life,
                                    self_user)
            person.generate()
            yield


class PatientHistory:
    """The history of one patient: milestones, care plans, orders, assessments, doses, flags."""

    def __init__(self, gen: Generator, patient_id: int, unit_id: int, staff: Staff,
                 enrolled: date, end_of_life: date | None, self_user: int | None) -> None:
        self.gen = gen
        self.rng = gen.rng
        self.patient_id = patient_id
        self.unit_id = unit_id
        self.staff = staff
        self.enrolled = enrolled
        self.end_of_life = end_of_life
        self.self_user = self_user
        self.level = self.rng.uniform(0.05, 0.35)  # how burdened this patient is overall
        self.dentures = self.rng.random() < 0.5
        self.open_flags: dict[tuple[str, tuple[str, ...]], datetime | None] = {}

    def nurse(self) -> int:
        return self.rng.choice(self.staff.nurses)

    def physician(self) -> int:
        return self.rng.choice(self.staff.physicians)

    def phase_on(self, day: date) -> str:
        return "end_of_life" if self.end_of_life and day >= self.end_of_life else "early"

    def days(self) -> Iterator[date]:
        day = self.enrolled
        while day <= self.gen.today:
            yield day
            day += timedelta(days=1)

    def generate(self) -> None:
        self.milestones_and_plans()
        orders = self.orders()
        self.assessments()
        self.doses(orders)

    # --- milestones and care plans ---------------------------------------------------------

    def day_after_enrolment(self, most: int) -> date:
        return min(self.gen.today, self.enrolled + timedelta(days=self.rng.randint(0, most)))

    def milestone(self, kind: str, day: date, by: int) -> None:
        public_id = self.gen.public_id()
        at = self.gen.daytime(day)
        self.gen.out.add(Milestone, {
            "id": self.gen.ids.take("milestone"), "public_id": public_id,
            "patient_id": self.patient_id, "kind": kind, "occurred_on": day,
            "participants": "Patient, närstående, läkare, sjuksköterska", "note": "",
            "place": None, "recorded_by_id": by, "created_at": at,
        })
        self.gen.audit(at, by, self.patient_id, "milestone", public_id)

    def milestones_and_plans(self) -> None:
        rng = self.rng
        if rng.random() < 0.8:
            offered = self.day_after_enrolment(20)
            self.milestone("svas_offered", offered, self.physician())
            if rng.random() < 0.85:
                self.milestone("svas_held", min(self.gen.today, offered + timedelta(days=3)),
                               self.physician())
        if rng.random() < 0.2:
            self.milestone("sip", self.day_after_enrolment(30), self.nurse())
        if self.end_of_life:
            self.milestone("brytpunktssamtal", self.end_of_life, self.physician())
        if rng.random() < 0.8:
            day = self.day_after_enrolment(10)
            self.care_plans(day)
            self.milestone("care_plan_agreed", day, self.nurse())

    def care_plans(self, first: date) -> None:
        values = {name: "" for name in CARE_PLAN_FIELDS}
        values.update({
            "goals_and_wishes": "Att få vara hemma och ha så lite smärta som möjligt.",
            "preferred_place_of_care": "Hemmet",
            "contacts": "Dag och natt: enhetens telefon. Vid akut fara: 112.",
            "responsible_nurse": "Sjuksköterska enligt schema",
            "responsible_physician": "Ansvarig läkare",
            "for_patient_and_relatives": "Ring oss när som helst om något oroar er.",
        })
        day = first
        for version in range(1, self.rng.choice((1, 1, 2, 3)) + 1):
            if version == 1:
                changed = [name for name in CARE_PLAN_FIELDS if values[name]]
            else:
                changed = self.rng.sample(["goals_and_wishes", "deterioration_signs",
                                           "treatment_limitations"], 1)
                for name in changed:
                    values[name] = f"{values[name]} Uppdaterat vid version {version}.".strip()
            by = self.nurse()
            at = self.gen.daytime(day)
            public_id = self.gen.public_id()
            self.gen.out.add(CarePlan, {
                "id": self.gen.ids.take("care_plan"), "public_id": public_id,
                "patient_id": self.patient_id, "version": version, **values,
                "changed_fields": changed, "created_by_id": by, "created_at": at,
            })
            self.gen.audit(at, by, self.patient_id, "care_plan", public_id,
                           "create" if version == 1 else "update")
            day = min(self.gen.today, day + timedelta(days=self.rng.randint(10, 120)))

    # --- orders ----------------------------------------------------------------------------

    def orders(self) -> list[dict[str, Any]]:
        """The order versions of this patient (rows as written), oldest first."""
        rng = self.rng
        start_day = self.day_after_enrolment(7)
        standard = STANDARD_ORDERS if rng.random() < 0.7 or self.end_of_life else STANDARD_ORDERS[:1]
        rows: list[dict[str, Any]] = []
        for details in standard:
            start = self.gen.daytime(start_day)
            row = self.order_row(details.__dict__, start, series_id=self.gen.public_id())
            rows.append(row)
            if details.indication == "pain" and rng.random() < 0.1:
                change_day = start_day + timedelta(days=rng.randint(1, 60))
                if change_day < self.gen.today:
                    changed_at = self.gen.daytime(change_day)
                    row.update(stop_at=changed_at, stop_cause="changed",
                               stopped_by_id=row["prescriber_id"])
                    new = self.order_row({**details.__dict__, "dose": "5"}, changed_at,
                                         series_id=row["series_id"])
                    new.update(supersedes_id=row["id"], change_reason="Ökad smärta; dosen höjd.")
                    rows.append(new)
        for row in rows:
            self.gen.out.add(PrnOrder, row)
            self.gen.audit(row["start_at"], row["prescriber_id"], self.patient_id, "prn_order",
                           row["public_id"])
        return rows

    def order_row(self, details: dict[str, Any], start: datetime, series_id: str) -> dict[str, Any]:
        ordered = scoring.parse_dose(details["dose"])  # as `careplan.doses` stores it
        return {
            "id": self.gen.ids.take("prn_order"), "public_id": self.gen.public_id(),
            "series_id": series_id, "patient_id": self.patient_id,
            "indication": details["indication"], "indication_text": "",
            "drug": details["drug"], "strength": details["strength"], "dose": details["dose"],
            "dose_min": ordered.low, "dose_max": ordered.high,
            "dose_unit": details["dose_unit"], "route": details["route"],
            "min_interval_minutes": details["min_interval_minutes"],
            "max_doses_per_24h": details["max_doses_per_24h"],
            "instructions": details["instructions"], "prescriber_id": self.physician(),
            "start_at": start, "stop_at": None, "stop_cause": None, "stop_reason": None,
            "stopped_by_id": None, "created_at": start, "supersedes_id": None,
            "change_reason": None,
        }

    # --- flags -----------------------------------------------------------------------------

    def close_time(self, raised_at: datetime) -> datetime | None:
        """When staff acknowledged a flag raised at `raised_at`, or None if it is still open:
        older flags have all been seen to, recent ones about half."""
        acknowledged = raised_at + timedelta(hours=self.rng.uniform(1, 48))
        if raised_at < self.gen.now - ACKNOWLEDGE_AFTER:
            return acknowledged
        if self.rng.random() < 0.5 and acknowledged < self.gen.now:
            return acknowledged
        return None

    def flag(self, raised: scoring.Flag, at: datetime, *, assessment_id: int | None,
             source: str, params: dict[str, Any], closed: tuple[datetime, str] | None) -> int:
        flag_id = self.gen.ids.take("flag")
        row = {
            "id": flag_id, "public_id": self.gen.public_id(), "patient_id": self.patient_id,
            "assessment_id": assessment_id, "source": source, "code": raised.code,
            "severity": raised.severity, "items": list(raised.items), "params": params,
            "created_at": at, "closed_at": None, "closed_by_id": None, "close_reason": None,
            "note": None,
        }
        if closed is not None:
            row.update(closed_at=closed[0], closed_by_id=self.nurse(), close_reason=closed[1],
                       note="Bedömt; åtgärd enligt vårdplanen." if closed[1] == "acknowledged"
                       else None)
        self.gen.out.add(Flag, row)
        return flag_id

    # --- assessments -----------------------------------------------------------------------

    def answers(self, code: str, level: float) -> dict[str, object]:
        rng = self.rng
        definition = scoring.INSTRUMENTS[code]
        answers: dict[str, object] = {}
        incomplete = rng.random() < 0.03
        for item in definition.items:
            if item.optional:
                continue
            if incomplete and rng.random() < 0.2:
                answers[item.code] = None
                continue
            # No dentures (teeth and gums also take not_applicable, for no own teeth: not here).
            if item.code == "dentures" and not self.dentures:
                answers[item.code] = scoring.NOT_APPLICABLE
                continue
            if scoring.CANNOT_ASSESS in item.special_values and rng.random() < 0.03:
                answers[item.code] = scoring.CANNOT_ASSESS
                continue
            share = min(1.0, max(0.0, level + rng.gauss(0, 0.1)))
            answers[item.code] = item.min + round((item.max - item.min) * share)
        if code == "ipos_patient" and rng.random() < 0.5:
            answers["completed_with"] = rng.choice(("alone", "with_relative"))
        if code.startswith("ipos") and rng.random() < 0.2:
            answers["main_problems"] = ["Smärta", "Trötthet"][: rng.randint(1, 2)]
        if code == "abbey" and rng.random() < 0.5:
            answers["pain_type"] = rng.choice(("chronic", "acute", "acute_on_chronic"))
        return answers

    def level_on(self, day: date) -> float:
        """Symptom burden grows slowly over the enrolment and more at the end of life."""
        span = max(1, (self.gen.today - self.enrolled).days)
        progress = (day - self.enrolled).days / span
        level = self.level + 0.15 * progress
        if self.phase_on(day) == "end_of_life":
            level += 0.2
        return level

    def schedule(self) -> list[tuple[datetime, str]]:
        events = []
        for day in self.days():
            for code, rate in RATES[self.phase_on(day)].items():
                if self.rng.random() < rate:
                    at = self.gen.daytime(day)
                    if at <= self.gen.now:
                        events.append((at, code))
        events.sort()
        return events

    def assessments(self) -> None:
        latest: dict[str, tuple[datetime, scoring.Score]] = {}
        window = timedelta(days=self.gen.thresholds.previous_window_days)
        unit = CareUnit(ipos_recall_period="7d")  # not stored: only for recall_period_for
        for observed_at, code in self.schedule():
            result = scoring.score(code, self.answers(code, self.level_on(observed_at.date())))
            before = latest.get(code)
            previous = before[1] if before and observed_at - before[0] <= window else None
            if code in ("esas_r", "ipos_patient"):
                by_self = self.self_user is not None and self.phase_on(observed_at.date()) == "early"
                respondent = "patient"
            else:
                by_self, respondent = False, "staff"
            entered_by = self.self_user if by_self and self.self_user else self.nurse()
            common = {
                "patient_id": self.patient_id, "unit_id": self.unit_id, "instrument": code,
                "instrument_version": scoring.INSTRUMENTS[code].version,
                "recall_period": recall_period_for(unit, code), "respondent": respondent,
                "answered_by_id": entered_by if by_self else None, "entered_by_id": entered_by,
                "observed_at": observed_at,
            }
            created_at = min(self.gen.now, observed_at + timedelta(minutes=self.rng.randint(0, 30)))
            corrected = self.correction(result, created_at)
            original_id = self.store(common, result, previous, created_at,
                                     superseded_at=corrected[1] if corrected else None)
            if corrected is not None:
                result, corrected_at = corrected
                self.store(common, result, previous, corrected_at, supersedes=original_id)
            latest[code] = (observed_at, result)

    def correction(self, result: scoring.Score,
                   created_at: datetime) -> tuple[scoring.Score, datetime] | None:
        """A few assessments are corrected later (a wrong value typed): the corrected answers
        and when, or None."""
        if self.rng.random() >= CORRECTION_SHARE:
            return None
        corrected_at = created_at + timedelta(hours=self.rng.randint(1, 72))
        answers = dict(result.plain_answers())
        changed = next((k for k, v in answers.items() if isinstance(v, int)), None)
        if corrected_at >= self.gen.now or changed is None:
            return None
        item = scoring.INSTRUMENTS[result.instrument].item(changed)
        answers[changed] = item.min if answers[changed] != item.min else item.max
        return scoring.score(result.instrument, answers), corrected_at

    def store(self, common: dict[str, Any], result: scoring.Score,
              previous: scoring.Score | None, created_at: datetime, *,
              supersedes: int | None = None, superseded_at: datetime | None = None) -> int:
        """One assessment row with its flags and audit event, as `assessments.services._store`
        writes it. A version corrected at `superseded_at` has its flags closed as superseded
        then, unless staff acknowledged them before."""
        assessment_id = self.gen.ids.take("assessment")
        public_id = self.gen.public_id()
        self.gen.out.add(Assessment, {
            "id": assessment_id, "public_id": public_id, **common, "created_at": created_at,
            "answers": result.plain_answers(), "scores": scores_as_json(result),
            "total": result.total, "band": result.band,
            "scoring_version": result.scoring_version, "client_token": self.gen.token(),
            "supersedes_id": supersedes,
            "correction_reason": "Fel värde inmatat; rättat enligt pappersformuläret."
            if supersedes else None,
        })
        for raised in scoring.flags_for(result, previous, self.gen.thresholds):
            closed_at = self.close_time(created_at)
            closed = (closed_at, "acknowledged") if closed_at else None
            if superseded_at is not None and (closed_at is None or closed_at > superseded_at):
                closed = (superseded_at, "superseded")
            self.flag(raised, created_at, assessment_id=assessment_id, source="assessment",
                      params=dict(raised.params), closed=closed)
        self.gen.audit(created_at, common["entered_by_id"], self.patient_id, "assessment",
                       public_id, "correct" if supersedes else "create")
        return assessment_id

    # --- doses -----------------------------------------------------------------------------

    def doses(self, orders: list[dict[str, Any]]) -> None:
        rng = self.rng
        given: list[scoring.DoseGiven] = []
        frequent_open_until: dict[str, datetime | None] = {}  # indication -> flag closes (None: open)
        for day in self.days():
            if rng.random() >= DOSE_DAY_RATE[self.phase_on(day)]:
                continue
            at = self.gen.daytime(day)
            active = [o for o in orders if o["start_at"] <= at and
                      (o["stop_at"] is None or at < o["stop_at"])]
            if self.phase_on(day) != "end_of_life":
                active = [o for o in active if o["indication"] != "death_rattle"]
            if not active:
                continue
            order = rng.choices(active, [INDICATION_WEIGHTS[o["indication"]] for o in active])[0]
            count = rng.choices([n for n, _ in DOSES_ON_A_DAY], [w for _, w in DOSES_ON_A_DAY])[0]
            rule = scoring.PrnOrderRule(
                order_id=order["series_id"], indication=order["indication"],
                start=order["start_at"], stop=order["stop_at"],
                max_doses_per_24h=order["max_doses_per_24h"],
                min_interval=timedelta(minutes=order["min_interval_minutes"]),
                route=order["route"],
            )
            for _ in range(count):
                if at > self.gen.now or not (order["stop_at"] is None or at < order["stop_at"]):
                    break
                # Givers keep to the order: a dose the rule would warn about is not given.
                if scoring.prn_over_limit(rule, given, at) is None:
                    self.dose(order, at, given, frequent_open_until)
                    given.append(scoring.DoseGiven(order["series_id"], order["indication"], at))
                at += timedelta(minutes=order["min_interval_minutes"] + rng.randint(0, 180))

    def dose(self, order: dict[str, Any], at: datetime, given: list[scoring.DoseGiven],
             frequent_open_until: dict[str, datetime | None]) -> None:
        rng = self.rng
        nurse = self.nurse()
        public_id = self.gen.public_id()
        before = rng.randint(3, 9) if rng.random() < 0.5 else None
        row: dict[str, Any] = {
            "id": self.gen.ids.take("prn_administration"), "public_id": public_id,
            "patient_id": self.patient_id, "order_id": order["id"], "given_at": at,
            # The ordered dose itself (the lowest of a range), written as a Swedish nurse
            # writes it ("0,5"): no `prn_dose_mismatch`.
            "dose": scoring.decimal_text(order["dose_min"]).replace(".", ","),
            "amount": order["dose_min"],
            "dose_unit": order["dose_unit"], "route": order["route"],
            "given_by_id": nurse, "entered_by_id": nurse, "symptom_before": before,
            "over_limit_reason": None, "dose_mismatch_reason": None,
            "client_token": self.gen.token(), "created_at": at,
            "effect": None, "symptom_after": None, "evaluated_at": None,
            "evaluated_by_id": None, "supersedes_id": None, "correction_reason": None,
        }
        evaluated_at = at + timedelta(minutes=rng.randint(30, 120))
        if rng.random() < 0.8 and evaluated_at < self.gen.now:
            effect = rng.choices(("better", "unchanged", "worse"), (70, 25, 5))[0]
            after = None
            if before is not None:
                after = max(0, min(10, before + {"better": -3, "unchanged": 0, "worse": 1}[effect]))
            row.update(effect=effect, symptom_after=after, evaluated_at=evaluated_at,
                       evaluated_by_id=nurse)
        self.gen.out.add(PrnAdministration, row)
        self.gen.audit(at, nurse, self.patient_id, "prn_administration", public_id)
        indication = order["indication"]
        this_dose = scoring.DoseGiven(order["series_id"], indication, at)
        frequent = scoring.prn_frequent(given, this_dose, self.gen.thresholds)
        closes = frequent_open_until.get(indication, at)
        if frequent is None or closes is None or closes > at:
            return  # not frequent, or a flag for this indication is still open
        closed_at = self.close_time(at)
        self.flag(frequent, at, assessment_id=None, source="dose",
                  params={**frequent.params, "dose": public_id},
                  closed=(closed_at, "acknowledged") if closed_at else None)
        frequent_open_until[indication] = closed_at


def reset_sequences() -> None:
    """PostgreSQL: the ids were given here, so move each table's sequence past them."""
    if db.engine.dialect.name != "postgresql":
        return
    for model in Writer().order:
        if model is PATIENT_ACCOUNT:
            continue
        table = model.__tablename__
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608 - our names
            f"COALESCE((SELECT MAX(id) FROM {table}), 0) + 1, false)"
        ))
    db.session.commit()


def generate(region: Region, accounts_path: Path | None = None, *, progress: bool = True,
             now: datetime | None = None) -> dict[str, int]:
    """Write the region into the app's (empty) database; returns the rows written per table."""
    if db.session.scalar(select(func.count(CareUnit.id))):
        raise SystemExit("The database has data already; the generator fills an empty one.")
    gen = Generator(region, now or now_utc())
    units = gen.units_and_staff()
    gen.out.flush()
    steps = gen.patients(units)
    if progress:
        with click.progressbar(steps, length=region.patients, label="Patients",
                               file=sys.stderr) as bar:
            for _ in bar:
                pass
    else:
        for _ in steps:
            pass
    gen.out.flush()
    reset_sequences()
    # Planner statistics, as autovacuum would gather them on a live database after a while:
    # right after a bulk load PostgreSQL has none and picks sequential scans (the history
    # page's flag lookup read all 480,000 flags: 49 ms instead of under 2).
    db.session.execute(text("ANALYZE"))
    db.session.commit()
    if accounts_path is not None:
        accounts_path.parent.mkdir(parents=True, exist_ok=True)
        accounts_path.write_text(json.dumps(gen.accounts, indent=1))
    return gen.out.counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", required=True,
                        help="e.g. postgresql+psycopg://postgres@127.0.0.1:5432/bench")
    parser.add_argument("--patients", type=int, default=Region.patients)
    parser.add_argument("--units", type=int, default=Region.units)
    parser.add_argument("--history-scale", type=float, default=Region.history_scale,
                        help="100: three years of history; 10: 110 days; 1: 11 days")
    parser.add_argument("--seed", type=int, default=Region.seed)
    parser.add_argument("--accounts", type=Path, default=Path("benchmarks/out/accounts.json"),
                        help="where to write the generated accounts (for load.py and pages.py)")
    args = parser.parse_args(argv)

    from flask_migrate import upgrade

    from pallapp.factory import build_app

    app = build_app({"ENV_NAME": "development", "DATABASE_URL": args.database_url})
    region = Region(args.patients, args.units, args.history_scale, args.seed)
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parents[1] / "migrations"))
        started = clock.perf_counter()
        counts = generate(region, args.accounts)
        seconds = clock.perf_counter() - started
    for table, count in counts.items():
        print(f"{table:20} {count:>10,}")
    rows = sum(counts.values())
    print(f"{rows:,} rows in {seconds:.0f} s ({rows / seconds:,.0f} rows/s); "
          f"history {region.history_days} days; accounts in {args.accounts}")


if __name__ == "__main__":
    main()
