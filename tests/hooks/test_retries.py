"""Flaky networks and busy servers: what is retried, what is not, and that no create is ever doubled."""

from __future__ import annotations

import pytest
import tenacity

from airflow_provider_aimms._http import WaitRetryAfterOrBackoff
from airflow_provider_aimms.exceptions import (
    AimmsApiError,
    AimmsTaskMaybeCreatedError,
    AimmsTransportError,
)
from airflow_provider_aimms.hooks.aimms import AimmsHook

PAYLOAD = {"capacity": 3, "items": [{"name": "a", "weight": 2, "value": 5}]}


def created(server) -> list[dict]:
    return [t for t in server.admin.tasks() if t["serviceName"] == "knapsack"]


def test_a_create_that_hits_503_then_succeeds_makes_exactly_one_task(hook: AimmsHook, server) -> None:
    server.admin.set_faults([{"route": "create", "kind": "status", "status": 503, "times": 2}], seed=7)
    task = hook.create_task("Logistics", "knapsack", PAYLOAD)
    assert len(server.admin.fault_log()) == 2
    assert [t["id"] for t in created(server)] == [task.id]


def test_a_create_whose_answer_times_out_is_not_sent_again(server, monkeypatch) -> None:
    server.admin.set_faults(
        [{"route": "create", "kind": "latency_after", "seconds": 1.5, "times": 1}], seed=1
    )
    hook = AimmsHook(timeout=0.5)
    with pytest.raises(AimmsTaskMaybeCreatedError, match=r"may exist.*list_tasks"):
        hook.create_task("Logistics", "knapsack", PAYLOAD)
    assert len(server.admin.fault_log()) == 1  # one attempt only
    assert len(created(server)) == 1  # ... which AIMMS did act on


def test_a_create_whose_connection_drops_after_the_work_is_not_sent_again(hook: AimmsHook, server) -> None:
    server.admin.set_faults([{"route": "create", "kind": "drop_after", "times": 1}], seed=1)
    with pytest.raises(AimmsTaskMaybeCreatedError):
        hook.create_task("Logistics", "knapsack", PAYLOAD)
    assert len(created(server)) == 1


def test_a_create_dropped_before_the_work_is_not_retried_either(hook: AimmsHook, server) -> None:
    # A dropped connection cannot tell "before" from "after": both look the same to the client.
    server.admin.set_faults([{"route": "create", "kind": "drop", "times": 1}], seed=1)
    with pytest.raises(AimmsTaskMaybeCreatedError):
        hook.create_task("Logistics", "knapsack", PAYLOAD)
    assert created(server) == []


def test_429_with_retry_after_is_retried_for_create(hook: AimmsHook, server) -> None:
    server.admin.set_faults(
        [{"route": "create", "kind": "status", "status": 429, "retry_after": "0", "times": 1}]
    )
    task = hook.create_task("Logistics", "knapsack", PAYLOAD)
    assert [t["id"] for t in created(server)] == [task.id]


@pytest.mark.parametrize("status", [502, 504])
def test_gateway_errors_are_retried_for_reads_but_not_for_create(
    hook: AimmsHook, server, status: int
) -> None:
    task = hook.create_task("Logistics", "knapsack", PAYLOAD)
    server.admin.set_faults([{"route": "get", "kind": "status", "status": status, "times": 2}])
    assert hook.get_task(task.id).id == task.id
    server.admin.set_faults([{"route": "create", "kind": "status", "status": status, "times": 1}])
    with pytest.raises(AimmsApiError) as info:
        hook.create_task("Logistics", "knapsack", PAYLOAD)
    assert info.value.status_code == status
    assert len(created(server)) == 1


def test_read_timeouts_and_drops_are_retried_for_reads(server) -> None:
    hook = AimmsHook(timeout=0.5)
    task = hook.create_task("Logistics", "knapsack", PAYLOAD)
    server.admin.set_faults(
        [
            {"route": "get", "kind": "latency", "seconds": 1.0, "times": 1},
            {"route": "get", "kind": "drop", "times": 1},
        ]
    )
    assert hook.get_task(task.id).id == task.id
    assert len(server.admin.fault_log()) == 2


def test_500_is_not_retried(hook: AimmsHook, server) -> None:
    server.admin.set_faults([{"route": "list", "kind": "status", "status": 500, "times": 1}])
    with pytest.raises(AimmsApiError) as info:
        hook.list_tasks()
    assert info.value.status_code == 500
    assert len(server.admin.fault_log()) == 1


def test_the_retry_limit_is_honoured_then_the_last_error_raised(server, monkeypatch) -> None:
    hook = AimmsHook(retry_limit=2, retry_delay=0.01)
    server.admin.set_faults([{"route": "list", "kind": "status", "status": 503}])
    with pytest.raises(AimmsApiError) as info:
        hook.list_tasks()
    assert info.value.status_code == 503
    assert len(server.admin.fault_log()) == 3  # the first try and two retries


def test_a_malformed_answer_is_an_error_not_a_crash(hook: AimmsHook, server) -> None:
    task = hook.create_task("Logistics", "knapsack", PAYLOAD)
    server.admin.set_faults([{"route": "get", "kind": "malformed", "times": 1}])
    with pytest.raises(AimmsApiError, match="not JSON"):
        hook.get_task(task.id)


def test_an_unreachable_account_is_retried_then_reported(monkeypatch) -> None:
    from tests.conftest import connection_json

    monkeypatch.setenv("AIRFLOW_CONN_AIMMS_DEFAULT", connection_json("http://127.0.0.1:9", retry_delay=0.01))
    with pytest.raises(AimmsTransportError, match="Could not create a task"):
        AimmsHook(retry_limit=1).create_task("Logistics", "knapsack", PAYLOAD)


def _state_after(exc: Exception, attempt: int = 1) -> tenacity.RetryCallState:
    state = tenacity.RetryCallState(tenacity.Retrying(), fn=None, args=(), kwargs={})
    state.attempt_number = attempt
    state.set_exception((type(exc), exc, None))
    return state


def test_retry_after_is_honoured_and_capped() -> None:
    wait = WaitRetryAfterOrBackoff(retry_delay=1.0, max_wait=60.0)
    assert wait(_state_after(AimmsApiError("busy", status_code=429, retry_after=7.0))) == 7.0
    assert wait(_state_after(AimmsApiError("busy", status_code=429, retry_after=3600.0))) == 60.0
    backoff = wait(_state_after(AimmsApiError("busy", status_code=503), attempt=3))
    assert 0.0 <= backoff <= 8.0  # full jitter over 2**3 seconds


def test_a_create_with_an_unreadable_answer_says_the_task_may_exist(hook: AimmsHook, server) -> None:
    server.admin.set_faults([{"route": "create", "kind": "malformed", "times": 1}])
    with pytest.raises(AimmsTaskMaybeCreatedError, match=r"answer could not be read.*not JSON.*may exist"):
        hook.create_task("Logistics", "knapsack", PAYLOAD)
    assert len(created(server)) == 1  # the work was done; nothing was resent
