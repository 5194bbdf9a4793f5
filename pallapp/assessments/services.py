"""Submitting, correcting and reading assessments, with their flags.

Every function takes the acting user and goes through `pallapp.access`; every read and write
is audit-logged. Services flush; the request boundary commits once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import selectinload

from pallapp import audit, flags, scoring
from pallapp.access import Need as Need  # the views name needs through the services
from pallapp.access import find_patient, find_patient_and_needs, relative_link
from pallapp.alerts.services import raise_alerts
from pallapp.assessments.duplicates import IdenticalRecently, identical_recently
from pallapp.extensions import db
from pallapp.models import (
    Assessment,
    AuditAction,
    CareUnit,
    Flag,
    Patient,
    Respondent,
    Role,
    User,
    utcnow,
)
from pallapp.paging import Page, fetch_page
from pallapp.refusals import Reason, Refusal
from pallapp.timeutil import STOCKHOLM

#: The per-assessment flags that compare an assessment with its `previous` (INSTRUMENTS.md).
RISE_FLAGS = ("item_rise", "total_rise")
#: `Flag.close_reason` of a rise flag closed because it no longer holds against a `previous`
#: stored later (late or corrected); the pages say so in words.
REEVALUATED = "reevaluated"
# Clock skew allowed between a tablet and the server before a time counts as "in the future".
FUTURE_TOLERANCE = timedelta(minutes=5)


class AssessmentRefused(Refusal):
    """The submission cannot be stored; `reason` says why in words."""


def instruments_for(user: User) -> tuple[str, ...]:
    """Which instruments `user` may fill in, from each definition's respondents: staff all of
    them (those only staff rate first, then the self-report forms they enter for a patient),
    patients and relatives the ones their role answers; in registry order within each."""
    definitions = scoring.INSTRUMENTS.values()
    if user.role in (Role.NURSE, Role.PHYSICIAN):
        return tuple(
            [d.code for d in definitions if not d.self_report]
            + [d.code for d in definitions if d.self_report]
        )
    if user.role in (Role.PATIENT, Role.RELATIVE):
        return tuple(d.code for d in definitions if str(user.role) in d.respondents)
    return ()


def default_respondent(user: User, instrument: str) -> Respondent:
    """Staff-rated instruments are answered by staff; self-report ones by the patient."""
    if not scoring.INSTRUMENTS[instrument].self_report:
        return Respondent.STAFF
    return Respondent.PATIENT


def open_for_reporting(user: User, patient_public_id: str, instrument: str | None = None) -> Patient:
    """The patient whose form `user` opens (the page shows their name); audited as a view.

    For an instrument whose recall period is the unit's (`recall_period`), the patient's
    episodes and their units come in the same query: loading them afterwards took longer than
    the rest of the view."""
    if instrument is not None and _period_from_unit(instrument):
        patient = find_patient_and_needs(user, patient_public_id, Need.REPORT, with_episodes=True)[0]
    else:
        patient = find_patient(user, patient_public_id, Need.REPORT)
    audit.record(
        AuditAction.VIEW, user=user, patient=patient, object_type="assessment_form",
        object_id=instrument,
    )
    return patient


def patient_for_submission(user: User, patient_public_id: str) -> Patient:
    """The patient a form is sent for (may report); `submit_assessment` audits the post."""
    return find_patient(user, patient_public_id, Need.REPORT)


def patient_for_reading(user: User, patient_public_id: str) -> tuple[Patient, frozenset[Need]]:
    """The patient and what the user may do with the record, in one query; `get_assessment`
    audits the read of the assessment shown."""
    return find_patient_and_needs(user, patient_public_id, Need.VIEW)


def patient_for_correction(user: User, patient_public_id: str) -> Patient:
    """The patient whose assessment is corrected; `get_assessment` audits the read."""
    return find_patient(user, patient_public_id, Need.CHANGE)


def may_answer_as_proxy(user: User, patient: Patient) -> bool:
    if user.role != Role.RELATIVE:
        return False
    link = relative_link(user, patient)
    return link is not None and link.may_answer_as_proxy


def _period_from_unit(instrument: str) -> bool:
    """Whether the unit's settings choose the instrument's recall period (it has several)."""
    return len(scoring.INSTRUMENTS[instrument].recall_periods) >= 2


def recall_period(user: User, patient: Patient, instrument: str) -> str | None:
    """The recall period the form asks about: the one of the unit whose settings apply.

    An instrument with one period (ESAS-r, Abbey, ROAG: "now") asks about it whatever the
    unit, so the patient's units are not read for it."""
    if not _period_from_unit(instrument):
        return flags.recall_period_for(None, instrument)
    return flags.recall_period_for(flags.unit_for(user, patient), instrument)


