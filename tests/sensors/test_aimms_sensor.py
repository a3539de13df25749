"""AimmsTaskSensor through ``dag.test()``, on AIMMS tasks created outside Airflow (by the test)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_aimms.emulator.demo import INFEASIBLE_MESSAGE
from airflow_provider_aimms.hooks.aimms import AimmsHook
from airflow_provider_aimms.sensors.aimms import AimmsTaskSensor
from tests.e2e.dagrun import xcom
from tests.operators.dagtest import run_dag, state, test_dag

if TYPE_CHECKING:
    from airflow_provider_aimms.emulator import EmulatorServer

pytestmark = pytest.mark.usefixtures("airflow_db", "sensors_on_sqlite")


def _create(service: str, payload: Any = None, **schedule: Any) -> str:
    return (
        AimmsHook()
        .create_task("Logistics", service, payload if payload is not None else {"n": 1}, **schedule)
        .id
    )


def _sensor(aimms_task_id: str, **kwargs: Any) -> AimmsTaskSensor:
    return AimmsTaskSensor(task_id="wait", aimms_task_id=aimms_task_id, poke_interval=0.1, **kwargs)


@pytest.mark.parametrize(
    "mode",
    [{"mode": "poke"}, {"mode": "reschedule"}, {"deferrable": True}],
    ids=["poke", "reschedule", "deferred"],
)
def test_the_sensor_succeeds_when_the_task_completes(aimms: EmulatorServer, mode: dict[str, Any]) -> None:
    aimms_task_id = _create("echo")
    with test_dag(f"sensor_completes_{next(iter(mode.values()))}") as dag:
        _sensor(aimms_task_id, timeout=30, **mode)

    dag_run = run_dag(dag)

    assert state(dag_run, "wait") == "success"
    assert xcom(dag_run, "wait", key="aimms_task_id") == aimms_task_id
    assert xcom(dag_run, "wait", key="aimms_task_url") == f"{aimms.url}/portal/tasks?taskId={aimms_task_id}"
    assert AimmsHook().get_task(aimms_task_id).state == "completed"


@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferred"])
def test_the_sensor_fails_fast_on_a_failed_task(aimms: EmulatorServer, deferrable: bool) -> None:
    aimms_task_id = _create("fail")
    with test_dag(f"sensor_fails_{deferrable}") as dag:
        _sensor(aimms_task_id, timeout=600, deferrable=deferrable)

    dag_run = run_dag(dag)

    task = AimmsHook().get_task(aimms_task_id)
    assert state(dag_run, "wait") == "failed"
    assert (task.state, task.error_message) == ("failed", INFEASIBLE_MESSAGE)


@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferred"])
def test_soft_fail_skips_on_a_failed_task(aimms: EmulatorServer, deferrable: bool) -> None:
    aimms_task_id = _create("fail")
    with test_dag(f"sensor_soft_fail_{deferrable}") as dag:
        _sensor(aimms_task_id, timeout=600, soft_fail=True, deferrable=deferrable)

    dag_run = run_dag(dag)

    assert state(dag_run, "wait") == "skipped"
    assert AimmsHook().get_task(aimms_task_id).state == "failed"


@pytest.mark.parametrize("deferrable", [False, True], ids=["poke", "deferred"])
def test_a_sensor_timeout_leaves_the_task_running(aimms: EmulatorServer, deferrable: bool) -> None:
    aimms_task_id = _create("slow_solve")
    with test_dag(f"sensor_timeout_{deferrable}") as dag:
        _sensor(aimms_task_id, timeout=1, deferrable=deferrable)

    dag_run = run_dag(dag)

    assert state(dag_run, "wait") == "failed"
    assert AimmsHook().get_task(aimms_task_id).state == "solving"


def test_a_recurring_task_is_watched_run_by_run(aimms: EmulatorServer) -> None:
    # Runs every 2 s; the sensors wait for run 1 (deferred) and for the last run at their first look.
    aimms_task_id = _create("echo", schedule_interval="PT2S")
    with test_dag("sensor_recurring") as dag:
        _sensor(aimms_task_id, timeout=60, group_index="{{ params.run }}", deferrable=True, params={"run": 1})
        AimmsTaskSensor(task_id="wait_last", aimms_task_id=aimms_task_id, poke_interval=0.1, timeout=60)

    dag_run = run_dag(dag)

    hook = AimmsHook()
    assert state(dag_run, "wait") == "success"
    assert state(dag_run, "wait_last") == "success"
    assert hook.get_task(aimms_task_id, 1).state == "completed"
    assert hook.get_task(aimms_task_id, 0).state == "completed"
    hook.delete_task(aimms_task_id)  # stop the recurrence


def test_reschedule_mode_needs_a_group_index_for_a_recurring_task(aimms: EmulatorServer) -> None:
    aimms_task_id = _create("echo", schedule_interval="PT2S")
    with test_dag("sensor_reschedule_recurring") as dag:
        _sensor(aimms_task_id, timeout=30, mode="reschedule")

    dag_run = run_dag(dag)

    assert state(dag_run, "wait") == "failed"
    AimmsHook().delete_task(aimms_task_id)
