"""Run each lifecycle example DAG with ``dag.test()`` against the emulator and check what it left in AIMMS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from airflow_provider_aimms.hooks.aimms import AimmsHook
from tests.e2e.dagrun import run_example_dag, xcom
from tests.operators.dagtest import sensors_on_sqlite, state

__all__ = ["sensors_on_sqlite"]  # a fixture

if TYPE_CHECKING:
    from airflow_provider_aimms.emulator import EmulatorServer

pytestmark = pytest.mark.usefixtures("airflow_db", "sensors_on_sqlite")

SCENARIO = json.loads(
    (Path(__file__).parents[2] / "example_dags" / "data" / "truck_loading.json").read_text()
)


def test_chain_feeds_the_first_response_to_the_second_task(aimms: EmulatorServer) -> None:
    dag_run = run_example_dag("example_aimms_chain")

    rows = aimms.admin.tasks()
    assert dag_run.state == "success"
    assert [(row["serviceName"], row["state"]) for row in rows] == [
        ("echo", "completed"),
        ("knapsack", "completed"),
    ]
    assert xcom(dag_run, "prepare_scenario", key="response") == SCENARIO
    plan = xcom(dag_run, "solve_truck_loading", key="response")
    assert plan["total_value"] == 27213  # the optimum of this scenario
    assert xcom(dag_run, "summarise") == {"pallets": len(plan["selected"]), "value": 27213}


def test_fan_out_solves_one_task_per_scenario_and_picks_the_best(aimms: EmulatorServer) -> None:
    dag_run = run_example_dag("example_aimms_fan_out")

    rows = aimms.admin.tasks()
    assert dag_run.state == "success"
    assert [row["state"] for row in rows] == ["completed"] * 3
    plans = [xcom(dag_run, "solve_per_trailer", key="response", map_index=index) for index in range(3)]
    margins = {
        "city": plans[0]["total_value"] - 900,
        "standard": plans[1]["total_value"] - 1400,
        "mega": plans[2]["total_value"] - 2600,
    }
    best = max(margins, key=margins.__getitem__)
    assert plans[1]["total_value"] == 27213
    assert xcom(dag_run, "pick_best")["trailer"] == best
    assert xcom(dag_run, "pick_best")["margin"] == margins[best]


def test_scheduled_run_starts_no_earlier_than_asked(aimms: EmulatorServer) -> None:
    dag_run = run_example_dag("example_aimms_scheduled")

    [row] = aimms.admin.tasks()
    assert dag_run.state == "success"
    assert row["state"] == "completed"
    assert row["scheduleFor"] is not None
    assert row["runningAt"] >= row["scheduleFor"][:23]
    assert xcom(dag_run, "solve_later", key="response") == {"run": dag_run.run_id}


def test_recurring_run_is_watched_and_then_stopped(aimms: EmulatorServer) -> None:
    dag_run = run_example_dag("example_aimms_recurring")

    assert dag_run.state == "success"
    aimms_task_id = xcom(dag_run, "start_recurring_solve")
    runs = {row["groupIndex"]: row for row in aimms.admin.tasks() if row["id"] == aimms_task_id}
    assert runs[0]["state"] == "completed"
    assert runs[1]["state"] == "completed"
    # The delete took the last (queued) run and with it the recurrence (tests/operators shows no run
    # follows, with the emulated clock an hour on).
    assert runs[max(runs)]["deleted"] is True
    assert max(runs) >= 2
    assert xcom(dag_run, "stop_recurrence") is True


def test_sensor_waits_for_a_task_created_outside_airflow(aimms: EmulatorServer) -> None:
    outside = AimmsHook().create_task("Logistics", "echo", {"made": "by hand"}).id

    dag_run = run_example_dag("example_aimms_external_task", run_conf={"aimms_task_id": outside})

    [row] = aimms.admin.tasks()
    assert dag_run.state == "success"
    assert (row["id"], row["state"]) == (outside, "completed")
    assert xcom(dag_run, "wait_for_task", key="aimms_task_id") == outside
    assert xcom(dag_run, "fetch_response", key="response") == {"made": "by hand"}


def test_sensor_example_creates_its_own_task_without_conf(aimms: EmulatorServer) -> None:
    dag_run = run_example_dag("example_aimms_external_task")

    [row] = aimms.admin.tasks()
    assert dag_run.state == "success"
    assert row["state"] == "completed"
    assert xcom(dag_run, "fetch_response", key="response") == {"source": "portal"}


def test_execution_timeout_interrupts_the_slow_solve(aimms: EmulatorServer) -> None:
    dag_run = run_example_dag("example_aimms_interrupt_on_timeout")

    [row] = aimms.admin.tasks()
    assert state(dag_run, "solve_with_deadline") == "failed"
    assert (row["serviceName"], row["state"]) == ("slow_solve", "failed")
    assert row["errorMessage"] == "Task execution was interrupted (interrupt-execution)."
    assert xcom(dag_run, "report_interrupted") == {
        "aimms_task_id": row["id"],
        "state": "failed",
        "error": "Task execution was interrupted (interrupt-execution).",
    }
    assert dag_run.state == "success"  # the report, the only leaf, ran because the solve failed
