"""FHIR R4 resources an EHR can read: who answered, who rated, with what, in Swedish and English.

Built from plain records (no queries here): `fhir_service` gathers them through
`pallapp.access` and audits every patient. Validated in tests with `fhir.resources` (R4B).

Choices, each with its source (docs/fhir.md has the full list):

- **Canonical URLs** under a configured base (`PALLAPP_FHIR_BASE_URL`, default
  `<PALLAPP_BASE_URL>/fhir`), where the read-only API serves the Questionnaires and CodeSystems,
  so every canonical resolves (FHIR R4 "Canonical URLs", http://hl7.org/fhir/R4/references.html).
- **Personnummer / samordningsnummer**: the NamingSystem URIs of HL7 Sweden's base profiles
  (github.com/HL7Sweden/basprofiler-r4, `input/fsh/vocabulary/personnummer.fsh` and
  `samordningsnummer.fsh`: http://electronichealth.se/identifier/personnummer, ...
  /samordningsnummer), and the same number again under the OIDs the national RIVTA contracts
  use (1.2.752.129.2.1.3.1 and 1.2.752.129.2.1.3.3, e.g. Inera's clinicalprocess contracts), so
  an EHR on either convention finds the patient.
- **Codes for the journal**: ICD-10-SE Z51.5 (palliative care) on each care episode and KVÅ
  XV018 (brytpunktssamtal) on each brytpunktssamtal, as the regions' plans measure them; the
  code systems by Socialstyrelsen's OIDs as the RIVTA contracts use them (ICD-10-SE
  1.2.752.116.1.1.1.1.3, KVÅ 1.2.752.116.1.3.2.1.4). Symptom-rating KVÅ codes are not mapped:
  we found no public source for what AU124, AU125, AW013 and AW015 mean.
- **Scores**: LOINC has no code we could cite for the IPOS, ESAS-r, Abbey or ROAG scores, so
  every score is coded in the project CodeSystem `pallapp-scores` (served at its URL), with the
  value as a UCUM `{score}` quantity (http://unitsofmeasure.org, annotation units).
- **Item texts** in English with the Swedish text in the `translation` extension
  (http://hl7.org/fhir/StructureDefinition/translation); answer options as codings with their
  display and the `ordinalValue` extension (http://hl7.org/fhir/StructureDefinition/ordinalValue).
- **Who answered**: QuestionnaireResponse `source` is the person who answered (Patient,
  RelatedPerson for a relative's proxy answer, Practitioner for staff) and `author` the person
  who entered the answers; Observation `performer` is who answered, `method` says how.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from pallapp import scoring

# A stable namespace, so the same record gets the same resource id in every export (the one
# the assessment export has always used: ids stay the same across this change).
NAMESPACE = uuid.UUID("1d0b7f0e-4a39-5b6f-9c57-6a1f1f3f6b12")

PERSONNUMMER_SYSTEM = "http://electronichealth.se/identifier/personnummer"
SAMORDNINGSNUMMER_SYSTEM = "http://electronichealth.se/identifier/samordningsnummer"
PERSONNUMMER_OID = "urn:oid:1.2.752.129.2.1.3.1"
SAMORDNINGSNUMMER_OID = "urn:oid:1.2.752.129.2.1.3.3"
ICD10SE_SYSTEM = "urn:oid:1.2.752.116.1.1.1.1.3"
KVA_SYSTEM = "urn:oid:1.2.752.116.1.3.2.1.4"
UCUM = "http://unitsofmeasure.org"
TRANSLATION = "http://hl7.org/fhir/StructureDefinition/translation"
ORDINAL_VALUE = "http://hl7.org/fhir/StructureDefinition/ordinalValue"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"

PALLIATIVE_CARE_CODE = ("Z51.5", "Palliativ vård")
BRYTPUNKTSSAMTAL_CODE = ("XV018", "Brytpunktssamtal")
SCORES_ID = "pallapp-scores"
SPECIAL_VALUES_ID = "pallapp-special-values"

#: How the answers were given, as Observation.method text, by respondent.
METHOD_TEXT = {
    "patient": "Self-report",
    "relative": "Proxy report by a relative",
    "staff": "Staff observation",
}


def resource_id(kind: str, key: str) -> str:
    return uuid.uuid5(NAMESPACE, f"{kind}/{key}").hex


def full_url(kind: str, key: str) -> str:
    return f"urn:uuid:{uuid.uuid5(NAMESPACE, f'{kind}/{key}')}"


def utc_iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds")


def slug(code: str) -> str:
    """An instrument code as it appears in URLs (ipos_patient -> ipos-patient)."""
    return code.replace("_", "-")


@dataclass(frozen=True)
class Terms:
    """The base URL and the two languages every text is given in."""

    base: str
    english: Callable[[str], str]
    swedish: Callable[[str], str]
    #: (context, msgid) -> text, for msgids marked with a gettext context (Abbey's answers).
    english_in: Callable[[str, str], str]
    swedish_in: Callable[[str, str], str]

    def canonical(self, kind: str, key: str) -> str:
        return f"{self.base}/{kind}/{key}"

    def option(self, item: scoring.ItemDefinition, value: int) -> tuple[str, str]:
        """(English, Swedish) words of the answer `value` of `item` (the number if it has none),
        in the item's gettext context when it has one."""
        msgid = item.label_for(value)
        if msgid is None:
            return str(value), str(value)
        if item.options_context:
            return (
                self.english_in(item.options_context, msgid),
                self.swedish_in(item.options_context, msgid),
            )
        return self.english(msgid), self.swedish(msgid)


