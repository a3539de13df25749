"""
Chain two AIMMS tasks: the response of the first is the payload of the second.

``prepare_scenario`` stands for a data-preparation service (the demo's ``echo`` hands the scenario back
unchanged); ``solve_truck_loading`` then solves exactly what the first task answered. Nothing passes
through a file: the first response travels as XCom.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, XComArg, task

from airflow_provider_aimms.operators.aimms import AimmsCreateTaskOperator

SCENARIO_FILE = Path(__file__).parent / "data" / "truck_loading.json"

with DAG(
    dag_id="example_aimms_chain",
    description="Prepare a scenario in one AIMMS task and solve it in the next",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["aimms", "example"],
) as dag:
    prepare = AimmsCreateTaskOperator(
        task_id="prepare_scenario",
        app_name="Logistics",
        service_name="echo",
        payload=json.loads(SCENARIO_FILE.read_text()),
        deferrable=True,
        poll_interval=2,
    )

    solve = AimmsCreateTaskOperator(
        task_id="solve_truck_loading",
        app_name="Logistics",
        service_name="knapsack",
        payload=XComArg(prepare, key="response"),
        deferrable=True,
        poll_interval=2,
    )

    @task
    def summarise(scenario: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
        """Report what the second task made of the first task's answer."""
        print(
            f"Loaded {len(plan['selected'])} of {len(scenario['items'])} pallets, margin {plan['total_value']}"
        )
        return {"pallets": len(plan["selected"]), "value": plan["total_value"]}

    summarise(XComArg(prepare, key="response"), XComArg(solve, key="response"))
