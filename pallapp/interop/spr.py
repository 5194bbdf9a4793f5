"""Svenska palliativregistret (SPR): what pallapp can answer of the after-death questionnaire
(dödsfallsenkät), and from which record. No database, no Flask: the service
(`pallapp.interop.spr_service`) gathers a `DeathRecord`, and everything here is reading it.

Sources for the questions and their answer options (docs/spr.md has the full list and every
question left unanswered):

- The questionnaire itself, "Svenska palliativregistret. Dödsfallsenkät fr.o.m. 2012-04-01", as
  reproduced in public copies (e.g. Bilaga 1 of a registry study on 5dok.org; the form text on
  docplayer.se, "OBS: All inrapportering görs digitalt efter inloggning via www.palliativ.se").
  From it come the numbers and options of questions 4, 5, 6 and 9 used below.
- Where no public copy gave us the wording and number of a question, the topic is the one the
  register reports as its quality indicators: Socialstyrelsen, "Nationella riktlinjer -
  Målnivåer. Palliativ vård i livets slutskede" (2017); Martinsson et al., "Registration in a
  quality register: a method to improve end-of-life care", BMJ Open 2012;2:e001328 (as-needed
  orders for pain, nausea, anxiety and death rattle; place of death against the preferred
  place; bereavement follow-up); Martinsson et al., PLoS One 2018;13(7):e0201051 (the
  questionnaire's end-of-life indicators). Those questions carry no number here
  (`Question.number` is None): the staff member finds them by topic in the register's form.
  We never invent a question number, wording or answer option.

Every answer is a suggestion for the staff member who registers: the register asks the care
team to answer together, and a registration is theirs, not the app's.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from pallapp.review import quality
from pallapp.scoring import N_, PARENTERAL_ROUTES
from pallapp.timeutil import STOCKHOLM

#: The as-needed injection orders the register asks about at death (BMJ Open 2012, above).
FOUR_INDICATIONS = quality.FOUR_INDICATIONS


class Value(enum.StrEnum):
    """Answer codes. Place-of-death codes are the options of question 6 (2012-04-01 form)."""

    YES = "yes"
    NO = "no"
    UNKNOWN = "unknown"  # "vet ej" where the register offers it
    # Question 6, "Dödsplatsen beskrivs bäst som": the options pallapp can tell apart.
    NURSING_HOME = "sarskilt_boende"  # särskilt boende / vård- och omsorgsboende
    HOSPITAL_WARD = "sjukhusavdelning"  # sjukhusavdelning (ej hospice / palliativ slutenvård)
    HOSPICE = "hospice"  # hospice / palliativ slutenvård
    HOME_ADVANCED = "eget_hem_avancerad"  # eget hem, med stöd av avancerad hemsjukvård
    HOME_OTHER = "eget_hem_ovrig"  # eget hem, med stöd av övrig hemsjukvård


VALUE_LABELS: Mapping[Value, str] = {
    Value.YES: N_("Yes"),
    Value.NO: N_("No"),
    Value.UNKNOWN: N_("Don't know"),
    Value.NURSING_HOME: N_("Special housing / care home"),
    Value.HOSPITAL_WARD: N_("Hospital ward (not hospice or palliative in-patient care)"),
    Value.HOSPICE: N_("Hospice / palliative in-patient care"),
    Value.HOME_ADVANCED: N_("Own home, with advanced home health care"),
    Value.HOME_OTHER: N_("Own home, with other home health care"),
}


class SourceKind(enum.StrEnum):
    PATIENT = "patient"
    EPISODE = "episode"
    MILESTONE = "milestone"
    CARE_PLAN = "care_plan"
    ASSESSMENT = "assessment"
    ORDER = "order"


@dataclass(frozen=True)
class Source:
    """One record an answer comes from: what it is, its opaque id and its date."""

    kind: SourceKind
    public_id: str
    on: date
    #: What it is, in words (a msgid or a name that is not translated: an instrument, a drug).
    label: str
    #: The codes the regions measure this kind of record by in the journal (docs/fhir.md):
    #: ICD-10-SE Z51.5 on a palliative care episode, KVÅ XV018 on a brytpunktssamtal.
    codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Question:
    code: str
    #: The question's number in the 2012-04-01 form where a public copy shows it, else None.
    number: str | None
    #: The topic in English (msgid); docs/spr.md gives the Swedish wording where known.
    text: str
    #: Where the question comes from (a short citation, not translated).
    source: str


#: As in the FHIR export (pallapp.interop.fhir), written for a spreadsheet.
EPISODE_CODE = "ICD-10-SE Z51.5"
BRYTPUNKTSSAMTAL_CODE = "KVÅ XV018"

FORM_2012 = "SPR dödsfallsenkät fr.o.m. 2012-04-01"
INDICATORS = "SPR quality indicators (Socialstyrelsen 2017; Martinsson et al. 2012, 2018)"

DATE_OF_DEATH = Question("date_of_death", "4", N_("Date of death"), FORM_2012)
ENROLLED = Question(
    "enrolled_on", "5", N_("Date the person was enrolled in the unit where the death occurred"),
    FORM_2012,
)
PLACE = Question("place_of_death", "6", N_("Place of death"), FORM_2012)
EXPECTED = Question(
    "death_expected", "9", N_("Was the death expected from the history of the illness?"), FORM_2012
)
PREFERRED_PLACE = Question(
    "preferred_place", None, N_("Did the person die in the place they wished?"), INDICATORS
)
BRYTPUNKT_PATIENT = Question(
    "brytpunktssamtal_patient", None,
    N_("Was the person informed by a physician that death was near (brytpunktssamtal)?"),
    INDICATORS,
)
BRYTPUNKT_RELATIVES = Question(
    "brytpunktssamtal_relatives", None,
    N_("Were the relatives informed by a physician that death was near?"), INDICATORS,
)
PAIN_RATED = Question(
    "pain_rated", None, N_("Was pain rated with a validated instrument in the last week of life?"),
    INDICATORS,
)
SYMPTOMS_RATED = Question(
    "other_symptoms_rated", None,
    N_("Were other symptoms rated with a validated instrument in the last week of life?"),
    INDICATORS,
)
ORAL_HEALTH = Question(
    "oral_health_assessed", None, N_("Was oral health assessed in the last week of life?"),
    INDICATORS,
)
ORDER_QUESTIONS = {
    "pain": Question(
        "prn_injection_pain", None,
        N_("Was there an as-needed injection order for pain at the time of death?"), INDICATORS,
    ),
    "nausea": Question(
        "prn_injection_nausea", None,
        N_("Was there an as-needed injection order for nausea at the time of death?"), INDICATORS,
    ),
    "anxiety": Question(
        "prn_injection_anxiety", None,
        N_("Was there an as-needed injection order for anxiety at the time of death?"), INDICATORS,
    ),
    "death_rattle": Question(
        "prn_injection_death_rattle", None,
        N_("Was there an as-needed injection order for death rattle at the time of death?"),
        INDICATORS,
    ),
}
PRESSURE_ULCERS = Question(
    "pressure_ulcers", None, N_("Did the person have pressure ulcers at death?"), INDICATORS
)
BEREAVEMENT = Question(
    "efterlevandesamtal_offered", None,
    N_("Were the relatives offered a bereavement conversation (efterlevandesamtal)?"), INDICATORS,
)

def prefill_questions() -> tuple[Question, ...]:
    """Every question `prefill` answers (or explains), in its order."""
    return (
        DATE_OF_DEATH, ENROLLED, PLACE, EXPECTED, PREFERRED_PLACE, BRYTPUNKT_PATIENT,
        BRYTPUNKT_RELATIVES, PAIN_RATED, SYMPTOMS_RATED, ORAL_HEALTH, *ORDER_QUESTIONS.values(),
        PRESSURE_ULCERS, BEREAVEMENT,
    )


#: Questions pallapp holds no record for: listed on the page as such, never guessed.
_UNANSWERABLE: tuple[tuple[Question, str], ...] = (
    (
        Question("autopsy", "8", N_("Will the person undergo an autopsy?"), FORM_2012),
        N_("pallapp records no autopsy decision."),
    ),
    (
        Question(
            "lost_ability_to_decide", "10",
            N_("How long before death did the person lose the ability to express their will "
               "and take part in decisions?"),
            FORM_2012,
        ),
        N_("pallapp records no assessment of decision-making capacity."),
    ),
    (
        Question(
            "underlying_conditions", "7", N_("Underlying condition(s) that led to death"),
            FORM_2012,
        ),
        N_("The main diagnosis is free text in pallapp; the register's categories must be "
           "chosen by the care team."),
    ),
    (
        Question(
            "present_at_death", None, N_("Was anyone present at the moment of death?"), INDICATORS
        ),
        N_("pallapp records no presence at death."),
    ),
    (
        Question(
            "symptom_relief", None,
            N_("Was the person relieved of pain and other symptoms in the last week?"), INDICATORS,
        ),
        N_("Relief is the care team's judgement; the ratings are listed under the rating "
           "questions."),
    ),
    (
        Question(
            "relatives_informed_after_death", None,
            N_("Were the relatives informed and supported at and after the death?"), INDICATORS,
        ),
        N_("pallapp records only whether a bereavement conversation was offered."),
    ),
)
UNANSWERABLE = tuple(
    sorted(_UNANSWERABLE, key=lambda entry: int(entry[0].number or 999))
)


@dataclass(frozen=True)
class Answer:
    question: Question
    #: The suggested answer; None when pallapp's records do not settle it (`reason` says why).
    value: Value | None
    sources: tuple[Source, ...] = ()
    #: Extra facts for the staff member (a date, a place as written), not translated.
    detail: str = ""
    #: Why there is no answer (msgid), when `value` is None.
    reason: str = ""


# --- What the service gathers -------------------------------------------------------------


@dataclass(frozen=True)
class MilestoneFact:
    public_id: str
    kind: str
    occurred_on: date
    participants: str = ""
    place: str | None = None
    death_expected: bool | None = None
    free_of_pressure_ulcers: bool | None = None


@dataclass(frozen=True)
class AssessmentFact:
    public_id: str
    instrument: str
    title: str
    observed_at: datetime
    answers: Mapping[str, object] = field(default_factory=dict)
    total: int | None = None

    @property
    def observed_on(self) -> date:
        return self.observed_at.astimezone(STOCKHOLM).date()


@dataclass(frozen=True)
class OrderFact:
    public_id: str
    indication: str
    route: str
    drug: str
    start_at: datetime
    stop_at: datetime | None


@dataclass(frozen=True)
class PlanFact:
    public_id: str
    version: int
    created_on: date
    preferred_place_of_death: str
    preferred_place_of_death_code: str | None = None


@dataclass(frozen=True)
class DeathRecord:
    """What the service read about one deceased patient."""

    patient_public_id: str
    died_on: date
    place_of_death: str | None  # pallapp.models.PlaceOfDeath value
    #: The unit whose episode was active on the day of death and its kind (UnitKind value).
    unit_kind: str | None
    episode_public_id: str | None = None
    enrolled_on: date | None = None
    plan: PlanFact | None = None
    milestones: tuple[MilestoneFact, ...] = ()
    assessments: tuple[AssessmentFact, ...] = ()
    orders: tuple[OrderFact, ...] = ()


# --- Reading it ---------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=STOCKHOLM)


def in_force_on(day: date, start_at: datetime, stop_at: datetime | None) -> bool:
    """An order was in force at some time on `day` (Swedish date): the rule of the quality
    indicators (docs/quality-indicators.md), so the pre-fill and the report agree."""
    return start_at < _day_start(day + timedelta(days=1)) and (
        stop_at is None or stop_at > _day_start(day)
    )


def place_value(place: str | None, unit_kind: str | None) -> Value | None:
    """Question 6 from pallapp's place of death. "At home" splits by the care the person had:
    a specialised palliative team gives advanced home care (avancerad sjukvård i hemmet,
    ASIH); municipal home health care and primary care give the other home health care. A
    home death under a ward's care (or no active unit) is left for the team to answer."""
    if place == "nursing_home":
        return Value.NURSING_HOME
    if place == "hospital":
        return Value.HOSPITAL_WARD
    if place == "hospice":
        return Value.HOSPICE
    if place == "home":
        if unit_kind == "specialised_palliative":
            return Value.HOME_ADVANCED
        if unit_kind in ("municipal_home_care", "primary_care"):
            return Value.HOME_OTHER
    return None


