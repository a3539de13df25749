"""
Test-only DAG for the chaos run: many small AIMMS tasks, half waited for on workers, half in triggers.

The chaos test runs it while the emulator breaks a fifth of all requests, then counts AIMMS tasks.
"""

from __future__ import annotations

import os

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_aimms.operators.aimms import AimmsCreateTaskOperator

TASKS_PER_MODE = int(os.environ.get("AIMMS_CHAOS_TASKS_PER_MODE", "50"))
ITEMS = [
    {"name": "drill", "weight": 3, "value": 9},
    {"name": "tent", "weight": 7, "value": 14},
    {"name": "stove", "weight": 4, "value": 10},
    {"name": "rope", "weight": 2, "value": 3},
    {"name": "lamp", "weight": 5, "value": 11},
    {"name": "map", "weight": 1, "value": 4},
]
# A different capacity per scenario, so each task has its own right answer.
SCENARIOS = [{"capacity": 2 + i % 21, "items": ITEMS} for i in range(TASKS_PER_MODE)]

with DAG(
    dag_id="aimms_chaos",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["aimms", "test"],
) as dag:
    for mode, deferrable in (("blocking", False), ("deferred", True)):
        AimmsCreateTaskOperator.partial(
            task_id=mode,
            app_name="Logistics",
            service_name="knapsack",
            deferrable=deferrable,
            poll_interval=0.2,
            retries=0,
        ).expand(payload=SCENARIOS)
