"""Assessment forms generated from the instrument definitions in `pallapp.scoring`.

No item is listed here: `assessment_form_class(code, ...)` reads `INSTRUMENTS[code]` and builds a
FlaskForm with one radio scale per item plus the instrument's context fields. The form turns the
posted data into the mapping `pallapp.scoring.score()` expects (`answers()`), reports skipped
items (`skipped()`), pre-fills a correction (`load_answers()`) and arranges its fields in the
instrument's steps for the `assessments/_instrument_form.html` macro (`sections()`).

Field names (a stable contract with the views and the browser tests):
- `item_<item code>`: one `ScaleField` per item, optional (skipping is allowed);
- `ctx_<code>_<n>` (n from 1) for a `text_list` context field (IPOS `main_problems`);
- `ctx_<code>_<n>_label` and `ctx_<code>_<n>_rating` for a `rated_list` (IPOS `other_symptoms`);
- `ctx_<code>` for a `choice` or `text` context field (`completed_with`, `pain_type`,
  `other_label`);
- `client_token`, `confirm_incomplete`, and, when asked for, `observed_at` and `respondent`.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any, ClassVar, Literal, NamedTuple, cast
from uuid import uuid4

from flask_babel import LazyString
from flask_wtf import FlaskForm
from wtforms import (
    DateTimeLocalField,
    Field,
    HiddenField,
    RadioField,
    SelectChoice,
    StringField,
)
from wtforms.validators import InputRequired, Length, Optional, ValidationError

from pallapp.forms import KeptFieldsMeta, KeptMessagesMeta
from pallapp.i18n import gettext, pgettext
from pallapp.i18n import lazy_gettext as _l
from pallapp.scoring import (
    INSTRUMENTS,
    SPECIAL_VALUE_LABELS,
    ContextField,
    InstrumentDefinition,
    ItemDefinition,
    special_value_label,
)
from pallapp.timeutil import STOCKHOLM

__all__ = [
    "AssessmentForm",
    "Block",
    "ScaleField",
    "Section",
    "Step",
    "assessment_form_class",
]

#: What `uuid4().hex` produces: the only accepted `client_token`.
_CLIENT_TOKEN = re.compile(r"[0-9a-f]{32}")

#: Submitted and shown as the HTML datetime-local value; the second format accepts browsers
#: that add seconds.
_OBSERVED_AT_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"]

BlockKind = Literal[
    "item", "respondent", "observed_at", "text_list", "rated_list", "choice", "text"
]


def _strip(value: object) -> object:
    """WTForms filter: trim surrounding white space from submitted text."""
    return value.strip() if isinstance(value, str) else value


def _meaning(msgid: str, context: str | None) -> str:
    """An option's meaning in the reader's language, in its gettext context if it has one."""
    return pgettext(context, msgid) if context else gettext(msgid)


def _numbered_meaning(number: int, msgid: str, context: str | None = None) -> str:
    """ "2 – Moderately": the number and the translated meaning, for an option's label."""
    return f"{number} – {_meaning(msgid, context)}"


@cache
def _scale_choices(
    low: int,
    high: int,
    meanings: tuple[tuple[int, str], ...],
    meaning_context: str | None,
    specials: tuple[tuple[str, str], ...],
) -> tuple[SelectChoice, ...]:
    """A scale's options, made once per scale: a form binds every field on each request, and
    the options, lazily translated, are the same each time (WTForms copies the list)."""
    labels = dict(meanings)
    choices = [
        SelectChoice(
            str(number),
            LazyString(_numbered_meaning, number, labels[number], meaning_context)
            if number in labels
            else str(number),
        )
        for number in range(low, high + 1)
    ]
    choices += [SelectChoice(special, _l(msgid)) for special, msgid in specials]
    return tuple(choices)


