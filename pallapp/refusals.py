"""Refusals: why a service will not make a change, with the words the user is shown.

A service raises its feature's subclass of `Refusal` with a `Reason`; each reason carries its
message (lazily translated, so it is put into words in the language of the request that shows
it). Views catch `Refusal` once and show `refusal.message`; nothing maps codes to words, so a
reason without words cannot exist. The value of a reason is a stable code for logs and tests.
"""

from __future__ import annotations

from enum import Enum

from flask_babel import LazyString

from pallapp.i18n import lazy_gettext as _l


class Reason(Enum):
    """Why a change is refused; `message` says it to the user."""

    message: LazyString

    def __new__(cls, code: str, message: LazyString) -> Reason:
        member = object.__new__(cls)
        member._value_ = code
        member.message = message
        return member

    # Both a new assessment and a new dose: a form is stored once, whoever sends it.
    TOKEN_REUSED = (
        "token_reused", _l("This form was already sent by someone else. Open a new form.")
    )

    # --- assessments ---
    OBSERVED_IN_FUTURE = (
        "observed_in_future", _l("The time of the assessment cannot be in the future.")
    )
    OBSERVED_BEFORE_ENROLMENT = (
        "observed_before_enrolment",
        _l("The time of the assessment cannot be before the patient was enrolled."),
    )
    PROXY_NOT_ALLOWED = (
        "proxy_not_allowed",
        _l("The patient has not allowed you to answer for them. You can help them answer instead."),
    )
    INSTRUMENT_NOT_ALLOWED = (
        "instrument_not_allowed", _l("You cannot fill in this form for the patient.")
    )
    ASSESSMENT_ALREADY_CORRECTED = (
        "assessment_already_corrected",
        _l("This version has already been corrected. Open the newest version to correct it."),
    )
    CORRECTION_REASON_REQUIRED = (
        "correction_reason_required", _l("Write why the assessment is corrected.")
    )

    # --- care plan ---
    UNKNOWN_PLACE = ("unknown_place", _l("Choose one of the places in the list."))
    STALE = (
        "stale",
        _l(
            "Someone saved the care plan while you were editing it. Read the newest version "
            "and make your change again."
        ),
    )
    NO_CHANGE = ("no_change", _l("Nothing was changed, so no new version was saved."))

    # --- milestones ---
    IN_FUTURE = ("in_future", _l("The date cannot be in the future."))
    PATIENT_DECEASED = (
        "patient_deceased", _l("The patient has died; this can no longer be recorded.")
    )
    PLACE_REQUIRED = ("place_required", _l("Choose the place of death."))
    EXPECTED_REQUIRED = ("expected_required", _l("Answer whether the death was expected."))
    PRESSURE_ULCERS_REQUIRED = (
        "pressure_ulcers_required",
        _l("Answer whether the patient was free of pressure ulcers at death."),
    )

    # --- as-needed orders ---
    NO_SUCH_ORDER = ("no_such_order", _l("This order cannot be found."))
    UNKNOWN_INDICATION = ("unknown_indication", _l("Choose an indication."))
    INDICATION_TEXT_REQUIRED = ("indication_text_required", _l("Write what the order is for."))
    UNKNOWN_ROUTE = ("unknown_route", _l("Choose a route."))
    DRUG_AND_DOSE_REQUIRED = (
        "drug_and_dose_required", _l("Write the drug, the dose and the unit.")
    )
    LIMIT_OUT_OF_RANGE = ("limit_out_of_range", _l("The limits must be at least 1."))
    MIN_INTERVAL_REQUIRED = (
        "min_interval_required",
        _l(
            "Write the minimum interval between doses. Without it, the doses given cannot be "
            "checked."
        ),
    )
    MAX_DOSES_REQUIRED = (
        "max_doses_required",
        _l(
            "Write the maximum number of doses in 24 hours. Without it, the doses given cannot "
            "be checked."
        ),
    )
    # Changing or stopping an order, and correcting a dose.
    REASON_REQUIRED = ("reason_required", _l("Write the reason."))
    ORDER_NOT_ACTIVE = ("order_not_active", _l("This order is not in force at that time."))

    # --- doses: an ordered dose, or an amount given, that is not a number or range, by
    # `scoring.InvalidDose.reason` (DOSE_PROBLEMS, AMOUNT_PROBLEMS below); the form's own words.
    DOSE_EMPTY = ("dose_empty", _l("Write the dose."))
    DOSE_NOT_A_NUMBER = (
        "dose_not_a_number",
        _l(
            "Write the dose as a number or a range, for example 2,5 or 2,5-5. The unit goes in "
            "its own field."
        ),
    )
    AMOUNT_NOT_A_NUMBER = (
        "amount_not_a_number",
        _l("Write the amount given as one number, for example 2,5. The unit goes in its own field."),
    )
    DOSE_NOT_POSITIVE = ("dose_not_positive", _l("The dose must be more than 0."))
    AMOUNT_NOT_POSITIVE = ("amount_not_positive", _l("The dose must be more than 0."))
    DOSE_TOO_PRECISE = ("dose_too_precise", _l("Write the dose with at most 4 decimals."))
    AMOUNT_TOO_PRECISE = ("amount_too_precise", _l("Write the dose with at most 4 decimals."))
    DOSE_TOO_LARGE = ("dose_too_large", _l("The dose is too large. Check it."))
    AMOUNT_TOO_LARGE = ("amount_too_large", _l("The dose is too large. Check it."))
    DOSE_RANGE_REVERSED = (
        "dose_range_reversed",
        _l("Write the range from the smaller to the larger dose, for example 2,5-5."),
    )

    # --- doses given ---
    NO_SUCH_DOSE = ("no_such_dose", _l("This dose cannot be found."))
    GIVEN_IN_FUTURE = ("given_in_future", _l("The time of the dose cannot be in the future."))
    RATING_OUT_OF_RANGE = ("rating_out_of_range", _l("A rating is a whole number from 0 to 10."))
    DOSE_ALREADY_CORRECTED = (
        "dose_already_corrected",
        _l("This dose has already been corrected. Open the newest version to correct it."),
    )
    ALREADY_EVALUATED = (
        "already_evaluated", _l("The effect of this dose has already been recorded.")
    )
    EVALUATED_BEFORE_DOSE = (
        "evaluated_before_dose", _l("The effect cannot be assessed before the dose was given.")
    )
    EVALUATED_IN_FUTURE = (
        "evaluated_in_future", _l("The time of the assessment cannot be in the future.")
    )

    # --- flags ---
    NOTE_REQUIRED = ("note_required", _l("Write what was done about the flag."))
    NOTE_TOO_LONG = ("note_too_long", _l("The note is too long (at most 1000 characters)."))
    ALREADY_CLOSED = ("already_closed", _l("This flag has already been closed."))

    # --- expected levels ---
    UNKNOWN_ITEM = ("unknown_item", _l("Choose a symptom from the list."))
    LEVEL_OUT_OF_RANGE = (
        "level_out_of_range",
        _l(
            "The level must be on the item's scale and below its top: at the top nothing could "
            "alert any more."
        ),
    )
    DAYS_OUT_OF_RANGE = ("days_out_of_range", _l("A marking lasts 1 to 14 days."))
    MARKING_REASON_REQUIRED = ("marking_reason_required", _l("Give the reason."))

    # --- reporting plans: the form shows one message for a missing reason or line ---
    PLAN_REASON_REQUIRED = ("plan_reason_required", _l("Give the reason and at least one line."))
    NO_PLAN_LINES = ("no_plan_lines", _l("Give the reason and at least one line."))
    NO_REPORTING_IN_PHASE = (
        "no_reporting_in_phase", _l("The plan cannot be saved in this phase.")
    )


