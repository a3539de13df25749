"""The adaptive poll schedule: short waits after a state change, backing off to ``poll_interval``."""

from __future__ import annotations

import random

import pytest

from airflow_provider_aimms.triggers.aimms import (
    BACKOFF_FACTOR,
    DEFAULT_MIN_POLL_INTERVAL,
    JITTER_FRACTION,
    AimmsTaskTrigger,
    PollSchedule,
)


class _NoJitter(random.Random):
    """Draw 0, so that every wait is exactly the planned one."""

    def random(self) -> float:
        return 0.0


class _FullJitter(random.Random):
    """Draw (almost) 1, the largest shortening the jitter allows."""

    def random(self) -> float:
        return 1.0


def test_adaptive_waits_grow_geometrically_up_to_the_maximum() -> None:
    schedule = PollSchedule(10.0, 2.0, rng=_NoJitter())

    waits = [schedule.next_wait() for _ in range(7)]

    assert waits == pytest.approx([2.0, 3.0, 4.5, 6.75, 10.0, 10.0, 10.0])


def test_a_state_change_starts_again_from_the_minimum() -> None:
    schedule = PollSchedule(30.0, 2.0, rng=_NoJitter())
    for _ in range(10):
        schedule.next_wait()

    schedule.state_changed()

    assert [schedule.next_wait(), schedule.next_wait()] == pytest.approx([2.0, 3.0])


def test_fixed_polling_ignores_state_changes_and_never_jitters() -> None:
    schedule = PollSchedule(30.0, 2.0, adaptive=False, rng=_FullJitter())

    first = [schedule.next_wait() for _ in range(3)]
    schedule.state_changed()

    assert [*first, schedule.next_wait()] == [30.0, 30.0, 30.0, 30.0]


def test_jitter_only_shortens_a_wait_and_by_at_most_its_fraction() -> None:
    schedule = PollSchedule(10.0, 2.0, rng=_FullJitter())

    waits = [schedule.next_wait() for _ in range(6)]

    assert waits == pytest.approx([w * (1 - JITTER_FRACTION) for w in (2.0, 3.0, 4.5, 6.75, 10.0, 10.0)])


def test_seeded_jitter_stays_within_bounds_and_spreads_triggers_apart() -> None:
    schedules = [PollSchedule(10.0, 2.0, rng=random.Random(seed)) for seed in range(50)]

    tenth_poll_times = [sum(s.next_wait() for _ in range(10)) for s in schedules]

    # Without jitter all fifty would poll for the tenth time at the same instant, 76.25 s.
    assert min(tenth_poll_times) >= 76.25 * (1 - JITTER_FRACTION)
    assert max(tenth_poll_times) <= 76.25
    assert max(tenth_poll_times) - min(tenth_poll_times) > 1.0


def test_a_minimum_above_the_maximum_is_capped() -> None:
    schedule = PollSchedule(5.0, 8.0, rng=_NoJitter())

    assert [schedule.next_wait(), schedule.next_wait()] == [5.0, 5.0]


def test_the_trigger_builds_its_schedule_from_its_kwargs() -> None:
    adaptive = AimmsTaskTrigger(aimms_task_id="t-1", poll_interval=60, min_poll_interval=1)
    fixed = AimmsTaskTrigger(aimms_task_id="t-2", poll_interval=45, adaptive_polling=False)

    assert (adaptive.schedule.minimum, adaptive.schedule.maximum, adaptive.schedule.adaptive) == (
        1.0,
        60.0,
        True,
    )
    assert (fixed.schedule.maximum, fixed.schedule.adaptive) == (45.0, False)
    assert AimmsTaskTrigger(aimms_task_id="t-3").schedule.minimum == DEFAULT_MIN_POLL_INTERVAL
    assert BACKOFF_FACTOR > 1