class ScaleField(RadioField):
    """A rating scale: one radio per whole number from `low` to `high`, then special answers.

    `meanings` maps the numbers that have a label to its msgid (every number for IPOS, Abbey and
    ROAG; only the anchors 0 and 10 for ESAS-r), translated in `meaning_context` when given
    (pgettext; Abbey). Each option's label carries its number and, where
    there is one, its meaning ("0 – Not at all"); a special answer is labelled by its meaning
    alone: the msgid in `special_labels`, else the general `SPECIAL_VALUE_LABELS` one. Values
    outside the choices fail `validate()` with an error on this field.
    """

    def __init__(
        self,
        label: Any = None,
        validators: Sequence[Callable[..., object]] | None = None,
        *,
        low: int,
        high: int,
        meanings: Mapping[int, str] | None = None,
        specials: Sequence[str] = (),
        special_labels: Mapping[str, str] | None = None,
        meaning_context: str | None = None,
        **kwargs: Any,
    ) -> None:
        meanings = dict(meanings or {})
        own_labels = dict(special_labels or {})
        special_msgids = {
            special: own_labels.get(special, SPECIAL_VALUE_LABELS[special]) for special in specials
        }
        choices = _scale_choices(
            low, high, tuple(meanings.items()), meaning_context, tuple(special_msgids.items())
        )
        kwargs.setdefault("invalid_choice_message", _l("Choose one of the options shown."))
        super().__init__(label, validators, choices=choices, validate_choice=True, **kwargs)
        self.low = low
        self.high = high
        self.meanings = meanings
        self.meaning_context = meaning_context
        self.specials = tuple(specials)
        self.special_msgids = special_msgids

    @property
    def fully_labelled(self) -> bool:
        """True when every number has a meaning of its own (shown on each button)."""
        return all(number in self.meanings for number in range(self.low, self.high + 1))

    @property
    def anchors(self) -> list[tuple[int, LazyString]]:
        """The numbers that have a meaning, with the translated meaning (for a hint line)."""
        return [
            (number, self._lazy_meaning(msgid)) for number, msgid in sorted(self.meanings.items())
        ]

    def _lazy_meaning(self, msgid: str) -> LazyString:
        return LazyString(_meaning, msgid, self.meaning_context)

    def option_parts(self, value: str) -> tuple[str | None, str | None]:
        """(number, translated meaning) of an option; number is None for a special answer.

        Translated now (a page draws each meaning once), not lazily: a lazy string would be
        translated again each time the template tests and escapes it."""
        if value in self.specials:
            return None, gettext(self.special_msgids[value])
        number = int(value)
        msgid = self.meanings.get(number)
        return value, (_meaning(msgid, self.meaning_context) if msgid is not None else None)

    def answer(self) -> int | str | None:
        """The chosen value as the scorer wants it: an int, a special string or None.

        Call it after a successful `validate()`; a value outside the choices raises ValueError.
        """
        if self.data is None or self.data == "":
            return None
        if self.data in self.specials:
            return str(self.data)
        if re.fullmatch(r"\d{1,2}", str(self.data)) and self.low <= int(self.data) <= self.high:
            return int(self.data)
        raise ValueError(f"{self.name}: {self.data!r} is not a valid answer; validate() first")

    def set_answer(self, value: object) -> None:
        """Select the option for a stored answer (int, special string or None)."""
        self.data = None if value is None else str(value)


@dataclass(frozen=True, slots=True)
class _BlockSpec:
    """One thing shown in a step, by field names (the unbound layout of a form class)."""

    kind: BlockKind
    code: str
    label: str
    names: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Block:
    """One thing shown in a step: an item, or a context field with its inputs.

    `kind` is `item` (a `ScaleField`), `respondent` and `choice` (a radio list), `observed_at`,
    `text` (one input), `text_list` (several inputs) or `rated_list` (pairs, see `rows`).
    `label` is the translated heading; `code` is the item or context field code.
    `expected` is True when the form cannot be complete without an answer here (a scored item
    that is not optional, or who is answering): the form moves on to the next step by itself
    once every expected answer of a step is tapped, never waiting for an optional one.
    """

    kind: BlockKind
    code: str
    label: Any
    fields: tuple[Field, ...]
    expected: bool = False

    @property
    def field(self) -> Field:
        """The only (or first) field of the block."""
        return self.fields[0]

    @property
    def rows(self) -> list[tuple[Field, Field]]:
        """For `rated_list`: (label field, rating field) pairs, in order."""
        return list(zip(self.fields[0::2], self.fields[1::2], strict=True))


class Step(NamedTuple):
    """A step of the form: the group msgid and the fields shown in it, in order."""

    title: str
    fields: list[Field]


class Section(NamedTuple):
    """A step as the template shows it: its number, the step count, title msgid and blocks."""

    number: int
    count: int  # type: ignore[assignment]  # the step count; shadows tuple.count, unused
    title: str
    blocks: list[Block]

    @property
    def fields(self) -> list[Field]:
        """Every field of the step, in order."""
        return [field for block in self.blocks for field in block.fields]