def previous_assessment(
    patient_id: int,
    instrument: str,
    observed_at: datetime,
    *,
    window_days: int,
    exclude_id: int | None = None,
) -> Assessment | None:
    """The latest current version of the same instrument observed before `observed_at`, at
    most `window_days` earlier (INSTRUMENTS.md: within 30 days), else None."""
    query = (
        select(Assessment)
        .where(
            Assessment.patient_id == patient_id,
            Assessment.instrument == instrument,
            Assessment.observed_at < observed_at,
            Assessment.observed_at >= observed_at - timedelta(days=window_days),
            flags.current_versions(),
        )
        .order_by(Assessment.observed_at.desc(), Assessment.id.desc())
        .limit(1)
    )
    if exclude_id is not None:
        query = query.where(Assessment.id != exclude_id)
    return db.session.scalar(query)


def rescore(assessment: Assessment) -> scoring.Score:
    """The Score of stored answers (with the current rules)."""
    return scoring.score(assessment.instrument, assessment.answers)


def scores_as_json(result: scoring.Score) -> dict[str, Any]:
    return {
        "total": result.total,
        "subscales": dict(result.subscales),
        "band": result.band,
        "item_bands": dict(result.item_bands),
        "missing": list(result.missing),
        "max_grade": result.max_grade,
        "areas_at": {str(grade): list(areas) for grade, areas in result.areas_at.items()},
    }


def check_observed_at(patient: Patient, observed_at: datetime, now: datetime) -> None:
    """Paper forms may be entered later, but not dated in the future or before enrolment."""
    if observed_at.tzinfo is None:
        raise ValueError("observed_at must be aware")
    if observed_at > now + FUTURE_TOLERANCE:
        raise AssessmentRefused(Reason.OBSERVED_IN_FUTURE)
    if observed_at.astimezone(STOCKHOLM).date() < patient.enrolled_on:
        raise AssessmentRefused(Reason.OBSERVED_BEFORE_ENROLMENT)


@dataclass(frozen=True)
class Submitted:
    assessment: Assessment
    created: bool  # False: the same form was sent before; nothing new was stored


def _existing_for_token(user: User, patient: Patient, token: str) -> Assessment | None:
    existing = db.session.scalar(select(Assessment).where(Assessment.client_token == token))
    if existing is None:
        return None
    if existing.patient_id != patient.id or existing.entered_by_id != user.id:
        raise AssessmentRefused(Reason.TOKEN_REUSED)
    return existing


