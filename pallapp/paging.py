"""Pages of a long list: a patient's history grows for as long as they are enrolled.

Lists that grow with history (assessments, flags) show `PAGE_SIZE` rows at a time, newest
first, with links to older and newer pages, so a page costs the same after three years as after
three weeks (benchmarks/RESULTS.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from flask import request
from sqlalchemy import Select

from pallapp.extensions import db

PAGE_SIZE = 50
# Far beyond any real history; keeps a hostile ?page= from asking for a huge OFFSET.
MAX_PAGE = 10_000

T = TypeVar("T")


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int
    has_next: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1


def requested_page() -> int:
    """The page asked for in `?page=`; 1 for anything that is not a whole number in range."""
    raw = request.args.get("page", "")
    if not (raw.isascii() and raw.isdigit()):
        return 1
    return min(max(int(raw), 1), MAX_PAGE)


def fetch_page(query: Select[*tuple[Any, ...]], number: int, *, scalars: bool = True,
               size: int = PAGE_SIZE) -> Page[Any]:
    """Run `query` (already ordered) for page `number`; one row more tells whether more follow."""
    limited = query.limit(size + 1).offset((number - 1) * size)
    result = db.session.scalars(limited) if scalars else db.session.execute(limited)
    rows = list(result)
    return Page(items=rows[:size], number=number, has_next=len(rows) > size)
