"""
Load a truck optimally with an AIMMS model, then check and print the plan.

The ``knapsack`` service of the ``Logistics`` app picks the pallets that fit the trailer's payload and
maximise the contribution margin. Against the local emulator (``make demo``) the answer comes from an
exact solver; against AIMMS PRO, from your own published app with the same service.
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
    dag_id="example_aimms_knapsack",
    description="Solve a truck-loading knapsack in AIMMS and check the plan",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["aimms", "example"],
) as dag:

    @task
    def load_scenario() -> dict[str, Any]:
        """Read today's pallets and the trailer's payload."""
        return json.loads(SCENARIO_FILE.read_text())

    scenario = load_scenario()

    solve = AimmsCreateTaskOperator(
        task_id="solve_truck_loading",
        app_name="Logistics",
        service_name="knapsack",
        payload=scenario,
        deferrable=True,
        poll_interval=2,
        timeout=600,
    )

    @task
    def check_plan(scenario: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
        """Check the plan against the scenario and print it: fits, and adds up."""
        items = {item["name"]: item for item in scenario["items"]}
        chosen = [items[name] for name in plan["selected"]]
        weight = sum(item["weight"] for item in chosen)
        value = sum(item["value"] for item in chosen)
        if weight > scenario["capacity"]:
            raise ValueError(f"The plan loads {weight} kg onto a {scenario['capacity']} kg trailer")
        if weight != plan["total_weight"] or value != plan["total_value"]:
            raise ValueError(
                f"The plan's totals ({plan['total_weight']} kg, {plan['total_value']}) do not add up"
            )
        print(
            f"Load {len(chosen)} of {len(items)} pallets: {weight} of {scenario['capacity']} kg, margin {value} EUR"
        )
        for item in chosen:
            print(f"  {item['name']:<24} {item['weight']:>5} kg {item['value']:>6} EUR")
        return {"pallets": len(chosen), "weight": weight, "value": value}

    # The operator returns the AIMMS task id; the decoded response is its XCom "response".
    check_plan(scenario, XComArg(solve, key="response"))
