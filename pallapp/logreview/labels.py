"""What the codes of the audit log mean, in words (Swedish and English).

Every action, every kind of record the app writes to the log (`object_type`, and the table of
any model passed as `obj`) and every outcome has its words here; a test scans the source for
codes without them. A code that still has none is shown as it is, never dropped.
"""

from __future__ import annotations

from flask_babel import LazyString

from pallapp.i18n import lazy_gettext as _l
from pallapp.models import AuditAction

#: What the user did (past tense: the log tells what happened).
ACTION_LABELS: dict[str, LazyString] = {
    AuditAction.VIEW: _l("opened"),
    AuditAction.CREATE: _l("created"),
    AuditAction.UPDATE: _l("changed"),
    AuditAction.CORRECT: _l("corrected"),
    AuditAction.EXPORT: _l("exported"),
    AuditAction.LOGIN: _l("logged in"),
    AuditAction.LOGIN_FAILED: _l("failed to log in"),
    AuditAction.LOGOUT: _l("logged out"),
    AuditAction.DENIED: _l("was refused access"),
    AuditAction.INVITE: _l("invited"),
    AuditAction.REVOKE: _l("withdrew"),
    AuditAction.SEND: _l("sent a message"),
    AuditAction.ESCALATE: _l("escalated"),
}

#: Which part of the record, or which page.
OBJECT_LABELS: dict[str, LazyString] = {
    # patient records and their parts
    "patient": _l("record"),
    "patient_list": _l("patient list (Today)"),
    "enrolment_check": _l("check at enrolment"),
    "patient_unit": _l("care episode in a unit"),
    "relative_link": _l("relative's access"),
    "assessment": _l("symptom rating"),
    "assessment_form": _l("rating form"),
    "assessment_history": _l("earlier ratings"),
    "assessments": _l("symptom ratings (export)"),
    "flag": _l("flag"),
    "flag_history": _l("flag history"),
    "care_plan": _l("care plan"),
    "milestone": _l("milestones"),
    "prn_order": _l("as-needed orders"),
    "prn_administration": _l("as-needed dose"),
    "patient_summary": _l("summary"),
    "trends": _l("trends"),
    "trend_chart": _l("trend chart"),
    "unit_overview": _l("unit overview"),
    "quality_indicators": _l("quality indicators"),
    "quality_patients": _l("patients behind a quality indicator"),
    # the log itself, accounts and units
    "audit_log": _l("access log review"),
    "access_log": _l("own access list"),
    "audit_event": _l("log event"),
    "user_account": _l("account"),
    "invitation": _l("invitation"),
    "care_unit": _l("care unit"),
    "identity": _l("identity from an identity provider"),
    "recovery_code": _l("second-factor recovery code"),
    "alert": _l("alert"),
    "alert_list": _l("alert list"),
    "expected_level": _l("expected level"),
    "expected_level_form": _l("form for an expected level"),
    "outbox_message": _l("message (e-mail or SMS)"),
    "reporting_plan": _l("reporting plan"),
    "reporting_plan_entry": _l("reporting plan line"),
    "unit_membership": _l("unit membership"),
    "spr_prefill": _l("palliative register: suggested answers"),
    "spr_registrations": _l("palliative register: deaths of the unit"),
    "fhir_api": _l("record, through an EHR integration"),
    "api_client": _l("EHR integration credential"),
}

#: How it went.
OUTCOME_LABELS: dict[str, LazyString] = {
    "ok": _l("done"),
    "failed": _l("failed"),
    "no_address": _l("no address configured"),
    "denied": _l("refused"),
    "throttled": _l("paused after too many attempts"),
    "idle_timeout": _l("ended after a period without activity"),
    "expired": _l("refused: the credential has expired"),
    "revoked": _l("refused: the credential was revoked"),
}


def action_text(code: str) -> str:
    return str(ACTION_LABELS.get(code, code))


def object_text(code: str | None) -> str:
    return "" if code is None else str(OBJECT_LABELS.get(code, code))


def outcome_text(code: str) -> str:
    return str(OUTCOME_LABELS.get(code, code))


def event_text(action: str, object_type: str | None) -> str:
    """E.g. "opened · trends"."""
    what = object_text(object_type)
    return f"{action_text(action)} · {what}" if what else action_text(action)
