"""The clinical scoring engine: instruments as data, one scorer, flag rules.

Pure Python with no I/O: it imports nothing from Flask, SQLAlchemy or the rest of the app, so
it can be used by the web app, exports, benchmarks and checks alike. The rules, item codes,
bands and flag codes are specified in INSTRUMENTS.md (a stable contract) and explained for
clinicians in docs/instruments.md.

    from pallapp.scoring import INSTRUMENTS, score, flags_for
    s = score("esas_r", {"pain": 7, "tiredness": 5})
    flags = flags_for(s, previous=None)
"""

from __future__ import annotations

from ._frozen import FrozenMap
from .definitions import (
    CANNOT_ASSESS,
    NOT_APPLICABLE,
    SELF_REPORTING_ROLES,
    Band,
    ContextField,
    Display,
    InstrumentDefinition,
    ItemDefinition,
    JointAnswer,
    Subscale,
)
from .flags import (
    DEFAULT_THRESHOLDS,
    FLAG_CODES,
    SEVERITY_LABELS,
    Flag,
    FlagCode,
    Severity,
    Thresholds,
    flags_for,
)
from .i18n import N_, NC_
from .instruments import (
    INSTRUMENTS,
    RECALL_PERIOD_INSTRUCTIONS,
    RECALL_PERIOD_LABELS,
    RESPONDENT_LABELS,
    SCORING_VERSION,
    SPECIAL_VALUE_LABELS,
    in_display_order,
    special_value_label,
)
from .records import (
    DOSE_DECIMALS,
    DOSE_WHOLE_DIGITS,
    PARENTERAL_ROUTES,
    PRN_INDICATIONS,
    PRN_ROUTES,
    REQUIRED_PRN_INDICATIONS,
    SYMPTOM_INSTRUMENTS,
    AssessmentSeen,
    DoseGiven,
    DoseRange,
    InvalidDose,
    LimitCheck,
    PrnOrderRule,
    assessment_overdue,
    check_limits,
    decimal_text,
    normalise_unit,
    parse_amount,
    parse_dose,
    prn_dose_mismatch,
    prn_frequent,
    prn_limits_missing,
    prn_missing,
    prn_over_limit,
    roag_overdue,
)
from .scorer import AnswerValue, InvalidAnswers, OtherSymptom, Score, score

__all__ = [
    "CANNOT_ASSESS",
    "DEFAULT_THRESHOLDS",
    "DOSE_DECIMALS",
    "DOSE_WHOLE_DIGITS",
    "FLAG_CODES",
    "INSTRUMENTS",
    "NOT_APPLICABLE",
    "NC_",
    "N_",
    "PARENTERAL_ROUTES",
    "PRN_INDICATIONS",
    "PRN_ROUTES",
    "RECALL_PERIOD_INSTRUCTIONS",
    "RECALL_PERIOD_LABELS",
    "REQUIRED_PRN_INDICATIONS",
    "RESPONDENT_LABELS",
    "SCORING_VERSION",
    "SELF_REPORTING_ROLES",
    "SEVERITY_LABELS",
    "SPECIAL_VALUE_LABELS",
    "SYMPTOM_INSTRUMENTS",
    "AnswerValue",
    "AssessmentSeen",
    "Band",
    "ContextField",
    "Display",
    "DoseGiven",
    "DoseRange",
    "Flag",
    "FlagCode",
    "FrozenMap",
    "InstrumentDefinition",
    "InvalidAnswers",
    "InvalidDose",
    "ItemDefinition",
    "JointAnswer",
    "LimitCheck",
    "OtherSymptom",
    "PrnOrderRule",
    "Score",
    "Severity",
    "Subscale",
    "Thresholds",
    "assessment_overdue",
    "check_limits",
    "decimal_text",
    "flags_for",
    "in_display_order",
    "normalise_unit",
    "parse_amount",
    "parse_dose",
    "prn_dose_mismatch",
    "prn_frequent",
    "prn_limits_missing",
    "prn_missing",
    "prn_over_limit",
    "roag_overdue",
    "score",
    "special_value_label",
]