def _store(
    user: User,
    patient: Patient,
    *,
    instrument: str,
    result: scoring.Score,
    respondent: Respondent,
    answered_by: User | None,
    observed_at: datetime,
    client_token: str,
    recall_period: str | None,
    unit: CareUnit | None,
    supersedes: Assessment | None = None,
    correction_reason: str | None = None,
) -> Submitted:
    thresholds = flags.thresholds_for(unit)
    previous = previous_assessment(
        patient.id,
        instrument,
        observed_at,
        window_days=thresholds.previous_window_days,
        exclude_id=supersedes.id if supersedes is not None else None,
    )
    raised = scoring.flags_for(result, rescore(previous) if previous else None, thresholds)
    assessment = Assessment(
        patient_id=patient.id,
        unit_id=unit.id if unit else None,
        instrument=instrument,
        instrument_version=scoring.INSTRUMENTS[instrument].version,
        recall_period=recall_period,
        respondent=respondent.value,
        answered_by_id=answered_by.id if answered_by else None,
        entered_by_id=user.id,
        observed_at=observed_at,
        answers=result.plain_answers(),
        scores=scores_as_json(result),
        total=result.total,
        band=result.band,
        scoring_version=result.scoring_version,
        client_token=client_token,
        supersedes_id=supersedes.id if supersedes else None,
        correction_reason=correction_reason,
    )
    try:
        with db.session.begin_nested():
            db.session.add(assessment)
            db.session.flush()
    except IntegrityError:
        # Two identical submissions raced; the other one won. Show its result.
        existing = _existing_for_token(user, patient, client_token)
        if existing is None:
            raise AssessmentRefused(Reason.ASSESSMENT_ALREADY_CORRECTED) from None
        return Submitted(existing, created=False)
    for flag in raised:
        db.session.add(
            flags.new_flag(patient, flag, source="assessment", assessment_id=assessment.id)
        )
    db.session.flush()
    _reevaluate_later(user, patient, assessment)
    return Submitted(assessment, created=True)


def _completed_with(
    user: User, instrument: str, respondent: Respondent, answers: Mapping[str, object]
) -> Mapping[str, object]:
    """IPOS Q10 says how the form was filled in. When a logged-in relative helps the patient
    answer, the relative entered it: `with_relative`, unless the patient chose `with_staff`."""
    codes = {field.code for field in scoring.INSTRUMENTS[instrument].context_fields}
    if (
        "completed_with" in codes
        and user.role == Role.RELATIVE
        and respondent is Respondent.PATIENT
        and answers.get("completed_with") != "with_staff"
    ):
        return {**answers, "completed_with": "with_relative"}
    return answers


def _next_later(stored: Assessment) -> list[Assessment]:
    """The current versions of the same instrument observed next after `stored`: the only ones
    whose `previous` it can have become (several only when they share one time)."""
    later = (
        Assessment.patient_id == stored.patient_id,
        Assessment.instrument == stored.instrument,
        Assessment.observed_at > stored.observed_at,
        flags.current_versions(),
    )
    first = db.session.scalar(select(func.min(Assessment.observed_at)).where(*later))
    if first is None:
        return []
    query = select(Assessment).where(*later, Assessment.observed_at == first)
    return list(db.session.scalars(query.options(selectinload(Assessment.flags))))


def _reevaluate_later(user: User, patient: Patient, stored: Assessment) -> None:
    """Compare a later assessment again when `stored` has become its `previous`.

    That happens when `stored` was observed before an assessment already stored (entered late,
    e.g. from paper) or corrects the one that was its previous. INSTRUMENTS.md: a rise that now
    holds is raised as a new flag on the later assessment; an open rise flag that no longer
    holds (or now concerns other items) is closed by the system with a note, never deleted.
    Only `item_rise` and `total_rise` depend on `previous`; every change is audit-logged.
    """
    for later in _next_later(stored):
        thresholds = flags.thresholds_for(later.unit)
        previous = previous_assessment(
            later.patient_id,
            later.instrument,
            later.observed_at,
            window_days=thresholds.previous_window_days,
        )
        if previous is None or previous.id != stored.id:
            continue  # too far before it, or another assessment lies between them
        wanted = {
            flag.code: flag
            for flag in scoring.flags_for(rescore(later), rescore(stored), thresholds)
            if flag.code in RISE_FLAGS
        }
        for code in RISE_FLAGS:
            _settle_rise(user, patient, later, stored, code, wanted.get(code))


