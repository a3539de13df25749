"""
Run an AIMMS task long enough (about 30 s) that the system test can kill the triggerer while it waits.

The trigger must survive the restart: the new triggerer picks it up from the database and keeps polling
the same AIMMS task, so the run succeeds and AIMMS holds exactly one task for it.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_aimms.operators.aimms import AimmsCreateTaskOperator

with DAG(
    dag_id="system_aimms_triggerer_restart",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["aimms", "system-test"],
) as dag:
    AimmsCreateTaskOperator(
        task_id="slow_solve",
        app_name="Logistics",
        service_name="slow_solve",
        payload={"scenario": "system-test"},
        deferrable=True,
        poll_interval=3,
        timeout=300,
    )