class AssessmentForm(FlaskForm):
    """Base of every generated assessment form; see `assessment_form_class`."""

    class Meta(KeptFieldsMeta, KeptMessagesMeta):
        pass

    #: The instrument this form asks about.
    definition: ClassVar[InstrumentDefinition]
    #: True when staff type the answers (the buttons say "Save" rather than "Send").
    staff_entry: ClassVar[bool] = False
    _layout: ClassVar[tuple[tuple[str, tuple[_BlockSpec, ...]], ...]] = ()

    # Filled by the view with `uuid4().hex` on GET; identifies one submission so a resent POST
    # does not record the assessment twice.
    client_token = HiddenField()
    # "1" once the user has confirmed that the skipped items are meant to be skipped.
    confirm_incomplete = HiddenField()

    def validate_client_token(self, field: HiddenField) -> None:
        if not _CLIENT_TOKEN.fullmatch(field.data or ""):
            # A fresh token lets the re-rendered form be sent again.
            field.data = uuid4().hex
            raise ValidationError(
                _l("The form could not be read completely. Check your answers and send again.")
            )

    def fill_client_token(self) -> None:
        """Give the form a new `client_token` unless it already has a valid one (call on GET)."""
        if not _CLIENT_TOKEN.fullmatch(self.client_token.data or ""):
            self.client_token.data = uuid4().hex

    # --- structure ------------------------------------------------------------------------

    @property
    def submit_label(self) -> LazyString:
        """The text of the main button."""
        return _l("Save") if self.staff_entry else _l("Send")

    @property
    def confirm_label(self) -> LazyString:
        """The text of the button that confirms skipped items."""
        return _l("Save anyway") if self.staff_entry else _l("Send anyway")

    def item_field(self, code: str) -> ScaleField:
        """The field of item `code`."""
        return cast("ScaleField", self[f"item_{code}"])

    def sections(self) -> list[Section]:
        """The steps with their blocks, bound to this form, for the template."""
        count = len(self._layout)
        optional_items = {item.code for item in self.definition.items if item.optional}
        return [
            Section(
                number,
                count,
                title,
                [
                    Block(
                        spec.kind,
                        spec.code,
                        _l(spec.label),
                        tuple(self[n] for n in spec.names),
                        expected=spec.kind == "respondent"
                        or (spec.kind == "item" and spec.code not in optional_items),
                    )
                    for spec in specs
                ],
            )
            for number, (title, specs) in enumerate(self._layout, start=1)
        ]

    def steps(self) -> list[Step]:
        """(group msgid, [fields of the step]) in order: items and context fields in place."""
        return [Step(section.title, section.fields) for section in self.sections()]

    # --- answers --------------------------------------------------------------------------

    def _specs(self) -> Iterator[_BlockSpec]:
        for _title, specs in self._layout:
            yield from specs

    def _block(self, kind: BlockKind, code: str) -> tuple[Field, ...]:
        for spec in self._specs():
            if spec.kind == kind and spec.code == code:
                return tuple(self[name] for name in spec.names)
        raise KeyError(code)

    def validate(self, extra_validators: Mapping[str, Sequence[Any]] | None = None) -> bool:
        """Validate every field, then require a rating and a name together for rated lists,
        and a joint answer (ROAG "No own teeth") on all of its items or none."""
        valid = super().validate(extra_validators)
        for joint in self.definition.joint_answers:
            fields = [self.item_field(code) for code in joint.items]
            chosen = [f for f in fields if f.data == joint.value]
            if not chosen or len(chosen) == len(fields):
                continue
            # The error goes on each item that lacks it: the one the nurse has to change or
            # confirm; the message names both areas and both ways out.
            for f in fields:
                if f.data != joint.value and not f.errors:
                    f.errors.append(_l(joint.mismatch))
            valid = False
        for context in self.definition.context_fields:
            if context.kind != "rated_list":
                continue
            block = Block("rated_list", context.code, context.label, self._block(*_key(context)))
            for label_field, rating_field in block.rows:
                has_label = bool((label_field.data or "").strip())
                has_rating = rating_field.data not in (None, "")
                if has_label and not has_rating and not rating_field.errors:
                    rating_field.errors.append(
                        _l("Choose a rating for this symptom, or clear its name.")
                    )
                    valid = False
                if has_rating and not has_label and not label_field.errors:
                    label_field.errors.append(_l("Write which symptom this rating is for."))
                    valid = False
        return valid

    def answers(self) -> dict[str, object]:
        """The mapping for `pallapp.scoring.score(code, ...)`; call after `validate()`.

        Every item code maps to an int, a special string or None. Context fields given are
        added: text lists as lists of non-blank text, rated lists as lists of
        {"label": text, "rating": int}, a choice or text as a string; a context field left
        empty is left out (the scorer rejects blank text).
        """
        result: dict[str, object] = {
            item.code: self.item_field(item.code).answer() for item in self.definition.items
        }
        for context in self.definition.context_fields:
            fields = self._block(*_key(context))
            value: object
            if context.kind == "text_list":
                value = [text for f in fields if (text := (f.data or "").strip())]
            elif context.kind == "rated_list":
                rated: list[dict[str, object]] = []
                block = Block("rated_list", context.code, context.label, fields)
                for label_field, rating_field in block.rows:
                    label = (label_field.data or "").strip()
                    rating = rating_field.answer()
                    if label and isinstance(rating, int):
                        rated.append({"label": label, "rating": rating})
                value = rated
            else:
                value = (fields[0].data or "").strip() or None
            if value:
                result[context.code] = value
        return result

    def skipped(self) -> list[str]:
        """Item codes left unanswered, in definition order (optional items never count)."""
        return [
            item.code
            for item in self.definition.items
            if not item.optional and self.item_field(item.code).data in (None, "")
        ]

    def skipped_item_labels(self) -> list[LazyString]:
        """The translated labels of the skipped items, for the macro's `skipped_labels`."""
        return [_l(self.definition.item(code).label) for code in self.skipped()]

    def needs_confirmation(self) -> bool:
        """True when items were skipped and the user has not yet confirmed that."""
        return bool(self.skipped()) and self.confirm_incomplete.data != "1"

    def load_answers(self, answers: Mapping[str, object]) -> None:
        """Pre-fill the form from stored answers (the inverse of `answers()`)."""
        for item in self.definition.items:
            self.item_field(item.code).set_answer(answers.get(item.code))
        for context in self.definition.context_fields:
            fields = self._block(*_key(context))
            value = answers.get(context.code)
            if context.kind == "text_list":
                texts = list(value) if isinstance(value, (list, tuple)) else []
                for index, f in enumerate(fields):
                    f.data = str(texts[index]) if index < len(texts) else None
            elif context.kind == "rated_list":
                entries = list(value) if isinstance(value, (list, tuple)) else []
                block = Block("rated_list", context.code, context.label, fields)
                for index, (label_field, rating_field) in enumerate(block.rows):
                    entry = entries[index] if index < len(entries) else None
                    if isinstance(entry, Mapping):
                        label_field.data = str(entry.get("label") or "") or None
                        rating = entry.get("rating")
                        rating_field.data = None if rating is None else str(rating)
                    else:
                        label_field.data = None
                        rating_field.data = None
            else:
                fields[0].data = None if value is None else str(value)

    def observed_at_value(self) -> datetime | None:
        """`observed_at` as an aware Europe/Stockholm datetime, or None (not asked or empty)."""
        field = getattr(self, "observed_at", None)
        return None if field is None else field.data