def _yes_no(found: bool) -> Value:
    return Value.YES if found else Value.NO


def _milestone_source(milestone: MilestoneFact, label: str) -> Source:
    return Source(SourceKind.MILESTONE, milestone.public_id, milestone.occurred_on, label)


def prefill(record: DeathRecord) -> list[Answer]:
    """The answers pallapp can suggest for one death, each with the records it comes from, in
    the order of the register's form (numbered questions first)."""
    died_on = record.died_on
    death = next((m for m in record.milestones if m.kind == "death"), None)
    death_sources = (_milestone_source(death, N_("Death")),) if death else ()
    answers = [
        Answer(DATE_OF_DEATH, None, death_sources, detail=died_on.isoformat(),
               reason=N_("A date, not a choice: copy it.")),
    ]
    if record.enrolled_on is not None and record.episode_public_id is not None:
        answers.append(
            Answer(
                ENROLLED, None,
                (Source(SourceKind.EPISODE, record.episode_public_id, record.enrolled_on,
                        N_("Care episode"), (EPISODE_CODE,)),),
                detail=record.enrolled_on.isoformat(), reason=N_("A date, not a choice: copy it."),
            )
        )
    else:
        answers.append(Answer(ENROLLED, None, reason=N_("No episode in a unit on the day of death.")))

    place = place_value(record.place_of_death, record.unit_kind)
    answers.append(
        Answer(PLACE, place, death_sources, detail=record.place_of_death or "",
               reason="" if place else N_("Home under a ward's care: choose the kind of home care."))
    )
    if death is None or death.death_expected is None:
        answers.append(Answer(EXPECTED, None, death_sources,
                              reason=N_("Not recorded whether the death was expected.")))
    else:
        answers.append(Answer(EXPECTED, _yes_no(death.death_expected), death_sources))

    answers.append(_preferred_place(record, death_sources))
    answers.extend(_brytpunktssamtal(record))
    answers.extend(_ratings(record))
    answers.extend(_orders(record))

    if death is None or death.free_of_pressure_ulcers is None:
        answers.append(Answer(PRESSURE_ULCERS, None, death_sources,
                              reason=N_("Not recorded whether there were pressure ulcers at death.")))
    else:
        # The question asks about ulcers; pallapp records being free of them.
        answers.append(Answer(PRESSURE_ULCERS, _yes_no(not death.free_of_pressure_ulcers),
                              death_sources))

    offered = [m for m in record.milestones if m.kind == "efterlevandesamtal_offered"]
    answers.append(
        Answer(BEREAVEMENT, _yes_no(bool(offered)),
               tuple(_milestone_source(m, N_("Bereavement conversation offered")) for m in offered))
    )
    return answers