def _settle_rise(
    user: User,
    patient: Patient,
    later: Assessment,
    previous: Assessment,
    code: str,
    wanted: scoring.Flag | None,
) -> None:
    """Make `later`'s flags of `code` say what `wanted` says (None: the rise does not hold)."""
    def says_wanted(flag: Flag) -> bool:
        return wanted is not None and list(flag.items) == list(wanted.items)

    now = utcnow()
    of_code = [flag for flag in later.flags if flag.code == code]
    kept = False
    for flag in of_code:
        if not flag.is_open:
            continue
        if says_wanted(flag):
            kept = True
            continue
        # Closed by the system (no user), on behalf of the change `user` made.
        flags.close(
            flag,
            now,
            REEVALUATED,
            None,
            f"Closed by the system: compared again with assessment {previous.public_id} "
            f"(observed {previous.observed_at.astimezone(STOCKHOLM):%Y-%m-%d %H:%M} Swedish "
            "time), which was recorded late or corrected; this flag no longer holds as raised.",
        )
        audit.record(AuditAction.UPDATE, user=user, patient=patient, obj=flag, detail=REEVALUATED)
    # Staff who acknowledged this very rise have dealt with it: it is not raised again.
    acknowledged = any(
        flag.close_reason == "acknowledged" and says_wanted(flag) for flag in of_code
    )
    if wanted is None or kept or acknowledged:
        return
    raised = flags.new_flag(patient, wanted, source="assessment", created_at=now)
    later.flags.append(raised)
    db.session.flush()
    audit.record(AuditAction.CREATE, user=user, patient=patient, obj=raised, detail=REEVALUATED)


def submit_assessment(
    user: User,
    patient_public_id: str,
    *,
    instrument: str,
    answers: Mapping[str, object],
    client_token: str,
    respondent: Respondent | None = None,
    observed_at: datetime | None = None,
    ask_if_identical: bool = False,
    found: Patient | None = None,
) -> Submitted:
    """Score, flag and store one assessment in the current transaction.

    Raises `scoring.InvalidAnswers` for answers that do not fit the instrument and
    `AssessmentRefused` for a submission the user may not make. The same `client_token` sent
    again returns the stored assessment without storing anything. With `ask_if_identical` (a
    person at a form), the same answers from the same user in another form within ten minutes
    raise `IdenticalRecently` instead of being stored. `found`: the patient as
    `patient_for_submission` found it for `user` in this request, so that it is not looked up
    again (the same access check, already passed).
    """
    if found is not None and found.public_id == patient_public_id:
        patient = found
    else:
        patient = find_patient(user, patient_public_id, Need.REPORT)
    existing = _existing_for_token(user, patient, client_token)
    if existing is not None:
        audit.record(AuditAction.VIEW, user=user, patient=patient, obj=existing, detail="resubmitted")
        return Submitted(existing, created=False)
    if instrument not in instruments_for(user):
        raise AssessmentRefused(Reason.INSTRUMENT_NOT_ALLOWED)
    respondent = respondent or default_respondent(user, instrument)
    if respondent is Respondent.RELATIVE and not may_answer_as_proxy(user, patient):
        raise AssessmentRefused(Reason.PROXY_NOT_ALLOWED)
    if respondent is Respondent.STAFF and not user.is_staff:
        raise AssessmentRefused(Reason.INSTRUMENT_NOT_ALLOWED)
    now = utcnow()
    if observed_at is None or not user.is_staff:
        observed_at = now  # only staff enter paper forms afterwards
    check_observed_at(patient, observed_at, now)
    result = scoring.score(instrument, _completed_with(user, instrument, respondent, answers))
    if ask_if_identical:
        twin = identical_recently(
            user, patient, instrument, respondent, result.plain_answers(), now
        )
        if twin is not None:
            # Its time and a link are shown to the user: a read of the stored record.
            audit.record(AuditAction.VIEW, user=user, patient=patient, obj=twin, detail="identical")
            raise IdenticalRecently(twin)
    unit = flags.unit_for(user, patient)
    # The account that gave the answers: the patient themself, or a relative answering as proxy.
    # A relative who only helps, and staff entering a patient's spoken answers, are `entered_by`.
    self_answered = user.role == Role.PATIENT or respondent is Respondent.RELATIVE
    answered_by = user if self_answered else None
    submitted = _store(
        user,
        patient,
        instrument=instrument,
        result=result,
        respondent=respondent,
        answered_by=answered_by,
        observed_at=observed_at,
        client_token=client_token,
        recall_period=flags.recall_period_for(unit, instrument),
        unit=unit,
    )
    if submitted.created:
        audit.record(AuditAction.CREATE, user=user, patient=patient, obj=submitted.assessment)
        if not user.is_staff:
            # Staff entering a rating are with the patient; a report from home must reach someone.
            raise_alerts(user, patient, submitted.assessment.flags, now)
    return submitted