def _key(context: ContextField) -> tuple[BlockKind, str]:
    return context.kind, context.code


# --- the factory ------------------------------------------------------------------------------


def _item_field(item: ItemDefinition) -> ScaleField:
    """The item's scale; its `description` (ESAS-r definition, Abbey examples) goes beside it."""
    return ScaleField(
        _l(item.label),
        [Optional()],
        low=item.min,
        high=item.max,
        meanings=dict(item.options),
        meaning_context=item.options_context,
        specials=item.special_values,
        description=_l(item.description) if item.description else "",
        special_labels={v: special_value_label(item, v) for v in item.special_values},
    )


def _rating_meanings(definition: InstrumentDefinition, context: ContextField) -> dict[int, str]:
    """Labels for a rated list's ratings: those of the items it follows, if on the same scale.

    IPOS other symptoms are rated like the Q2 symptoms they follow (the last item of the first
    step); without a match the ratings are shown as numbers only.
    """
    first_group = definition.groups[0]
    followed = [item for item in definition.items if item.group == first_group][-1]
    if (followed.min, followed.max) == (context.rating_min, context.rating_max):
        return dict(followed.options)
    return {}


def _text_field(label: Any, max_length: int) -> StringField:
    return StringField(label, [Optional(), Length(max=max_length)], filters=[_strip])