def _with_translation(target: dict[str, Any], name: str, terms: Terms, msgid: str) -> None:
    _with_texts(target, name, terms.english(msgid), terms.swedish(msgid))


def _with_texts(target: dict[str, Any], name: str, english: str, swedish: str) -> None:
    target[name] = english
    if swedish != english:
        target[f"_{name}"] = {
            "extension": [
                {
                    "url": TRANSLATION,
                    "extension": [
                        {"url": "lang", "valueCode": "sv"},
                        {"url": "content", "valueString": swedish},
                    ],
                }
            ]
        }


# --- Definitions: Questionnaires and CodeSystems ----------------------------------------------


def answers_system(terms: Terms, instrument: str) -> str:
    return terms.canonical("CodeSystem", f"pallapp-{slug(instrument)}-answers")


def _answer_coding(
    terms: Terms, instrument: str, item: scoring.ItemDefinition, value: int
) -> dict[str, Any]:
    coding: dict[str, Any] = {
        "extension": [{"url": ORDINAL_VALUE, "valueDecimal": value}],
        "system": answers_system(terms, instrument),
        "code": f"{item.code}.{value}",
    }
    _with_texts(coding, "display", *terms.option(item, value))
    return coding


def _special_coding(terms: Terms, item: scoring.ItemDefinition, value: str) -> dict[str, Any]:
    coding: dict[str, Any] = {
        "system": terms.canonical("CodeSystem", SPECIAL_VALUES_ID),
        "code": value,
    }
    _with_translation(coding, "display", terms, scoring.special_value_label(item, value))
    return coding


def _labelled(item: scoring.ItemDefinition) -> bool:
    """Every value has a label (IPOS, Abbey, ROAG): a choice; else (ESAS-r 0-10) a number."""
    return len(item.options) == len(item.values)


def _int_extension(url: str, value: int) -> dict[str, Any]:
    return {"url": f"http://hl7.org/fhir/StructureDefinition/{url}", "valueInteger": value}


def _questionnaire_item(terms: Terms, instrument: str, item: scoring.ItemDefinition) -> dict[str, Any]:
    # The answers are stored so that higher is worse: an item that asks about something good is
    # named by its problem end (IPOS Q6-Q9), so "Not at peace: 4" reads the right way round.
    entry: dict[str, Any] = {"linkId": item.code, "required": False}
    _with_translation(entry, "text", terms, item.score_label)
    if _labelled(item):
        options = [
            {"valueCoding": _answer_coding(terms, instrument, item, value)} for value in item.values
        ]
        options += [{"valueCoding": _special_coding(terms, item, s)} for s in item.special_values]
        entry.update(type="choice", answerOption=options)
    else:
        # ESAS-r: 0-10 with labelled anchors only (no item of that kind has a special answer).
        entry.update(
            type="integer",
            extension=[_int_extension("minValue", item.min), _int_extension("maxValue", item.max)],
        )
    return entry


def _context_system(terms: Terms, definition: scoring.InstrumentDefinition, code: str) -> str:
    return terms.canonical("CodeSystem", f"pallapp-{slug(definition.code)}-{slug(code)}")


