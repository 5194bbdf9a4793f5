"""Building many URLs of one endpoint, as lists of patients need, and the fixed URLs of the
menu that every page draws."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from flask import current_app, request, url_for

#: Characters that `url_for` leaves as they are in a path segment (public ids are made of them:
#: `secrets.token_urlsafe`).
_UNESCAPED = re.compile(r"[A-Za-z0-9_-]+")
_MARKER = "pallapp-url-marker"


def url_builder(endpoint: str, key: str, **values: Any) -> Callable[[str], str]:
    """A function giving `url_for(endpoint, key=value, **values)` for each `value`, with the
    URL built once: a page listing 200 patients spent a fifth of its time in Flask's URL
    building (benchmarks/RESULTS.md, "Page speed"). A value that `url_for` would escape, or a
    URL in which the marker does not appear exactly once, goes through `url_for` itself."""
    pattern = url_for(endpoint, **_values(key, _MARKER, values))
    if pattern.count(_MARKER) != 1:
        return lambda value: url_for(endpoint, **_values(key, value, values))
    before, after = pattern.split(_MARKER)

    def build(value: str) -> str:
        if _UNESCAPED.fullmatch(value):
            return before + value + after
        return url_for(endpoint, **_values(key, value, values))

    return build


def _values(key: str, value: str, others: dict[str, Any]) -> dict[str, Any]:
    return {key: value, **others}


def fixed_url(endpoint: str) -> str:
    """`url_for(endpoint)` for an endpoint that takes no values (the menu, the footer's forms),
    built once per application and script root instead of on every page: the base template
    asked for about twenty of them on each request. The URL depends on nothing else: not on
    the user, the session or the query; the host is not part of a relative URL."""
    built: dict[tuple[str, str], str] = current_app.extensions.setdefault("pallapp_fixed_urls", {})
    key = (endpoint, request.script_root)
    url = built.get(key)
    if url is None:
        url = built[key] = url_for(endpoint)
    return url
