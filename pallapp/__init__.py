"""pallapp: symptom rating, care plans and as-needed medication for palliative care.

This module stays free of Flask imports so that the pure `pallapp.scoring` package can be
imported (by exports, benchmarks and checks) without pulling in the web stack.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from flask import Flask


def create_app(config: dict[str, Any] | None = None) -> Flask:
    """Build the Flask application; `config` overrides everything else (used by tests)."""
    from pallapp.factory import build_app

    return build_app(config)