def _context_item(
    terms: Terms, definition: scoring.InstrumentDefinition, context: scoring.ContextField
) -> dict[str, Any]:
    entry: dict[str, Any] = {"linkId": context.code}
    _with_translation(entry, "text", terms, context.label)
    if context.kind == "choice":
        options = []
        for code, label in context.choices:
            coding: dict[str, Any] = {"system": _context_system(terms, definition, context.code), "code": code}
            _with_translation(coding, "display", terms, label)
            options.append({"valueCoding": coding})
        entry.update(type="choice", answerOption=options)
    elif context.kind == "text":
        entry.update(type="string", maxLength=context.max_length)
    elif context.kind == "text_list":
        entry.update(type="string", repeats=True, maxLength=context.max_length)
    else:  # rated_list
        entry.update(
            type="group",
            repeats=True,
            item=[
                {"linkId": f"{context.code}.label", "text": "label", "type": "string"},
                {
                    "linkId": f"{context.code}.rating",
                    "text": "rating",
                    "type": "integer",
                    "extension": [
                        _int_extension("minValue", context.rating_min),
                        _int_extension("maxValue", context.rating_max),
                    ],
                },
            ],
        )
    return entry


def questionnaire(terms: Terms, code: str) -> dict[str, Any]:
    """The Questionnaire of one instrument, generated from its definition."""
    definition = scoring.INSTRUMENTS[code]
    resource: dict[str, Any] = {
        "resourceType": "Questionnaire",
        "id": slug(code),
        "language": "en",
        "url": terms.canonical("Questionnaire", slug(code)),
        "version": definition.version,
        "name": code.upper().replace("-", "_"),
        "status": "active",
        "subjectType": ["Patient"],
    }
    _with_translation(resource, "title", terms, definition.title)
    resource["item"] = [
        _questionnaire_item(terms, code, item) for item in definition.items
    ] + [_context_item(terms, definition, context) for context in definition.context_fields]
    return resource


def questionnaire_canonical(terms: Terms, code: str) -> str:
    return f"{terms.canonical('Questionnaire', slug(code))}|{scoring.INSTRUMENTS[code].version}"


def _score_concepts(terms: Terms) -> list[dict[str, Any]]:
    concepts: dict[str, dict[str, Any]] = {}
    for code, definition in scoring.INSTRUMENTS.items():
        names = []
        if definition.total_items:
            names.append(("total", definition.total_label or "Total score"))
        names += [(sub, s.label) for sub, s in definition.subscales.items()]
        if definition.bands and not definition.total_items:
            names.append(("max_grade", "Highest grade"))
        for name, label in names:
            concept: dict[str, Any] = {"code": f"{code}.{name}"}
            title, part = terms.english(definition.title), terms.english(label)
            concept["display"] = f"{title}: {part}"
            concept["designation"] = [
                {"language": "sv", "value": f"{terms.swedish(definition.title)}: {terms.swedish(label)}"}
            ]
            concepts[concept["code"]] = concept
    return list(concepts.values())


def code_systems(terms: Terms) -> list[dict[str, Any]]:
    """The project's CodeSystems: scores (where LOINC has none), special answers, and each
    instrument's answer options. Served at their canonical URLs by the API."""
    systems = [
        {
            "resourceType": "CodeSystem",
            "id": SCORES_ID,
            "url": terms.canonical("CodeSystem", SCORES_ID),
            "name": "PallappScores",
            "title": "pallapp instrument scores",
            "status": "active",
            "content": "complete",
            "caseSensitive": True,
            "concept": _score_concepts(terms),
        },
        {
            "resourceType": "CodeSystem",
            "id": SPECIAL_VALUES_ID,
            "url": terms.canonical("CodeSystem", SPECIAL_VALUES_ID),
            "name": "PallappSpecialValues",
            "status": "active",
            "content": "complete",
            "caseSensitive": True,
            "concept": [
                {"code": value, "display": terms.english(label),
                 "designation": [{"language": "sv", "value": terms.swedish(label)}]}
                for value, label in scoring.SPECIAL_VALUE_LABELS.items()
            ],
        },
    ]
    for code, definition in scoring.INSTRUMENTS.items():
        concepts = [
            {
                "code": f"{item.code}.{value}",
                "display": english,
                "designation": [{"language": "sv", "value": swedish}],
            }
            for item in definition.items
            if _labelled(item)
            for value in item.values
            for english, swedish in (terms.option(item, value),)
        ]
        if concepts:
            key = f"pallapp-{slug(code)}-answers"
            systems.append({
                "resourceType": "CodeSystem", "id": key, "url": terms.canonical("CodeSystem", key),
                "name": f"Pallapp{code.title().replace('_', '')}Answers", "status": "active",
                "content": "complete", "caseSensitive": True, "concept": concepts,
            })
    return systems


