"""Fixtures of the sensor tests."""

from __future__ import annotations

from tests.operators.dagtest import sensors_on_sqlite

__all__ = ["sensors_on_sqlite"]
