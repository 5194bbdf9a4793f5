"""Templates keep to the Content-Security-Policy: no inline script, handler or style.

The policy (pallapp/factory.py) allows scripts and styles from this site only, so an inline one
would silently not work in the browser. Found once: `style="white-space: pre-line"` did nothing.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

TEMPLATES = sorted((Path(__file__).resolve().parents[2] / "pallapp" / "templates").rglob("*.html"))
FORBIDDEN = {
    "inline style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "<style> element": re.compile(r"<style[\s>]", re.IGNORECASE),
    "inline event handler": re.compile(r"\son[a-z]+\s*=", re.IGNORECASE),
    "inline script": re.compile(r"<script(?![^>]*\ssrc=)[^>]*>", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def test_there_are_templates():
    assert len(TEMPLATES) > 30


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_template_has_nothing_the_policy_blocks(path):
    # Jinja comments may describe what is not allowed; only the markup counts.
    text = re.sub(r"\{#.*?#\}", "", path.read_text(encoding="utf-8"), flags=re.DOTALL)
    found = [name for name, pattern in FORBIDDEN.items() if pattern.search(text)]
    assert found == []