# --- Records ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """Someone who answered or entered answers: a patient, a relative or a staff member."""

    kind: str  # "Patient", "RelatedPerson", "Practitioner"
    key: str  # the public id the resource id is made from
    name: str = ""
    relation: str = ""  # RelatedPerson: how they are related, as written

    @property
    def ref(self) -> str:
        return full_url(self.kind, self.key)


@dataclass(frozen=True)
class AssessmentRecord:
    public_id: str
    instrument: str
    observed_at: datetime
    respondent: str
    answers: Mapping[str, Any]
    scores: Mapping[str, Any]
    total: int | None
    band: str | None
    source: Person  # who answered
    author: Person  # who entered the answers


@dataclass(frozen=True)
class EpisodeRecord:
    key: str
    unit_key: str
    unit_name: str
    start: date
    end: date | None


@dataclass(frozen=True)
class ProcedureRecord:
    key: str
    occurred_on: date
    performer: Person | None = None


@dataclass(frozen=True)
class DoseRecord:
    key: str
    given_at: datetime
    drug: str
    dose: str
    dose_unit: str
    route: str
    indication: str
    given_by: Person


@dataclass(frozen=True)
class PatientRecord:
    public_id: str
    personnummer: str
    is_coordination_number: bool
    family_name: str
    given_name: str
    birth_date: date
    died_on: date | None = None
    assessments: tuple[AssessmentRecord, ...] = ()
    episodes: tuple[EpisodeRecord, ...] = ()
    brytpunktssamtal: tuple[ProcedureRecord, ...] = ()
    doses: tuple[DoseRecord, ...] = ()
    people: tuple[Person, ...] = field(default=())

    @property
    def ref(self) -> str:
        return full_url("Patient", self.public_id)


def patient_resource(patient: PatientRecord) -> dict[str, Any]:
    if patient.is_coordination_number:
        systems = (SAMORDNINGSNUMMER_SYSTEM, SAMORDNINGSNUMMER_OID)
    else:
        systems = (PERSONNUMMER_SYSTEM, PERSONNUMMER_OID)
    resource: dict[str, Any] = {
        "resourceType": "Patient",
        "id": resource_id("Patient", patient.public_id),
        "identifier": [
            {"use": "official", "system": systems[0], "value": patient.personnummer},
            {"use": "secondary", "system": systems[1], "value": patient.personnummer},
        ],
        "name": [{"family": patient.family_name, "given": [patient.given_name]}],
        "birthDate": patient.birth_date.isoformat(),
    }
    if patient.died_on is not None:
        resource["deceasedDateTime"] = patient.died_on.isoformat()
    return resource


def person_resource(person: Person, patient: PatientRecord) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": person.kind,
        "id": resource_id(person.kind, person.key),
    }
    if person.name:
        resource["name"] = [{"text": person.name}]
    if person.kind == "RelatedPerson":
        resource["patient"] = {"reference": patient.ref}
        if person.relation:
            resource["relationship"] = [{"text": person.relation}]
    return resource


def _reference(person: Person) -> dict[str, Any]:
    return {"reference": person.ref, "type": person.kind}


def _answer(terms: Terms, instrument: str, item: scoring.ItemDefinition, value: object) -> dict[str, Any]:
    if isinstance(value, str):
        return {"valueCoding": _special_coding(terms, item, value)}
    if _labelled(item) and isinstance(value, int):
        return {"valueCoding": _answer_coding(terms, instrument, item, value)}
    return {"valueInteger": value}


def _context_answers(
    terms: Terms, definition: scoring.InstrumentDefinition, context: scoring.ContextField, value: Any
) -> list[dict[str, Any]]:
    """Items of one context field; free text may name people and is never exported."""
    if value in (None, "", []):
        return []
    if context.kind == "choice":
        coding: dict[str, Any] = {"system": _context_system(terms, definition, context.code), "code": value}
        _with_translation(coding, "display", terms, dict(context.choices).get(value, value))
        return [{"linkId": context.code, "text": terms.english(context.label),
                 "answer": [{"valueCoding": coding}]}]
    if context.kind == "rated_list":
        return [
            {"linkId": context.code, "text": terms.english(context.label),
             "item": [{"linkId": f"{context.code}.rating", "answer": [{"valueInteger": entry["rating"]}]}]}
            for entry in value
        ]
    return []


