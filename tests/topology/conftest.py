"""The production topology tests start nginx and two gunicorn instances: deselect them with
`-m "not topology"` when neither is wanted (they skip by themselves without nginx)."""

from __future__ import annotations

import pytest


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "topology: starts nginx and two app instances (deploy/topology.py)"
    )
