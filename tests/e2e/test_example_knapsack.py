from __future__ import annotations

import json
from pathlib import Path

from scripts.knapsack_check import check_plan
from tests.e2e.dagrun import run_example_dag, xcom

SCENARIO = json.loads(
    (Path(__file__).parents[2] / "example_dags" / "data" / "truck_loading.json").read_text()
)


def test_example_dag_solves_the_truck_loading_optimally(aimms, airflow_db) -> None:
    dag_run = run_example_dag("example_aimms_knapsack")

    assert dag_run.state == "success"
    solution = xcom(dag_run, "solve_truck_loading", key="response")
    plan = xcom(dag_run, "check_plan")
    assert check_plan(SCENARIO, solution) == []
    assert solution["total_value"] == 27213  # the optimum for this dataset, also checked by check_plan
    assert plan == {
        "pallets": len(solution["selected"]),
        "weight": solution["total_weight"],
        "value": solution["total_value"],
    }
    # The task ran deferred: the operator pushed the id before waiting, and exactly one AIMMS task exists.
    aimms_task_id = xcom(dag_run, "solve_truck_loading", key="aimms_task_id")
    assert [t["id"] for t in aimms.admin.tasks()] == [aimms_task_id]
    assert xcom(dag_run, "solve_truck_loading") == aimms_task_id