#: What is wrong with an ordered dose, by `scoring.InvalidDose.reason` (scoring is pure, so its
#: codes are strings; they become reasons here).
DOSE_PROBLEMS: dict[str, Reason] = {
    "empty": Reason.DOSE_EMPTY,
    "not_a_number": Reason.DOSE_NOT_A_NUMBER,
    "not_positive": Reason.DOSE_NOT_POSITIVE,
    "too_precise": Reason.DOSE_TOO_PRECISE,
    "too_large": Reason.DOSE_TOO_LARGE,
    "range_reversed": Reason.DOSE_RANGE_REVERSED,
}
#: The same for the amount of a dose given, which is one number, never a range (an empty one
#: is refused before it is read, so it keeps the ordered dose's words).
AMOUNT_PROBLEMS: dict[str, Reason] = {
    **DOSE_PROBLEMS,
    "not_a_number": Reason.AMOUNT_NOT_A_NUMBER,
    "not_positive": Reason.AMOUNT_NOT_POSITIVE,
    "too_precise": Reason.AMOUNT_TOO_PRECISE,
    "too_large": Reason.AMOUNT_TOO_LARGE,
}


class Refusal(Exception):
    """A change a service will not make, and why (`reason`); the features raise subclasses."""

    def __init__(self, reason: Reason) -> None:
        if not isinstance(reason, Reason):
            raise TypeError(f"a refusal needs a Reason, not {reason!r}")
        super().__init__(reason.value)
        self.reason = reason

    @property
    def message(self) -> str:
        """The reason in words, in the language of the current request."""
        return str(self.reason.message)