def correct_assessment(
    user: User,
    patient_public_id: str,
    assessment_public_id: str,
    *,
    answers: Mapping[str, object],
    reason: str,
    client_token: str,
) -> Submitted:
    """Store a corrected version that supersedes the current one; its open flags close as
    superseded and new flags are computed for the new version. Staff only."""
    patient = find_patient(user, patient_public_id, Need.CHANGE)
    existing = _existing_for_token(user, patient, client_token)
    if existing is not None:
        return Submitted(existing, created=False)
    original = get_assessment(user, patient, assessment_public_id, audit_view=False)
    if original.superseded_by is not None:
        raise AssessmentRefused(Reason.ASSESSMENT_ALREADY_CORRECTED)
    if not reason.strip():
        raise AssessmentRefused(Reason.CORRECTION_REASON_REQUIRED)
    result = scoring.score(original.instrument, answers)
    submitted = _store(
        user,
        patient,
        instrument=original.instrument,
        result=result,
        respondent=original.respondent_enum,
        answered_by=original.answered_by,
        observed_at=original.observed_at,
        client_token=client_token,
        recall_period=original.recall_period,
        unit=original.unit,
        supersedes=original,
        correction_reason=reason.strip(),
    )
    if submitted.created:
        now = utcnow()
        for flag in original.flags:
            if flag.is_open:
                flag.closed_at = now
                flag.closed_by_id = user.id
                flag.close_reason = "superseded"
        audit.record(AuditAction.CORRECT, user=user, patient=patient, obj=submitted.assessment)
    return submitted


def history(user: User, patient_public_id: str, page: int = 1) -> tuple[Patient, Page[Assessment]]:
    """The patient's assessments, newest first, corrections included, one page at a time."""
    patient = find_patient(user, patient_public_id, Need.VIEW_HISTORY)
    query = (
        select(Assessment)
        .where(Assessment.patient_id == patient.id)
        .options(
            selectinload(Assessment.flags),
            selectinload(Assessment.entered_by),
            selectinload(Assessment.superseded_by),
            selectinload(Assessment.supersedes),
        )
        .order_by(Assessment.observed_at.desc(), Assessment.id.desc())
    )
    assessments = fetch_page(query, page)
    audit.record(
        AuditAction.VIEW, user=user, patient=patient, object_type="assessment_history",
        detail=f"page {page}" if page > 1 else None,
    )
    return patient, assessments


def get_assessment(
    user: User,
    patient: Patient,
    assessment_public_id: str,
    *,
    audit_view: bool = True,
    needs: frozenset[Need] | None = None,
) -> Assessment:
    """One assessment of an already visible patient; 404 (NotVisible) otherwise.

    Who may read it: anyone with history access to the patient, and the person who entered it
    (a relative without history access still sees the result of what they just sent).
    `needs`: what `access.needs_for` said the user may do with the patient in this request, if
    the caller asked already.
    """
    from pallapp.access import NotVisible, can

    assessment = db.session.scalar(
        select(Assessment).where(
            Assessment.public_id == assessment_public_id, Assessment.patient_id == patient.id
        )
    )
    allowed = assessment is not None and (
        assessment.entered_by_id == user.id
        or (
            Need.VIEW_HISTORY in needs
            if needs is not None
            else can(user, patient, Need.VIEW_HISTORY)
        )
    )
    if assessment is None or not allowed:
        raise NotVisible(patient.public_id, Need.VIEW_HISTORY, patient)
    if audit_view:
        audit.record(AuditAction.VIEW, user=user, patient=patient, obj=assessment)
    return assessment


def has_severe_rating(assessment: Assessment) -> bool:
    """Any answered item in the severe band, or any high flag: tell the patient whom to call."""
    if any(band == "severe" for band in assessment.scores.get("item_bands", {}).values()):
        return True
    return any(flag.severity == "high" for flag in assessment.flags)
