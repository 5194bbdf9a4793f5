"""Swedish personal identity numbers (personnummer) and coordination numbers.

Parsing and the Luhn check come from the maintained `personnummer` library; this module only
normalises to the twelve-digit form we store and masks numbers for lists.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from personnummer import personnummer as _lib


class InvalidPersonnummer(ValueError):
    """Not a valid personnummer or samordningsnummer."""


@dataclass(frozen=True, slots=True)
class IdentityNumber:
    digits: str  # YYYYMMDDNNNC
    is_coordination_number: bool
    birth_date: date


_ACCEPTED = re.compile(r"^(\d{8}|\d{6})[-+]?\d{4}$")


def parse_personnummer(raw: str) -> IdentityNumber:
    """Validate and normalise `raw` (YYYYMMDD-NNNN, YYYYMMDDNNNN or YYMMDD-NNNN).

    Samordningsnummer (day + 60) are accepted and marked as such. Raises
    `InvalidPersonnummer` with a message fit to show to the user.
    """
    text = (raw or "").strip().replace(" ", "")
    if not _ACCEPTED.match(text):
        raise InvalidPersonnummer("format")
    try:
        number = _lib.Personnummer(text)
        birth = number.get_date()
    except (_lib.PersonnummerException, ValueError) as exc:
        raise InvalidPersonnummer("checksum") from exc
    return IdentityNumber(
        digits=number.format(long_format=True),
        is_coordination_number=number.is_coordination_number(),
        birth_date=birth,
    )


def mask_personnummer(digits: str) -> str:
    """Show the birth date, hide the last four digits: 19121212-****."""
    return f"{digits[:8]}-****"
