"""The interrupt, delete and get-response operators through ``dag.test()``, on tasks the test created."""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_aimms.hooks.aimms import AimmsHook
from airflow_provider_aimms.operators.aimms import (
    AimmsDeleteTaskOperator,
    AimmsGetTaskResponseOperator,
    AimmsInterruptTaskOperator,
)
from tests.e2e.dagrun import xcom
from tests.operators.dagtest import run_dag, state, test_dag

if TYPE_CHECKING:
    from pathlib import Path

    from airflow_provider_aimms.emulator import EmulatorServer

pytestmark = pytest.mark.usefixtures("airflow_db")


def _solving(hook: AimmsHook) -> str:
    aimms_task_id = hook.create_task("Logistics", "slow_solve", {}).id
    while hook.get_task(aimms_task_id).state != "solving":
        time.sleep(0.05)
    return aimms_task_id


def _completed(hook: AimmsHook, payload: Any, **kwargs: Any) -> str:
    aimms_task_id = hook.create_task("Logistics", "echo", payload, **kwargs).id
    hook.wait_for_task(aimms_task_id, poll_interval=0.05, timeout=10)
    return aimms_task_id


@pytest.mark.parametrize(
    ("mode", "end_state"), [("interrupt-execution", "failed"), ("interrupt-solve", "completed")]
)
def test_interrupt_waits_until_the_task_has_ended(aimms: EmulatorServer, mode: str, end_state: str) -> None:
    hook = AimmsHook()
    aimms_task_id = _solving(hook)
    with test_dag(f"interrupt_{end_state}") as dag:
        AimmsInterruptTaskOperator(task_id="stop", aimms_task_id=aimms_task_id, mode=mode, poll_interval=0.1)

    dag_run = run_dag(dag)

    assert state(dag_run, "stop") == "success"
    assert xcom(dag_run, "stop") == end_state
    assert hook.get_task(aimms_task_id).state == end_state


def test_interrupt_without_waiting_returns_the_state_it_sees(aimms: EmulatorServer) -> None:
    hook = AimmsHook()
    aimms_task_id = _solving(hook)
    with test_dag("interrupt_no_wait") as dag:
        AimmsInterruptTaskOperator(
            task_id="stop", aimms_task_id=aimms_task_id, mode="interrupt-solve", wait_for_termination=False
        )

    dag_run = run_dag(dag)

    assert state(dag_run, "stop") == "success"
    assert xcom(dag_run, "stop") in ("running", "completed")
    assert hook.wait_for_task(aimms_task_id, poll_interval=0.05, timeout=10).state == "completed"
    assert hook.get_task_response_json(aimms_task_id)["interrupted"] is True


def test_delete_removes_the_task_and_treats_a_missing_one_as_configured(aimms: EmulatorServer) -> None:
    hook = AimmsHook()
    aimms_task_id = _completed(hook, {"n": 1})
    with test_dag("delete") as dag:
        first = AimmsDeleteTaskOperator(task_id="delete", aimms_task_id=aimms_task_id)
        again = AimmsDeleteTaskOperator(task_id="delete_again", aimms_task_id=aimms_task_id)
        strict = AimmsDeleteTaskOperator(
            task_id="delete_strict", aimms_task_id=aimms_task_id, missing_ok=False
        )
        first >> again >> strict

    dag_run = run_dag(dag)

    assert [row["deleted"] for row in aimms.admin.tasks()] == [True]
    assert (state(dag_run, "delete"), xcom(dag_run, "delete")) == ("success", True)
    assert (state(dag_run, "delete_again"), xcom(dag_run, "delete_again")) == ("success", False)
    assert state(dag_run, "delete_strict") == "failed"


def test_delete_without_group_index_stops_a_recurring_task(own_aimms: EmulatorServer) -> None:
    hook = AimmsHook()
    aimms_task_id = hook.create_task("Logistics", "echo", {"n": 2}, schedule_interval="PT1S").id
    hook.wait_for_task(aimms_task_id, 0, poll_interval=0.05, timeout=10)
    with test_dag("delete_recurring") as dag:
        AimmsDeleteTaskOperator(task_id="stop_recurrence", aimms_task_id=aimms_task_id)

    dag_run = run_dag(dag)

    runs_after_delete = len(own_aimms.admin.tasks())
    own_aimms.admin.advance(3600)  # an hour later: no run was added
    assert state(dag_run, "stop_recurrence") == "success"
    assert len(own_aimms.admin.tasks()) == runs_after_delete
    assert own_aimms.admin.tasks()[-1]["deleted"] is True


def test_get_response_to_xcom_and_to_a_file(aimms: EmulatorServer, tmp_path: Path) -> None:
    hook = AimmsHook()
    aimms_task_id = _completed(hook, {"plan": [1, 2]})
    target = tmp_path / "plan.json"
    with test_dag("get_response") as dag:
        AimmsGetTaskResponseOperator(task_id="to_xcom", aimms_task_id=aimms_task_id)
        AimmsGetTaskResponseOperator(
            task_id="to_file", aimms_task_id=aimms_task_id, response_path=str(target)
        )

    dag_run = run_dag(dag)

    assert state(dag_run, "to_xcom") == "success"
    assert xcom(dag_run, "to_xcom", key="response") == {"plan": [1, 2]}
    assert state(dag_run, "to_file") == "success"
    assert json.loads(target.read_text()) == {"plan": [1, 2]}
    assert xcom(dag_run, "to_file", key="response_path") == str(target)


def test_get_response_of_a_task_without_one_fails(aimms: EmulatorServer) -> None:
    hook = AimmsHook()
    aimms_task_id = hook.create_task("Logistics", "fail", {}).id
    hook.wait_for_task(aimms_task_id, poll_interval=0.05, timeout=10)
    with test_dag("get_response_missing") as dag:
        AimmsGetTaskResponseOperator(task_id="to_xcom", aimms_task_id=aimms_task_id)

    dag_run = run_dag(dag)

    assert state(dag_run, "to_xcom") == "failed"
    assert hook.get_task(aimms_task_id).state == "failed"
