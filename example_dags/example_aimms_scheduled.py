"""
Schedule an AIMMS task to start a little later, and wait for it from the triggerer.

``schedule_in`` (or ``schedule_for``) asks AIMMS not to start the task before then. The trigger sleeps
until shortly before the start instead of polling a queued task, and ``timeout`` counts from the
scheduled start, not from creation. The same works with ``schedule_for=pendulum.datetime(...)``, or a
templated ``"{{ data_interval_end.add(hours=1) }}"``.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_aimms.operators.aimms import AimmsCreateTaskOperator

with DAG(
    dag_id="example_aimms_scheduled",
    description="Run an AIMMS task a few seconds from now",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["aimms", "example"],
) as dag:
    AimmsCreateTaskOperator(
        task_id="solve_later",
        app_name="Logistics",
        service_name="echo",
        payload={"run": "{{ run_id }}"},
        schedule_in="PT3S",
        deferrable=True,
        poll_interval=1,
        timeout=60,  # counted from the scheduled start
    )
