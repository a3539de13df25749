"""Parse the schedule parameters of task creation: ``scheduleFor``, ``scheduleIn``, ``scheduleInterval``."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pendulum

from airflow_provider_aimms.emulator.errors import ApiError

_SCHEDULE_FOR = re.compile(
    r"""^(?P<date>\d{4}-\d{2}-\d{2})[ T](?P<hour>\d{2}):(?P<minute>\d{2})
        (?::(?P<second>\d{2})(?:\.(?P<fraction>\d{1,6}))?)?
        \s*(?P<offset>Z|[+-]?\d{2}:?\d{2})?$""",
    re.VERBOSE | re.IGNORECASE,
)
_ISO_DURATION = re.compile(
    r"^P(?:(?P<years>\d+)Y)?(?:(?P<months>\d+)M)?(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)
_HUMAN_PART = re.compile(r"(\d+(?:\.\d+)?)\s*([a-z]+)", re.IGNORECASE)
_UNIT_SECONDS = {
    "s": 1.0, "sec": 1.0, "secs": 1.0, "second": 1.0, "seconds": 1.0,
    "min": 60.0, "mins": 60.0, "minute": 60.0, "minutes": 60.0,
    "h": 3600.0, "hr": 3600.0, "hrs": 3600.0, "hour": 3600.0, "hours": 3600.0,
    "d": 86400.0, "day": 86400.0, "days": 86400.0,
    "w": 604800.0, "week": 604800.0, "weeks": 604800.0,
}  # fmt: skip
_UNIT_MONTHS = {"month": 1, "months": 1, "year": 12, "years": 12, "y": 12}
# A shorter recurrence would let one clock jump create millions of runs.
MIN_INTERVAL_SECONDS = 1.0


@dataclass(frozen=True)
class Interval:
    """A delay or repeat interval: whole calendar months plus seconds, and the text it came from."""

    months: int
    seconds: float
    text: str

    def after(self, instant: float) -> float:
        """Return the instant one interval after ``instant`` (months are calendar months, in UTC)."""
        moment = pendulum.from_timestamp(instant, tz="UTC")
        if self.months:
            moment = moment.add(months=self.months)
        return moment.timestamp() + self.seconds

    def approximate_seconds(self) -> float:
        """Return the length in seconds, counting a month as 30 days."""
        return self.months * 30 * 86400.0 + self.seconds


def parse_instant(text: str, parameter: str = "scheduleFor") -> float:
    """Parse ``YYYY-MM-DD hh:mm[:ss[.ms]] [+/-HH:MM]`` (UTC without offset) or ISO 8601; bad text is a 400."""
    text = text.strip()
    match = _SCHEDULE_FOR.match(text)
    if match:
        offset = match["offset"] or "+00:00"
        if offset.upper() == "Z":
            offset = "+00:00"
        elif offset[0] not in "+-":
            # An unencoded '+' in a query string arrives as a space, which the pattern already skipped.
            offset = "+" + offset
        if ":" not in offset:
            offset = offset[:3] + ":" + offset[3:]
        iso = (
            f"{match['date']}T{match['hour']}:{match['minute']}:{match['second'] or '00'}"
            f".{(match['fraction'] or '0').ljust(6, '0')}{offset}"
        )
        text_to_parse = iso
    else:
        text_to_parse = text
    try:
        parsed = pendulum.parse(text_to_parse, tz="UTC")
    except (ValueError, pendulum.parsing.exceptions.ParserError) as error:
        raise ApiError(
            400, f"Invalid {parameter} {text!r}: expected 'YYYY-MM-DD hh:mm:ss.ms +HH:MM'."
        ) from error
    if not isinstance(parsed, pendulum.DateTime):
        raise ApiError(400, f"Invalid {parameter} {text!r}: expected a date and a time.")
    return parsed.timestamp()


def parse_interval(text: str, parameter: str) -> Interval:
    """Parse an ISO 8601 duration (``P1DT2H3M4S``) or a human one (``1 day``, ``2 weeks``); bad text is a 400."""
    stripped = text.strip()
    iso = _ISO_DURATION.match(stripped)
    if iso and stripped.upper() not in ("P", "PT") and not stripped.upper().endswith("T"):
        parts = {name: float(value) for name, value in iso.groupdict().items() if value is not None}
        months = int(parts.get("years", 0) * 12 + parts.get("months", 0))
        seconds = (
            parts.get("weeks", 0) * 604800
            + parts.get("days", 0) * 86400
            + parts.get("hours", 0) * 3600
            + parts.get("minutes", 0) * 60
            + parts.get("seconds", 0)
        )
        return _checked(Interval(months, seconds, text), parameter)

    months, seconds, consumed = 0, 0.0, 0
    for match in _HUMAN_PART.finditer(stripped):
        between = stripped[consumed : match.start()].strip(" ,")
        unit = match[2].lower()
        if between or (unit not in _UNIT_SECONDS and unit not in _UNIT_MONTHS):
            raise ApiError(400, f"Invalid {parameter} {text!r}: expected e.g. 'P1DT2H' or '1 day'.")
        amount = float(match[1])
        if unit in _UNIT_MONTHS:
            if amount != int(amount):
                raise ApiError(400, f"Invalid {parameter} {text!r}: months and years must be whole.")
            months += int(amount) * _UNIT_MONTHS[unit]
        else:
            seconds += amount * _UNIT_SECONDS[unit]
        consumed = match.end()
    if consumed == 0 or stripped[consumed:].strip(" ,"):
        raise ApiError(400, f"Invalid {parameter} {text!r}: expected e.g. 'P1DT2H' or '1 day'.")
    return _checked(Interval(months, seconds, text), parameter)


def _checked(interval: Interval, parameter: str) -> Interval:
    if parameter == "scheduleInterval" and interval.approximate_seconds() < MIN_INTERVAL_SECONDS:
        raise ApiError(400, f"Invalid scheduleInterval {interval.text!r}: it must be at least one second.")
    return interval


def parse_date(text: str, parameter: str) -> float:
    """Parse a date filter: ``YYYY-MM-DD`` (midnight UTC) or any instant :func:`parse_instant` accepts."""
    stripped = text.strip()
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", stripped):
        stripped += " 00:00"
    return parse_instant(stripped, parameter)
