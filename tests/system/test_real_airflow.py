"""
Prove the provider on real Airflow 3 components: scheduler, triggerer, API server and DAG processor.

Skipped by ``make test``; run with ``scripts/system_test.sh``. The emulator and each Airflow component
run as their own processes; the DAG runs are triggered and read through Airflow's REST API, and the
triggerer's part through the trigger log files it writes (``attempt=1.log.trigger.<triggerer job>.log``).
"""

from __future__ import annotations

import json
import signal
from typing import TYPE_CHECKING, Any

import pytest

from scripts.knapsack_check import best_value
from tests.system.conftest import REPO
from tests.system.stack import wait_for

if TYPE_CHECKING:
    from pathlib import Path

    from tests.system.stack import AirflowStack, Emulator

KNAPSACK_DAG = "example_aimms_knapsack"
RESTART_DAG = "system_aimms_triggerer_restart"
TRIGGER_LOGGER = "airflow_provider_aimms.triggers.aimms.AimmsTaskTrigger"

# The first test also pays for starting Airflow (about a minute on two cores); every wait inside is
# bounded on its own as well.
pytestmark = pytest.mark.timeout(240)


def log_events(path: Path) -> list[dict[str, Any]]:
    """Read a task or trigger log file (one JSON object a line)."""
    return [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]


def trigger_logs(
    airflow: AirflowStack, dag_id: str, run_id: str, task_id: str
) -> dict[int, list[dict[str, Any]]]:
    """Map each triggerer job id that ran the task's trigger to the lines it logged for it."""
    folder = airflow.task_log_dir(dag_id, run_id, task_id)
    return {
        int(path.name.rsplit(".", 2)[-2]): log_events(path)
        for path in folder.glob("attempt=1.log.trigger.*.log")
    }


def trigger_lines(events: list[dict[str, Any]]) -> list[str]:
    """Return the lines our trigger logged (not Airflow's own)."""
    return [event["event"] for event in events if event.get("logger") == TRIGGER_LOGGER]


def fired_events(events: list[dict[str, Any]]) -> list[str]:
    """Return the ``Trigger fired event`` lines the triggerer logged, as text."""
    return [event["result"] for event in events if event["event"] == "Trigger fired event"]


def triggerer_job_ids(airflow: AirflowStack) -> list[int]:
    """Return the ids of the triggerer jobs Airflow knows, running or not."""
    jobs = airflow.get("/jobs?job_type=TriggererJob&limit=100")["jobs"]
    return sorted(job["id"] for job in jobs)


def test_example_dag_defers_to_the_triggerer_and_finds_the_optimum(
    airflow: AirflowStack, emulator: Emulator
) -> None:
    airflow.wait_for_dag(KNAPSACK_DAG)
    run_id = "system-knapsack"
    airflow.trigger(KNAPSACK_DAG, run_id)

    run = airflow.wait_for_run(KNAPSACK_DAG, run_id, timeout=150)

    assert run["state"] == "success", airflow.describe_run(KNAPSACK_DAG, run_id)
    solve = airflow.task_instance(KNAPSACK_DAG, run_id, "solve_truck_loading")
    assert (solve["state"], solve["try_number"]) == ("success", 1)
    aimms_task_id = airflow.xcom(KNAPSACK_DAG, run_id, "solve_truck_loading", "aimms_task_id")
    # The worker created the AIMMS task and deferred.
    task_log = [
        e["event"]
        for e in log_events(
            airflow.task_log_dir(KNAPSACK_DAG, run_id, "solve_truck_loading") / "attempt=1.log"
        )
    ]
    assert any(
        line.startswith(f"Created AIMMS task {aimms_task_id} (Logistics/knapsack") for line in task_log
    )
    assert "Pausing task as DEFERRED." in [line.strip() for line in task_log]
    assert any(line.startswith(f"AIMMS task {aimms_task_id} completed") for line in task_log)
    # The trigger ran in one triggerer job, which fired the completed event.
    logs = trigger_logs(airflow, KNAPSACK_DAG, run_id, "solve_truck_loading")
    ((job_id, events),) = logs.items()
    assert job_id in triggerer_job_ids(airflow)
    assert f"AIMMS task {aimms_task_id} is completed" in trigger_lines(events)
    (fired,) = fired_events(events)
    assert "'status': 'completed'" in fired
    assert aimms_task_id in fired
    # The plan is optimal, by an independent method, and the checking task saw the same plan.
    scenario = json.loads((REPO / "example_dags" / "data" / "truck_loading.json").read_text())
    optimum = best_value(scenario["capacity"], scenario["items"])
    plan = airflow.xcom(KNAPSACK_DAG, run_id, "solve_truck_loading", "response")
    assert plan["total_value"] == optimum
    assert airflow.xcom(KNAPSACK_DAG, run_id, "check_plan")["value"] == optimum
    # AIMMS holds exactly this one knapsack task.
    knapsack = [task for task in emulator.tasks() if task["serviceName"] == "knapsack"]
    assert [(task["id"], task["state"]) for task in knapsack] == [(aimms_task_id, "completed")]