def _preferred_place(record: DeathRecord, death_sources: tuple[Source, ...]) -> Answer:
    plan = record.plan
    if plan is None or not (plan.preferred_place_of_death_code or plan.preferred_place_of_death):
        return Answer(PREFERRED_PLACE, None, death_sources,
                      reason=N_("No preferred place of death in the care plan."))
    plan_source = Source(SourceKind.CARE_PLAN, plan.public_id, plan.created_on,
                         N_("Care plan"))
    sources = (plan_source, *death_sources)
    if plan.preferred_place_of_death_code is None or record.place_of_death is None:
        return Answer(
            PREFERRED_PLACE, None, sources, detail=plan.preferred_place_of_death,
            reason=N_("The preference is written as text only: compare it with the place of death."),
        )
    # The same four places on both sides (pallapp.models.PlaceOfDeath): "home" matches "home"
    # whichever home care the person had.
    return Answer(
        PREFERRED_PLACE, _yes_no(plan.preferred_place_of_death_code == record.place_of_death),
        sources, detail=plan.preferred_place_of_death,
    )


def _brytpunktssamtal(record: DeathRecord) -> list[Answer]:
    """A brytpunktssamtal on or before the day of death. pallapp records who took part as free
    text, so with the patient or with the relatives is not derived: the conversations are
    listed with their participants, and without any the answer is No for both."""
    held = [
        m for m in record.milestones
        if m.kind == "brytpunktssamtal" and m.occurred_on <= record.died_on
    ]
    sources = tuple(
        Source(SourceKind.MILESTONE, m.public_id, m.occurred_on,
               N_("Conversation on transition to end-of-life care"), (BRYTPUNKTSSAMTAL_CODE,))
        for m in held
    )
    if not held:
        return [Answer(BRYTPUNKT_PATIENT, Value.NO), Answer(BRYTPUNKT_RELATIVES, Value.NO)]
    detail = "; ".join(
        f"{m.occurred_on.isoformat()}: {m.participants}" if m.participants else m.occurred_on.isoformat()
        for m in held
    )
    reason = N_("Who took part is written as text: read the participants.")
    return [
        Answer(BRYTPUNKT_PATIENT, None, sources, detail=detail, reason=reason),
        Answer(BRYTPUNKT_RELATIVES, None, sources, detail=detail, reason=reason),
    ]


