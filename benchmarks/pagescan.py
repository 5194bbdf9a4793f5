"""The parts of a pallapp page that the load run's simulated users act on (locustfile.py).

Apart from the locustfile so that it can be tested without importing Locust (which patches
the standard library with gevent on import).
"""

from __future__ import annotations

import html
import re
from urllib.parse import urlsplit

# A tag, its attributes (quoted values may hold ">"), or a comment; and the attributes in a
# tag. What html.parser would make of pallapp's pages, for the parts PageParser keeps.
_MARKUP = re.compile(
    r"<!--.*?-->|<(/?)([a-zA-Z][a-zA-Z0-9]*)((?:[^>\"']|\"[^\"]*\"|'[^']*')*)>", re.S
)
_ATTRIBUTE = re.compile(r"""([^\s"'>/=]+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+)))?""")
# The content of these is text to a browser, never markup.
_RAW_TEXT = {"script", "style"}
_FORM_TAGS = {"input", "select", "option", "textarea"}


def _attributes(text: str) -> dict[str, str]:
    found: dict[str, str] = {}
    for match in _ATTRIBUTE.finditer(text):
        value = match[2] if match[2] is not None else match[3] or match[4] or ""
        found[match[1].lower()] = html.unescape(value)
    return found


class PageParser:
    """What a browser would use on a page: links, images, definition texts, and the page's
    own POST form (the first `<form method="post">` without an action, which excludes the
    log-out and language forms of the layout).

    A regular-expression scan of the tags, not html.parser: Locust shares the cores with the
    system it measures, and html.parser spent several times more CPU on a page than the scan
    (benchmarks/cpu_share.py; the two agree on pallapp's pages)."""

    def __init__(self, page: str) -> None:
        self.links: list[tuple[str, str]] = []  # (href, class)
        self.images: list[str] = []
        self.definitions: list[str] = []  # text of each <dd>
        self.fields: list[tuple[str, str]] = []  # inputs sent as they are
        self.radios: dict[str, list[str]] = {}
        self.checkboxes: dict[str, str] = {}
        self.invalid: list[str] = []  # fields the server marked as wrong
        self._form_state = "before"  # before → inside → after
        self._select: str | None = None
        self._select_value: str | None = None
        self._textarea: str | None = None
        self._dd: list[str] | None = None
        position, raw_end = 0, None
        for match in _MARKUP.finditer(page):
            if raw_end is not None:  # inside <script> or <style>: only its end tag counts
                if match[1] and match[2].lower() == raw_end:
                    raw_end = None
                continue
            if self._dd is not None:
                self._dd.append(html.unescape(page[position:match.start()]))
            position = match.end()
            if match[2] is None:  # a comment
                continue
            tag = match[2].lower()
            if match[1]:
                self.handle_endtag(tag)
            else:
                if tag in _RAW_TEXT:
                    raw_end = tag
                elif tag in ("a", "img", "dd", "form") or (
                    self._form_state == "inside" and tag in _FORM_TAGS
                ):
                    self.handle_starttag(tag, _attributes(match[3]))

    def handle_starttag(self, tag: str, a: dict[str, str]) -> None:
        if tag == "a" and a.get("href"):
            self.links.append((a["href"], a.get("class", "")))
        elif tag == "img" and a.get("src"):
            self.images.append(a["src"])
        elif tag == "dd":
            self._dd = []
        elif tag == "form" and self._form_state == "before":
            if a.get("method", "").lower() == "post" and not a.get("action"):
                self._form_state = "inside"
        elif self._form_state == "inside":
            self._form_field(tag, a)

    def _form_field(self, tag: str, a: dict[str, str]) -> None:
        if tag == "option" and self._select:
            if self._select_value is None or "selected" in a:
                self._select_value = a.get("value", "")
            return
        name = a.get("name")
        if not name:
            return
        if a.get("aria-invalid") == "true":
            self.invalid.append(name)
        kind = a.get("type", "text").lower()
        if tag == "input" and kind == "radio":
            self.radios.setdefault(name, []).append(a.get("value", ""))
        elif tag == "input" and kind == "checkbox":
            self.checkboxes[name] = a.get("value", "y")
        elif tag == "input" and kind not in ("submit", "button", "reset"):
            self.fields.append((name, a.get("value", "")))
        elif tag == "select":
            self._select, self._select_value = name, None
        elif tag == "textarea":
            self._textarea = name

    def handle_endtag(self, tag: str) -> None:
        if tag == "form" and self._form_state == "inside":
            self._form_state = "after"
        elif tag == "select" and self._select:
            self.fields.append((self._select, self._select_value or ""))
            self._select = None
        elif tag == "textarea" and self._textarea:
            self.fields.append((self._textarea, ""))
            self._textarea = None
        elif tag == "dd" and self._dd is not None:
            self.definitions.append(" ".join("".join(self._dd).split()))
            self._dd = None

    def links_matching(self, pattern: re.Pattern[str], css_class: str | None = None) -> list[str]:
        """Local link paths matching `pattern` (and having `css_class`), without duplicates."""
        found = []
        for href, classes in self.links:
            path = urlsplit(href).path
            if pattern.match(path) and (css_class is None or css_class in classes.split()):
                found.append(href)
        return list(dict.fromkeys(found))
