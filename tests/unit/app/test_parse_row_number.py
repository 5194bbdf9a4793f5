"""Row numbers posted by forms: only what an integer column can hold."""

from __future__ import annotations

import pytest

from pallapp.forms import parse_row_number


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("0", 0),
        ("42", 42),
        ("2147483647", 2**31 - 1),  # the largest PostgreSQL integer
        ("2147483648", None),  # one more: the driver would fail
        ("9" * 400, None),  # found by fuzzing: overflowed the SQLite driver (a 500)
        ("²", None),  # str.isdigit() says yes, int() says no
        ("٣", None),  # an Arabic-Indic digit
        ("-1", None),
        (" 1", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_row_number(text, expected):
    assert parse_row_number(text) == expected
