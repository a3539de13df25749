"""
Turn the schedule arguments a DAG author writes into what AIMMS accepts, or fail before sending.

AIMMS takes ``scheduleFor`` as ``YYYY-MM-DD hh:mm:ss.ms +HH:MM`` and ``scheduleIn`` /
``scheduleInterval`` as an ISO 8601 duration or a human form such as ``1 day`` or ``2 weeks``.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pendulum

from airflow_provider_aimms.exceptions import AimmsParameterError
from airflow_provider_aimms.models import parse_timestamp

#: Units AIMMS documents for the human form, mapped to their length in seconds.
_HUMAN_UNITS = {"second": 1, "minute": 60, "hour": 3600, "day": 86400, "week": 604800}
_HUMAN_DURATION = re.compile(r"^(\d+)\s*(second|minute|hour|day|week)s?$", re.IGNORECASE)
# "2026-12-03 17:00" or with seconds, fraction and offset: AIMMS's own form, which we also accept.
_AIMMS_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}")


@dataclass(frozen=True)
class ScheduleDuration:
    """A duration as sent to AIMMS (``text``) and as we reason about it (``seconds``)."""

    text: str
    seconds: float


def format_schedule_for(value: object, *, now: pendulum.DateTime | None = None) -> pendulum.DateTime:
    """
    Check a ``schedule_for`` value and return it as an aware UTC time.

    :param value: an aware ``datetime``, a pendulum ``DateTime``, or a string in ISO 8601 or AIMMS's
        ``YYYY-MM-DD hh:mm[:ss[.ms]] [+HH:MM]`` form. A string without an offset means UTC, as AIMMS
        documents; a naive ``datetime`` is refused because Python gives it no zone at all.
    :param now: the current time, for tests.
    """
    if isinstance(value, dt.datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise AimmsParameterError(
                "schedule_for",
                f"{value!r} is a naive datetime, so its time zone is unknown",
                "Pass an aware datetime, e.g. pendulum.datetime(2026, 12, 24, 6, 0, tz='Europe/Amsterdam') "
                "or datetime(..., tzinfo=timezone.utc).",
            )
        start = pendulum.instance(value).in_timezone("UTC")
    elif isinstance(value, str) and _AIMMS_DATETIME.match(value.strip()):
        try:
            parsed = parse_timestamp(value)
        except ValueError as err:
            raise AimmsParameterError(
                "schedule_for", f"{value!r} is not a date and time", _SCHEDULE_FOR_FIX
            ) from err
        assert parsed is not None
        start = parsed
    else:
        raise AimmsParameterError("schedule_for", f"{value!r} is not a date and time", _SCHEDULE_FOR_FIX)
    now = now or pendulum.now("UTC")
    if start <= now:
        raise AimmsParameterError(
            "schedule_for",
            f"{start.to_iso8601_string()} is not in the future (now is {now.to_iso8601_string()})",
            "Pass a later time, or leave schedule_for out to start the task right away.",
        )
    return start


_SCHEDULE_FOR_FIX = (
    "Pass an aware datetime or a string like '2026-12-24 06:00:00.000 +01:00' (no offset means UTC)."
)


def schedule_for_wire(start: pendulum.DateTime) -> str:
    """Render a start time in the form AIMMS documents for ``scheduleFor``."""
    return start.in_timezone("UTC").format("YYYY-MM-DD HH:mm:ss.SSS") + " +00:00"


def parse_schedule_duration(value: object, parameter: str) -> ScheduleDuration:
    """
    Check a ``schedule_in`` or ``schedule_interval`` value.

    :param value: a ``timedelta`` (pendulum ``Duration`` included), an ISO 8601 duration string such
        as ``"PT30M"`` or ``"P1DT2H"``, or AIMMS's human form such as ``"1 day"`` or ``"2 weeks"``.
    :param parameter: the argument name, for the error message.
    """
    if isinstance(value, dt.timedelta):
        seconds = value.total_seconds()
        text = _iso_duration(seconds)
    elif isinstance(value, str) and (match := _HUMAN_DURATION.match(value.strip())):
        count, unit = int(match.group(1)), match.group(2).lower()
        seconds = float(count * _HUMAN_UNITS[unit])
        text = f"{count} {unit}{'' if count == 1 else 's'}"
    elif isinstance(value, str) and value.strip().upper().startswith("P"):
        try:
            parsed = pendulum.parse(value.strip().upper())
        except ValueError as err:
            raise AimmsParameterError(
                parameter, f"{value!r} is not an ISO 8601 duration", _DURATION_FIX
            ) from err
        if not isinstance(parsed, pendulum.Duration):
            raise AimmsParameterError(parameter, f"{value!r} is not a duration", _DURATION_FIX)
        if parsed.years or parsed.months:
            raise AimmsParameterError(
                parameter,
                f"{value!r} uses years or months, whose length varies",
                "Express it in weeks, days, hours, minutes or seconds, e.g. 'P30D'.",
            )
        seconds = parsed.total_seconds()
        text = value.strip().upper()
    else:
        raise AimmsParameterError(parameter, f"{value!r} is not a duration", _DURATION_FIX)
    if seconds <= 0:
        raise AimmsParameterError(parameter, f"{value!r} is not longer than zero", _DURATION_FIX)
    return ScheduleDuration(text=text, seconds=seconds)


_DURATION_FIX = (
    "Pass a timedelta, an ISO 8601 duration such as 'PT30M' or 'P1DT2H', "
    "or a count and unit such as '1 day' or '2 weeks' (seconds, minutes, hours, days, weeks)."
)


def _iso_duration(seconds: float) -> str:
    """Write a positive number of seconds as an ISO 8601 duration, e.g. 93784 -> ``P1DT2H3M4S``."""
    whole = round(seconds, 3)
    days, rest = divmod(whole, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = "P" + (f"{int(days)}D" if days else "")
    clock = (f"{int(hours)}H" if hours else "") + (f"{int(minutes)}M" if minutes else "")
    if secs:
        clock += f"{int(secs)}S" if float(secs).is_integer() else f"{secs:g}S"
    return text + ("T" + clock if clock else "") if (text != "P" or clock) else "PT0S"


@dataclass(frozen=True)
class Schedule:
    """The checked schedule of a task to create: query parameters and when it may first start."""

    schedule_for: pendulum.DateTime | None = None
    schedule_in: ScheduleDuration | None = None
    schedule_interval: ScheduleDuration | None = None

    @classmethod
    def from_arguments(
        cls,
        *,
        schedule_for: object = None,
        schedule_in: object = None,
        schedule_interval: object = None,
        now: pendulum.DateTime | None = None,
    ) -> Schedule:
        """Check all three schedule arguments together; raise before anything is sent."""
        if schedule_for not in (None, "") and schedule_in not in (None, ""):
            raise AimmsParameterError(
                "schedule_for",
                "schedule_for and schedule_in were both given, but a task has one start",
                "Pass only one of them.",
            )
        return cls(
            schedule_for=None if schedule_for in (None, "") else format_schedule_for(schedule_for, now=now),
            schedule_in=None
            if schedule_in in (None, "")
            else parse_schedule_duration(schedule_in, "schedule_in"),
            schedule_interval=None
            if schedule_interval in (None, "")
            else parse_schedule_duration(schedule_interval, "schedule_interval"),
        )

    def query_params(self) -> dict[str, str]:
        """Return the query parameters of the create request."""
        params: dict[str, str] = {}
        if self.schedule_for is not None:
            params["scheduleFor"] = schedule_for_wire(self.schedule_for)
        if self.schedule_in is not None:
            params["scheduleIn"] = self.schedule_in.text
        if self.schedule_interval is not None:
            params["scheduleInterval"] = self.schedule_interval.text
        return params

    def first_start(self, created_at: pendulum.DateTime) -> pendulum.DateTime | None:
        """When the first run may start, counted from when the task was created; ``None`` if now."""
        if self.schedule_for is not None:
            return self.schedule_for
        if self.schedule_in is not None:
            return created_at.add(seconds=self.schedule_in.seconds)
        return None