@pytest.mark.parametrize("stop_signal", [signal.SIGKILL, signal.SIGTERM], ids=["crash", "graceful-stop"])
def test_deferred_task_survives_a_triggerer_restart(
    airflow: AirflowStack, emulator: Emulator, stop_signal: signal.Signals
) -> None:
    airflow.wait_for_dag(RESTART_DAG)
    run_id = f"system-triggerer-{stop_signal.name.lower()}"
    known = {task["id"] for task in emulator.tasks()}
    airflow.trigger(RESTART_DAG, run_id)
    first_triggerer = triggerer_job_ids(airflow)[-1]

    def polled_by_first_triggerer() -> bool:
        deferred = airflow.task_instance(RESTART_DAG, run_id, "slow_solve")["state"] == "deferred"
        lines = trigger_lines(
            trigger_logs(airflow, RESTART_DAG, run_id, "slow_solve").get(first_triggerer, [])
        )
        return deferred and any(line.endswith(" is solving") for line in lines)

    wait_for("the trigger to watch the solving AIMMS task", polled_by_first_triggerer, timeout=120)
    # SIGKILL: the triggerer and its trigger runner crash, with no chance to clean up. SIGTERM: the
    # graceful stop of a rolling deploy, which cancels the trigger but must not interrupt the AIMMS task.
    airflow.components["triggerer"].stop(stop_signal)
    (slow,) = [task for task in emulator.tasks() if task["id"] not in known]
    assert (slow["serviceName"], slow["state"]) == ("slow_solve", "solving")
    assert airflow.task_instance(RESTART_DAG, run_id, "slow_solve")["state"] == "deferred"
    airflow.components["triggerer"].start()

    run = airflow.wait_for_run(RESTART_DAG, run_id, timeout=150)

    assert run["state"] == "success", airflow.describe_run(RESTART_DAG, run_id)
    ti = airflow.task_instance(RESTART_DAG, run_id, "slow_solve")
    assert (ti["state"], ti["try_number"]) == ("success", 1)
    # A second triggerer job took the trigger over and saw the AIMMS task end.
    logs = trigger_logs(airflow, RESTART_DAG, run_id, "slow_solve")
    second_triggerer = triggerer_job_ids(airflow)[-1]
    assert second_triggerer != first_triggerer
    assert sorted(logs) == [first_triggerer, second_triggerer]
    assert fired_events(logs[first_triggerer]) == []
    (fired,) = fired_events(logs[second_triggerer])
    assert "'status': 'completed'" in fired
    assert f"AIMMS task {slow['id']} is completed" in trigger_lines(logs[second_triggerer])
    # Still exactly one AIMMS task for the run, the one the operator created, run to its end (not interrupted).
    tasks = [task for task in emulator.tasks() if task["id"] not in known]
    assert [(task["id"], task["state"], task["deleted"]) for task in tasks] == [
        (slow["id"], "completed", False)
    ]
    assert airflow.xcom(RESTART_DAG, run_id, "slow_solve", "aimms_task_id") == slow["id"]
    assert airflow.xcom(RESTART_DAG, run_id, "slow_solve", "response") == {
        "interrupted": False, "status": "optimal", "objective": 1000.0, "gap": 0.0,
    }  # fmt: skip