def _context_fields(
    definition: InstrumentDefinition, context: ContextField
) -> tuple[dict[str, Any], _BlockSpec]:
    """The unbound fields of one context field and the block that shows them."""
    code = context.code
    fields: dict[str, Any] = {}
    if context.kind == "text_list":
        for n in range(1, context.max_entries + 1):
            fields[f"ctx_{code}_{n}"] = _text_field(
                _l("%(label)s, %(number)s", label=_l(context.label), number=n),
                context.max_length,
            )
    elif context.kind == "rated_list":
        meanings = _rating_meanings(definition, context)
        for n in range(1, context.max_entries + 1):
            fields[f"ctx_{code}_{n}_label"] = _text_field(
                _l("Symptom %(number)s", number=n), context.max_length
            )
            fields[f"ctx_{code}_{n}_rating"] = ScaleField(
                _l("Rating for symptom %(number)s", number=n),
                [Optional()],
                low=context.rating_min,
                high=context.rating_max,
                meanings=meanings,
            )
    elif context.kind == "choice":
        fields[f"ctx_{code}"] = RadioField(
            _l(context.label),
            [Optional()],
            choices=[SelectChoice(value, _l(label)) for value, label in context.choices],
            invalid_choice_message=_l("Choose one of the options shown."),
        )
    else:
        fields[f"ctx_{code}"] = _text_field(_l(context.label), context.max_length)
    return fields, _BlockSpec(context.kind, code, context.label, tuple(fields))


@cache
def assessment_form_class(
    code: str, *, staff_entry: bool, ask_observed_at: bool, proxy_choice: bool
) -> type[AssessmentForm]:
    """The form class for instrument `code` (cached per argument tuple); KeyError if unknown.

    - `staff_entry`: staff type the answers (buttons say "Save" instead of "Send").
    - `ask_observed_at`: add `observed_at`, an optional local Europe/Stockholm time; the view
      checks that it is not in the future and not before enrolment.
    - `proxy_choice`: add the required `respondent` choice ("patient" answers with help, or
      "relative" answers for the patient).

    Layout: the items in their groups (one step per group); a free-text list (IPOS main
    problems, Q1) opens the first step, a rated list (IPOS other symptoms) follows the items of
    the first step, a text field named `<item>_label` comes right before that item (ESAS-r
    `other_label`), and choices (IPOS `completed_with`, Abbey `pain_type`) close the last step.
    """
    definition = INSTRUMENTS[code]
    attributes: dict[str, Any] = {
        "definition": definition,
        "staff_entry": staff_entry,
        "__doc__": f"Assessment form for {code} (generated from its definition).",
    }
    groups = definition.groups
    opening: list[_BlockSpec] = []
    after_first_group: list[_BlockSpec] = []
    closing: list[_BlockSpec] = []
    before_item: dict[str, list[_BlockSpec]] = {}

    if proxy_choice:
        attributes["respondent"] = RadioField(
            _l("Who is answering?"),
            [InputRequired(message=_l("Choose who is answering."))],
            choices=[
                SelectChoice("patient", _l("The patient answers, I help")),
                SelectChoice("relative", _l("I answer for the patient")),
            ],
            invalid_choice_message=_l("Choose who is answering."),
        )
        opening.append(_BlockSpec("respondent", "respondent", "Who is answering?", ("respondent",)))
    if ask_observed_at:
        attributes["observed_at"] = DateTimeLocalField(
            _l("When was this observed?"),
            [Optional()],
            format=_OBSERVED_AT_FORMATS,
            tz=STOCKHOLM,
            description=_l("Leave it empty if it is now."),
        )
        opening.append(
            _BlockSpec("observed_at", "observed_at", "When was this observed?", ("observed_at",))
        )

    item_codes = set(definition.item_codes)
    for context in definition.context_fields:
        fields, spec = _context_fields(definition, context)
        attributes.update(fields)
        labelled_item = context.code.removesuffix("_label")
        if context.kind == "text_list":
            opening.append(spec)
        elif context.kind == "rated_list":
            after_first_group.append(spec)
        elif (
            context.kind == "text"
            and context.code.endswith("_label")
            and labelled_item in item_codes
        ):
            before_item.setdefault(labelled_item, []).append(spec)
        else:
            closing.append(spec)

    layout: list[tuple[str, tuple[_BlockSpec, ...]]] = []
    for index, group in enumerate(groups):
        specs: list[_BlockSpec] = list(opening) if index == 0 else []
        for item in definition.items:
            if item.group != group:
                continue
            specs.extend(before_item.get(item.code, ()))
            name = f"item_{item.code}"
            attributes[name] = _item_field(item)
            specs.append(_BlockSpec("item", item.code, item.label, (name,)))
        if index == 0:
            specs.extend(after_first_group)
        if index == len(groups) - 1:
            specs.extend(closing)
        layout.append((group, tuple(specs)))
    attributes["_layout"] = tuple(layout)

    # WTForms orders fields by creation, so steps() (not iteration) gives the display order.
    class_name = "".join(part.title() for part in code.split("_")) + "AssessmentForm"
    return type(class_name, (AssessmentForm,), attributes)
