from __future__ import annotations

import datetime as dt

import pendulum
import pytest

from airflow_provider_aimms.exceptions import AimmsParameterError
from airflow_provider_aimms.scheduling import Schedule, parse_schedule_duration, schedule_for_wire

NOW = pendulum.datetime(2026, 12, 3, 12, 0, 0, tz="UTC")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (pendulum.datetime(2026, 12, 24, 7, 30, tz="Europe/Amsterdam"), "2026-12-24 06:30:00.000 +00:00"),
        (dt.datetime(2026, 12, 4, 1, 2, 3, 456000, tzinfo=dt.UTC), "2026-12-04 01:02:03.456 +00:00"),
        ("2026-12-04 08:00", "2026-12-04 08:00:00.000 +00:00"),
        ("2026-12-04 08:00:00.250 +02:00", "2026-12-04 06:00:00.250 +00:00"),
        ("2026-12-04T08:00:00Z", "2026-12-04 08:00:00.000 +00:00"),
    ],
)
def test_schedule_for_is_sent_in_the_documented_form(value: object, expected: str) -> None:
    schedule = Schedule.from_arguments(schedule_for=value, now=NOW)
    assert schedule.query_params() == {"scheduleFor": expected}


def test_naive_datetime_is_refused_with_the_fix() -> None:
    with pytest.raises(AimmsParameterError, match=r"`schedule_for`.*naive.*aware datetime") as info:
        Schedule.from_arguments(schedule_for=dt.datetime(2026, 12, 24, 6), now=NOW)
    assert info.value.parameter == "schedule_for"


def test_past_time_is_refused() -> None:
    with pytest.raises(AimmsParameterError, match="not in the future"):
        Schedule.from_arguments(schedule_for="2026-12-03 11:59", now=NOW)


@pytest.mark.parametrize("value", ["tomorrow", "2026-13-40 10:00", 12345, ""])
def test_unreadable_schedule_for_is_refused(value: object) -> None:
    if value == "":
        assert Schedule.from_arguments(schedule_for=value, now=NOW).query_params() == {}
        return
    with pytest.raises(AimmsParameterError, match="`schedule_for`"):
        Schedule.from_arguments(schedule_for=value, now=NOW)


def test_schedule_for_and_schedule_in_together_are_refused() -> None:
    with pytest.raises(AimmsParameterError, match="both given"):
        Schedule.from_arguments(schedule_for="2026-12-05 10:00", schedule_in="1 day", now=NOW)


@pytest.mark.parametrize(
    ("value", "text", "seconds"),
    [
        (dt.timedelta(days=1, hours=2, minutes=3, seconds=4), "P1DT2H3M4S", 93784),
        (pendulum.duration(minutes=30), "PT30M", 1800),
        ("PT45M", "PT45M", 2700),
        ("p1dt2h", "P1DT2H", 93600),
        ("1 day", "1 day", 86400),
        ("2 weeks", "2 weeks", 1209600),
        ("1 hours", "1 hour", 3600),
        ("10 Seconds", "10 seconds", 10),
    ],
)
def test_durations_in_every_accepted_form(value: object, text: str, seconds: float) -> None:
    duration = parse_schedule_duration(value, "schedule_in")
    assert (duration.text, duration.seconds) == (text, seconds)


@pytest.mark.parametrize("value", ["soon", "1 fortnight", "P1M", "PXYZ", -5, dt.timedelta(0), "0 days"])
def test_bad_durations_name_the_parameter(value: object) -> None:
    with pytest.raises(AimmsParameterError, match="`schedule_interval`"):
        parse_schedule_duration(value, "schedule_interval")


def test_first_start_counts_from_creation() -> None:
    created = pendulum.datetime(2026, 12, 3, 12, 0, 5, tz="UTC")
    assert Schedule.from_arguments(schedule_in="PT10M", now=NOW).first_start(created) == created.add(
        minutes=10
    )
    assert Schedule.from_arguments(now=NOW).first_start(created) is None


def test_wire_form_round_trips_through_utc() -> None:
    start = pendulum.datetime(2026, 12, 24, 23, 30, tz="America/New_York")
    assert schedule_for_wire(start) == "2026-12-25 04:30:00.000 +00:00"
