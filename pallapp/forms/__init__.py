"""WTForms classes, one module per feature."""

import re

from wtforms import IntegerField

#: More digits than any number a form here asks for (intervals, counts, ratings).
_MAX_DIGITS = 9


class WholeNumberField(IntegerField):
    """An IntegerField that refuses over-long input before converting it.

    WTForms' NumberRange calls math.isnan() on the value, which raises OverflowError for a
    huge int: a 400-digit number made a server error (found by fuzzing the forms).
    """

    data: int | None

    def process_formdata(self, valuelist: list[str]) -> None:
        if valuelist and len(str(valuelist[0]).strip()) > _MAX_DIGITS:
            self.data = None
            raise ValueError(self.gettext("Not a valid integer value."))
        super().process_formdata(valuelist)

#: The largest value of a 32-bit signed integer column (PostgreSQL `integer`).
_MAX_ROW_NUMBER = 2**31 - 1


def parse_row_number(text: str | None) -> int | None:
    """A posted row number or version as an int, or None for anything else.

    Only ASCII digits count (`str.isdigit` also accepts e.g. "²", which `int` refuses), and the
    value must fit an integer column: a longer number would make the database driver fail.
    """
    if text is None or not re.fullmatch(r"[0-9]{1,10}", text):
        return None
    number = int(text)
    return number if number <= _MAX_ROW_NUMBER else None
