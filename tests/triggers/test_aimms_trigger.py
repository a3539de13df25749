"""
AimmsTaskTrigger against the emulator: its events, its deadlines, its error budget, and its restart.

Each test iterates the trigger as a triggerer does (``[e async for e in trigger.run()]``) with short
poll intervals; only an unknown AIMMS state, which the emulator cannot produce, is injected.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import time
from typing import TYPE_CHECKING, Any

import pytest
from airflow.providers.common.compat.module_loading import import_string

from airflow_provider_aimms.emulator.demo import INFEASIBLE_MESSAGE
from airflow_provider_aimms.exceptions import AimmsParameterError
from airflow_provider_aimms.hooks.aimms import AimmsHook
from airflow_provider_aimms.models import AimmsTask
from airflow_provider_aimms.triggers import aimms as trigger_module
from airflow_provider_aimms.triggers.aimms import AimmsTaskTrigger
from airflow_provider_aimms.version_compat import AIRFLOW_V_3_3_PLUS
from tests.conftest import connection_json

if TYPE_CHECKING:
    from airflow.triggers.base import TriggerEvent

    from airflow_provider_aimms.emulator import EmulatorServer

CLASSPATH = "airflow_provider_aimms.triggers.aimms.AimmsTaskTrigger"
FAST = {"poll_interval": 0.05, "min_poll_interval": 0.01}
INTERRUPTED = "Task execution was interrupted (interrupt-execution)."


def _create(service: str, payload: Any = None, **schedule: Any) -> str:
    return (
        AimmsHook().create_task("Logistics", service, payload if payload is not None else {}, **schedule).id
    )


async def _events(trigger: AimmsTaskTrigger) -> list[TriggerEvent]:
    return [event async for event in trigger.run()]


async def _until_state(aimms: EmulatorServer, aimms_task_id: str, state: str) -> None:
    hook = AimmsHook()
    while (await hook.aget_task(aimms_task_id)).state != state:  # noqa: ASYNC110 - only the emulator knows
        await asyncio.sleep(0.02)


def _row(aimms: EmulatorServer, aimms_task_id: str) -> dict[str, Any]:
    [row] = [row for row in aimms.admin.tasks() if row["id"] == aimms_task_id]
    return row


# -- serialization -------------------------------------------------------------------------------


def test_serialize_gives_the_exact_plain_json_kwargs_and_rebuilds_the_same_trigger() -> None:
    trigger = AimmsTaskTrigger(
        aimms_task_id="3f1c",
        aimms_conn_id="aimms_prod",
        group_index=2,
        poll_interval=30,
        min_poll_interval=1,
        adaptive_polling=False,
        wait_until=1_900_000_000,
        execution_deadline=1_900_000_500.5,
        sleep_until=1_899_999_000,
        error_budget=4,
        interrupt_on_kill=False,
        interrupt_mode="interrupt-solve",
    )

    classpath, kwargs = trigger.serialize()

    assert classpath == CLASSPATH
    assert kwargs == {
        "aimms_task_id": "3f1c",
        "aimms_conn_id": "aimms_prod",
        "group_index": 2,
        "poll_interval": 30.0,
        "min_poll_interval": 1.0,
        "adaptive_polling": False,
        "wait_until": 1_900_000_000.0,
        "execution_deadline": 1_900_000_500.5,
        "sleep_until": 1_899_999_000.0,
        "error_budget": 4,
        "interrupt_on_kill": False,
        "interrupt_mode": "interrupt-solve",
    }
    assert json.loads(json.dumps(kwargs)) == kwargs
    assert import_string(classpath)(**kwargs).serialize() == (classpath, kwargs)


def test_serialize_defaults() -> None:
    assert AimmsTaskTrigger(aimms_task_id="t").serialize() == (
        CLASSPATH,
        {
            "aimms_task_id": "t",
            "aimms_conn_id": "aimms_default",
            "group_index": None,
            "poll_interval": 10.0,
            "min_poll_interval": 2.0,
            "adaptive_polling": True,
            "wait_until": None,
            "execution_deadline": None,
            "sleep_until": None,
            "error_budget": 10,
            "interrupt_on_kill": True,
            "interrupt_mode": "interrupt-execution",
        },
    )


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"wait_until": dt.datetime(2030, 1, 1, tzinfo=dt.UTC)}, "wait_until"),
        ({"poll_interval": dt.timedelta(seconds=5)}, "poll_interval"),
        ({"group_index": "0"}, "group_index"),
        ({"group_index": -1}, "group_index"),
        ({"adaptive_polling": "yes"}, "adaptive_polling"),
        ({"error_budget": True}, "error_budget"),
        ({"error_budget": -1}, "error_budget"),
        ({"interrupt_mode": "stop"}, "interrupt_mode"),
        ({"aimms_task_id": ""}, "aimms_task_id"),
        ({"poll_interval": 0}, "poll_interval"),
    ],
)
def test_construction_refuses_what_cannot_be_stored_or_used(kwargs: dict[str, Any], parameter: str) -> None:
    with pytest.raises(AimmsParameterError) as raised:
        AimmsTaskTrigger(**{"aimms_task_id": "t", **kwargs})

    assert raised.value.parameter == parameter
    assert f"`{parameter}`" in str(raised.value)


# -- events --------------------------------------------------------------------------------------


async def test_a_completed_task_gives_one_completed_event_with_the_task(aimms: EmulatorServer) -> None:
    aimms_task_id = _create("echo", {"n": 1})

    events = await _events(AimmsTaskTrigger(aimms_task_id=aimms_task_id, **FAST))

    assert len(events) == 1
    payload = events[0].payload
    assert payload["status"] == "completed"
    assert payload["aimms_task_id"] == aimms_task_id
    assert payload["group_index"] is None
    assert payload["task"]["state"] == "completed"
    assert payload["task"]["returnCode"] == 1
    assert json.loads(json.dumps(payload)) == payload


async def test_a_failed_task_gives_a_failed_event_with_the_aimms_error(aimms: EmulatorServer) -> None:
    aimms_task_id = _create("fail")

    [event] = await _events(AimmsTaskTrigger(aimms_task_id=aimms_task_id, **FAST))

    assert event.payload["status"] == "failed"
    assert event.payload["task"]["errorMessage"] == INFEASIBLE_MESSAGE
    assert INFEASIBLE_MESSAGE in event.payload["message"]


async def test_a_missing_task_is_an_error_at_once(aimms: EmulatorServer) -> None:
    [event] = await _events(AimmsTaskTrigger(aimms_task_id="no-such-task", error_budget=5, **FAST))

    assert event.payload["status"] == "error"
    assert "404" in event.payload["message"]
    assert aimms.admin.fault_log() == []


async def test_an_unknown_state_is_polled_through(
    aimms: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The emulator only knows the documented states; a state AIMMS might add later is injected once.
    aimms_task_id = _create("echo", {"n": 2})
    real_get = AimmsHook.aget_task
    seen: list[str] = []

    async def first_unknown(self: AimmsHook, task_id: str, group_index: int | None = None) -> AimmsTask:
        task = await real_get(self, task_id, group_index)
        if not seen:
            task = AimmsTask.from_json({**task.raw, "state": "paused"})
        seen.append(task.state)
        return task

    monkeypatch.setattr(AimmsHook, "aget_task", first_unknown)

    [event] = await _events(AimmsTaskTrigger(aimms_task_id=aimms_task_id, **FAST))

    assert seen[0] == "paused"
    assert event.payload["status"] == "completed"


# -- deadlines -----------------------------------------------------------------------------------


async def test_a_passed_wait_limit_reports_timeout_and_leaves_the_task_running(aimms: EmulatorServer) -> None:
    aimms_task_id = _create("slow_solve")

    [event] = await _events(
        AimmsTaskTrigger(aimms_task_id=aimms_task_id, wait_until=time.time() + 0.3, **FAST)
    )

    assert event.payload["status"] == "timeout"
    assert event.payload["deadline"] == "wait"
    assert AimmsHook().get_task(aimms_task_id).state in ("assigned", "running", "solving")


async def test_the_execution_deadline_wins_over_the_wait_limit(aimms: EmulatorServer) -> None:
    aimms_task_id = _create("slow_solve")
    past = time.time() - 1

    [event] = await _events(
        AimmsTaskTrigger(aimms_task_id=aimms_task_id, wait_until=past, execution_deadline=past, **FAST)
    )

    assert event.payload["status"] == "timeout"
    assert event.payload["deadline"] == "execution"
    # Interrupting is the operator's job, on this event; the trigger itself changed nothing.
    assert AimmsHook().get_task(aimms_task_id).state in ("queued", "assigned", "running", "solving")


async def test_a_scheduled_task_is_not_polled_before_shortly_before_its_start(
    aimms: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(trigger_module, "WAKE_MARGIN_SECONDS", 0.5)
    aimms_task_id = _create("echo", {"n": 3}, schedule_in="PT2S")
    start = AimmsHook().get_task(aimms_task_id).scheduled_start
    assert start is not None
    real_get = AimmsHook.aget_task
    polled_at: list[float] = []

    async def recording(self: AimmsHook, task_id: str, group_index: int | None = None) -> AimmsTask:
        polled_at.append(time.time())
        return await real_get(self, task_id, group_index)

    monkeypatch.setattr(AimmsHook, "aget_task", recording)
    # The wait limit counts from the start: 1 s would have passed long before the start otherwise.
    trigger = AimmsTaskTrigger(
        aimms_task_id=aimms_task_id, sleep_until=start.timestamp(), wait_until=start.timestamp() + 30, **FAST
    )

    [event] = await _events(trigger)

    assert event.payload["status"] == "completed"
    assert min(polled_at) >= start.timestamp() - 0.5
    assert event.payload["task"]["runningAt"] >= event.payload["task"]["scheduleFor"][:23]


# -- transient errors ----------------------------------------------------------------------------


@pytest.fixture
def no_hook_retries(aimms: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> EmulatorServer:
    """One HTTP request per poll, so that each injected fault is one failed poll."""
    monkeypatch.setenv("AIRFLOW_CONN_AIMMS_DEFAULT", connection_json(aimms.url, retry_limit=0))
    return aimms


async def test_failed_polls_within_the_budget_are_ridden_out(no_hook_retries: EmulatorServer) -> None:
    aimms = no_hook_retries
    aimms_task_id = _create("echo", {"n": 4})
    aimms.admin.set_faults(
        [{"route": "get", "kind": "status", "status": 503, "probability": 1.0, "times": 3}], seed=1
    )

    [event] = await _events(AimmsTaskTrigger(aimms_task_id=aimms_task_id, error_budget=3, **FAST))

    assert event.payload["status"] == "completed"
    assert [fault["status"] for fault in aimms.admin.fault_log()] == [503, 503, 503]


async def test_one_failed_poll_too_many_is_an_error_and_the_task_goes_on(
    no_hook_retries: EmulatorServer,
) -> None:
    aimms = no_hook_retries
    aimms_task_id = _create("echo", {"n": 5})
    aimms.admin.set_faults(
        [{"route": "get", "kind": "status", "status": 503, "probability": 1.0, "times": 4}], seed=1
    )

    [event] = await _events(AimmsTaskTrigger(aimms_task_id=aimms_task_id, error_budget=3, **FAST))

    assert event.payload["status"] == "error"
    assert "after 4 failed polls in a row" in event.payload["message"]
    assert "503" in event.payload["message"]
    assert len(aimms.admin.fault_log()) == 4
    assert AimmsHook().wait_for_task(aimms_task_id, poll_interval=0.05, timeout=10).state == "completed"


async def test_a_garbled_answer_counts_against_the_budget(no_hook_retries: EmulatorServer) -> None:
    aimms = no_hook_retries
    aimms_task_id = _create("echo", {"n": 6})
    aimms.admin.set_faults([{"route": "get", "kind": "malformed", "times": 2}], seed=1)

    [event] = await _events(AimmsTaskTrigger(aimms_task_id=aimms_task_id, error_budget=2, **FAST))

    assert event.payload["status"] == "completed"
    assert [fault["kind"] for fault in aimms.admin.fault_log()] == ["malformed", "malformed"]


# -- restart and kill ----------------------------------------------------------------------------


async def test_a_rebuilt_trigger_resumes_mid_wait_without_a_second_task(own_aimms: EmulatorServer) -> None:
    aimms_task_id = _create("slow_solve")
    first = AimmsTaskTrigger(aimms_task_id=aimms_task_id, wait_until=time.time() + 60, **FAST)
    running = asyncio.create_task(_events(first))
    await _until_state(own_aimms, aimms_task_id, "solving")

    # A triggerer restart: the trigger is cancelled mid-wait and rebuilt elsewhere from its kwargs.
    running.cancel()
    with pytest.raises(asyncio.CancelledError):
        await running
    classpath, kwargs = first.serialize()
    second = import_string(classpath)(**json.loads(json.dumps(kwargs)))
    own_aimms.admin.advance(1800)  # the rest of the emulated solve

    [event] = await _events(second)

    assert event.payload["status"] == "completed"
    assert event.payload["task"]["id"] == aimms_task_id
    assert [row["id"] for row in own_aimms.admin.tasks()] == [aimms_task_id]


kill_only_on_3_3 = pytest.mark.skipif(
    not AIRFLOW_V_3_3_PLUS, reason="Airflow < 3.3 never calls BaseTrigger.on_kill (a documented known limit)"
)


@kill_only_on_3_3
async def test_on_kill_interrupts_the_task_of_a_killed_deferred_task(aimms: EmulatorServer) -> None:
    aimms_task_id = _create("slow_solve")
    trigger = AimmsTaskTrigger(aimms_task_id=aimms_task_id, **FAST)
    running = asyncio.create_task(_events(trigger))
    await _until_state(aimms, aimms_task_id, "solving")

    # What the triggerer does when a user marks the deferred task failed: cancel run(), then on_kill().
    running.cancel()
    await asyncio.gather(running, return_exceptions=True)
    await trigger.on_kill()

    task = AimmsHook().get_task(aimms_task_id)
    assert task.state == "failed"
    assert task.error_message == INTERRUPTED
    assert len(aimms.admin.tasks()) == 1


@kill_only_on_3_3
async def test_on_kill_leaves_the_task_alone_when_told_to(aimms: EmulatorServer) -> None:
    aimms_task_id = _create("slow_solve")
    await _until_state(aimms, aimms_task_id, "solving")

    await AimmsTaskTrigger(aimms_task_id=aimms_task_id, interrupt_on_kill=False, **FAST).on_kill()

    assert AimmsHook().get_task(aimms_task_id).state == "solving"


@kill_only_on_3_3
async def test_on_kill_swallows_a_failed_interrupt(aimms: EmulatorServer) -> None:
    # Best effort: a task already gone must not turn a user's kill into a triggerer error.
    await AimmsTaskTrigger(aimms_task_id="gone-already", **FAST).on_kill()

    assert aimms.admin.tasks() == []
