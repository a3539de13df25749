"""
Render and parse the time formats of the Tasks API.

Emulated instants are plain floats (seconds since the Unix epoch, UTC) everywhere inside the emulator;
only this module turns them into text.
"""

from __future__ import annotations

from datetime import UTC, datetime


def to_datetime(instant: float) -> datetime:
    """Turn an emulated instant into an aware UTC datetime."""
    return datetime.fromtimestamp(instant, UTC)


def format_timestamp(instant: float | None) -> str | None:
    """Format like the PRO samples: ``YYYY-MM-DD HH:MM:SS.ffffff``, UTC without a zone suffix."""
    if instant is None:
        return None
    return to_datetime(instant).strftime("%Y-%m-%d %H:%M:%S.%f")


def format_log_time(instant: float) -> str:
    """Format a log line time like the portal's log viewer: milliseconds, no zone."""
    return to_datetime(instant).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3]


def format_iso_z(instant: float) -> str:
    """Format as ISO 8601 UTC with a ``Z`` suffix and microseconds (used for the hook's ``at``)."""
    return to_datetime(instant).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
