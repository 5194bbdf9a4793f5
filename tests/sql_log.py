"""Counting what a request sends to the database (statement budgets in tests)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from flask import Flask
from sqlalchemy import event

from pallapp.extensions import db


@contextmanager
def statements_sent(app: Flask) -> Iterator[list[tuple[str, Any]]]:
    """Every statement the app's engine sends inside the block, in order, with its parameters."""
    sent: list[tuple[str, Any]] = []

    def remember(
        conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool
    ) -> None:
        sent.append((statement, parameters))

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", remember)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", remember)


def selects(sent: list[tuple[str, Any]]) -> list[str]:
    """The SELECT statements among `sent`."""
    return [statement for statement, _ in sent if statement.lstrip().upper().startswith("SELECT")]
