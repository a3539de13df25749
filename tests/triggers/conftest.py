"""Fixtures of the triggers tests."""

from __future__ import annotations

from tests.operators.dagtest import own_aimms

__all__ = ["own_aimms"]