def questionnaire_response(terms: Terms, patient: PatientRecord, record: AssessmentRecord) -> dict[str, Any]:
    definition = scoring.INSTRUMENTS[record.instrument]
    items = []
    for item in definition.items:
        value = record.answers.get(item.code)
        if value is None:
            continue
        items.append({
            "linkId": item.code, "text": terms.english(item.score_label),
            "answer": [_answer(terms, record.instrument, item, value)],
        })
    for context in definition.context_fields:
        items.extend(_context_answers(terms, definition, context, record.answers.get(context.code)))
    return {
        "resourceType": "QuestionnaireResponse",
        "id": resource_id("QuestionnaireResponse", record.public_id),
        "identifier": {"system": terms.canonical("NamingSystem", "pallapp-assessment"),
                       "value": record.public_id},
        "questionnaire": questionnaire_canonical(terms, record.instrument),
        "status": "completed",
        "subject": {"reference": patient.ref, "type": "Patient"},
        "authored": utc_iso(record.observed_at),
        "author": _reference(record.author),
        "source": _reference(record.source),
        "item": items,
    }


def _scores_of(terms: Terms, record: AssessmentRecord) -> Iterable[tuple[str, str, int, str | None]]:
    definition = scoring.INSTRUMENTS[record.instrument]
    if record.total is not None:
        yield "total", definition.total_label or "Total score", record.total, record.band
    for code, subscale in definition.subscales.items():
        value = record.scores.get("subscales", {}).get(code)
        if value is not None:
            yield code, subscale.label, value, None
    max_grade = record.scores.get("max_grade")
    if max_grade is not None:
        yield "max_grade", "Highest grade", max_grade, record.band


def observations(terms: Terms, patient: PatientRecord, record: AssessmentRecord) -> list[dict[str, Any]]:
    """Each score of the assessment as an Observation derived from its response."""
    definition = scoring.INSTRUMENTS[record.instrument]
    response_ref = full_url("QuestionnaireResponse", record.public_id)
    resources = []
    for code, label, value, band in _scores_of(terms, record):
        observation: dict[str, Any] = {
            "resourceType": "Observation",
            "id": resource_id("Observation", f"{record.public_id}/{code}"),
            "status": "final",
            "category": [{"coding": [{"system": OBSERVATION_CATEGORY, "code": "survey"}]}],
            "code": {
                "coding": [{
                    "system": terms.canonical("CodeSystem", SCORES_ID),
                    "code": f"{record.instrument}.{code}",
                    "display": f"{terms.english(definition.title)}: {terms.english(label)}",
                }],
                "text": f"{terms.swedish(definition.title)}: {terms.swedish(label)}",
            },
            "subject": {"reference": patient.ref, "type": "Patient"},
            "effectiveDateTime": utc_iso(record.observed_at),
            "performer": [_reference(record.source)],
            "method": {"text": METHOD_TEXT[record.respondent]},
            "valueQuantity": {"value": value, "unit": "{score}", "system": UCUM, "code": "{score}"},
            "derivedFrom": [{"reference": response_ref}],
        }
        if band is not None:
            band_label = next((b.label for b in definition.bands if b.name == band), band)
            coding: dict[str, Any] = {
                "system": terms.canonical("CodeSystem", f"pallapp-{slug(definition.family)}-bands"),
                "code": band,
            }
            _with_translation(coding, "display", terms, band_label)
            observation["interpretation"] = [{"coding": [coding]}]
        resources.append(observation)
    return resources


def organization(unit_key: str, unit_name: str) -> dict[str, Any]:
    return {"resourceType": "Organization", "id": resource_id("Organization", unit_key), "name": unit_name}


