"""
Fan out over scenarios with dynamic task mapping, then pick the best.

One AIMMS task per trailer type solves the same pallets for that trailer's payload; the cheapest
margin after the trailer's cost wins. ``.partial().expand(payload=...)`` makes one mapped Airflow task,
and one AIMMS task, per scenario.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG, XComArg, task

from airflow_provider_aimms.operators.aimms import AimmsCreateTaskOperator

SCENARIO_FILE = Path(__file__).parent / "data" / "truck_loading.json"
#: Trailer types: payload in kg and the cost of running one for the day, in EUR.
TRAILERS = {"city": (7500, 900), "standard": (12000, 1400), "mega": (18000, 2600)}

with DAG(
    dag_id="example_aimms_fan_out",
    description="Solve one AIMMS task per trailer type and keep the best",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["aimms", "example"],
) as dag:

    @task
    def scenarios() -> list[dict[str, Any]]:
        """One knapsack request per trailer type: the same pallets, that trailer's payload."""
        pallets = json.loads(SCENARIO_FILE.read_text())["items"]
        return [{"capacity": capacity, "items": pallets} for capacity, _ in TRAILERS.values()]

    solve = AimmsCreateTaskOperator.partial(
        task_id="solve_per_trailer",
        app_name="Logistics",
        service_name="knapsack",
        deferrable=True,
        poll_interval=2,
    ).expand(payload=scenarios())

    @task
    def pick_best(plans: list[dict[str, Any]]) -> dict[str, Any]:
        """Keep the trailer whose plan earns the most after the trailer's own cost."""
        results = [
            {"trailer": name, "margin": plan["total_value"] - cost, "pallets": len(plan["selected"])}
            for (name, (_, cost)), plan in zip(TRAILERS.items(), plans, strict=True)
        ]
        best = max(results, key=lambda result: result["margin"])
        print(f"Best: the {best['trailer']} trailer, margin {best['margin']} EUR after its cost")
        return best

    # Mapped responses arrive in map-index order, which is the order of TRAILERS.
    pick_best(XComArg(solve, key="response"))