def _ratings(record: DeathRecord) -> list[Answer]:
    """Ratings in the last week of life, by the quality indicators' rules (which instrument
    counts as rating pain or another symptom: `pallapp.review.quality`)."""
    last_week = [a for a in record.assessments if quality.in_last_week(a.observed_on, record.died_on)]

    def sources(found: Iterable[AssessmentFact]) -> tuple[Source, ...]:
        return tuple(
            Source(SourceKind.ASSESSMENT, a.public_id, a.observed_on, a.title) for a in found
        )

    pain = [a for a in last_week if quality.rates_pain(a.instrument, a.answers, a.total)]
    other = [a for a in last_week if quality.rates_other_symptoms(a.instrument, a.answers)]
    roag = [a for a in last_week if a.instrument == "roag"]
    return [
        Answer(PAIN_RATED, _yes_no(bool(pain)), sources(pain)),
        Answer(SYMPTOMS_RATED, _yes_no(bool(other)), sources(other)),
        Answer(ORAL_HEALTH, _yes_no(bool(roag)), sources(roag)),
    ]


def _orders(record: DeathRecord) -> list[Answer]:
    """An injection order (s.c. or i.v.: `scoring.PARENTERAL_ROUTES`) per indication, in force
    on the day of death."""
    answers = []
    for indication in FOUR_INDICATIONS:
        found = [
            o for o in record.orders
            if o.indication == indication
            and o.route in PARENTERAL_ROUTES
            and in_force_on(record.died_on, o.start_at, o.stop_at)
        ]
        answers.append(
            Answer(
                ORDER_QUESTIONS[indication], _yes_no(bool(found)),
                tuple(
                    Source(SourceKind.ORDER, o.public_id,
                           o.start_at.astimezone(STOCKHOLM).date(), f"{o.drug} ({o.route})")
                    for o in found
                ),
            )
        )
    return answers


# --- The registration indicator -----------------------------------------------------------


@dataclass(frozen=True)
class Registration:
    """One death of the unit and whether it was marked registered in SPR."""

    patient_public_id: str
    name: str
    died_on: date
    registered_on: date | None
    registered_source: str | None = None


#: Target for the share of deaths registered in SPR: 100 % (the regions' plans, as quoted in
#: the issue: Dalarna 2021 registered 55 %, target 100 %).
REGISTRATION_TARGET = 100


def registration_share(registrations: Iterable[Registration]) -> tuple[int, int, float | None]:
    """(registered, deaths, percent with one decimal or None without deaths)."""
    items = list(registrations)
    done = sum(1 for r in items if r.registered_on is not None)
    return done, len(items), quality.share(done, len(items))