def episode_of_care(patient: PatientRecord, episode: EpisodeRecord) -> dict[str, Any]:
    period: dict[str, str] = {"start": episode.start.isoformat()}
    if episode.end is not None:
        period["end"] = episode.end.isoformat()
    code, display = PALLIATIVE_CARE_CODE
    return {
        "resourceType": "EpisodeOfCare",
        "id": resource_id("EpisodeOfCare", episode.key),
        "status": "finished" if episode.end is not None else "active",
        "type": [{"coding": [{"system": ICD10SE_SYSTEM, "code": code, "display": display}]}],
        "patient": {"reference": patient.ref},
        "managingOrganization": {"reference": full_url("Organization", episode.unit_key)},
        "period": period,
    }


def brytpunktssamtal_procedure(patient: PatientRecord, record: ProcedureRecord) -> dict[str, Any]:
    code, display = BRYTPUNKTSSAMTAL_CODE
    resource: dict[str, Any] = {
        "resourceType": "Procedure",
        "id": resource_id("Procedure", record.key),
        "status": "completed",
        "code": {"coding": [{"system": KVA_SYSTEM, "code": code, "display": display}],
                 "text": display},
        "subject": {"reference": patient.ref},
        "performedDateTime": record.occurred_on.isoformat(),
    }
    if record.performer is not None:
        resource["performer"] = [{"actor": _reference(record.performer)}]
    return resource


def medication_administration(patient: PatientRecord, dose: DoseRecord) -> dict[str, Any]:
    """An as-needed dose given. The drug is the name as the physician wrote it (no product
    code: pallapp does not record one)."""
    return {
        "resourceType": "MedicationAdministration",
        "id": resource_id("MedicationAdministration", dose.key),
        "status": "completed",
        "medicationCodeableConcept": {"text": dose.drug},
        "subject": {"reference": patient.ref},
        "effectiveDateTime": utc_iso(dose.given_at),
        "performer": [{"actor": _reference(dose.given_by)}],
        "reasonCode": [{"text": dose.indication}],
        "dosage": {"text": f"{dose.dose} {dose.dose_unit}", "route": {"text": dose.route}},
    }


def patient_entries(terms: Terms, patient: PatientRecord) -> list[tuple[str, dict[str, Any]]]:
    """(fullUrl, resource) of everything about one patient."""
    entries: list[tuple[str, dict[str, Any]]] = [(patient.ref, patient_resource(patient))]
    for person in patient.people:
        entries.append((person.ref, person_resource(person, patient)))
    seen_units = set()
    for episode in patient.episodes:
        if episode.unit_key not in seen_units:
            seen_units.add(episode.unit_key)
            entries.append((full_url("Organization", episode.unit_key),
                            organization(episode.unit_key, episode.unit_name)))
        entries.append((full_url("EpisodeOfCare", episode.key), episode_of_care(patient, episode)))
    for record in patient.assessments:
        entries.append((full_url("QuestionnaireResponse", record.public_id),
                        questionnaire_response(terms, patient, record)))
        for observation in observations(terms, patient, record):
            key = f"{record.public_id}/{observation['code']['coding'][0]['code']}"
            entries.append((full_url("Observation", key), observation))
    for procedure in patient.brytpunktssamtal:
        entries.append((full_url("Procedure", procedure.key), brytpunktssamtal_procedure(patient, procedure)))
    for dose in patient.doses:
        entries.append((full_url("MedicationAdministration", dose.key), medication_administration(patient, dose)))
    return entries


def bundle(
    terms: Terms, patients: Iterable[PatientRecord], *, timestamp: datetime,
    bundle_type: str = "collection", definitions: bool = True,
) -> dict[str, Any]:
    """A Bundle with the definitions (Questionnaires, CodeSystems) and every patient's resources.
    A resource that several patients share (a Practitioner, an Organization) appears once."""
    entries: list[dict[str, Any]] = []
    seen: set[str] = set()

    def add(url: str, resource: dict[str, Any]) -> None:
        if url not in seen:
            seen.add(url)
            entries.append({"fullUrl": url, "resource": resource})

    if definitions:
        for code in scoring.INSTRUMENTS:
            resource = questionnaire(terms, code)
            add(resource["url"], resource)
        for system in code_systems(terms):
            add(system["url"], system)
    for patient in patients:
        for url, resource in patient_entries(terms, patient):
            add(url, resource)
    return {
        "resourceType": "Bundle",
        "id": uuid.uuid4().hex,
        "type": bundle_type,
        "timestamp": utc_iso(timestamp),
        **({"total": len(entries)} if bundle_type == "searchset" else {}),
        "entry": entries,
    }
