"""
Create a recurring AIMMS task, watch one of its later runs, then stop the recurrence.

With ``schedule_interval`` AIMMS repeats the task, each run with its own group index. The create
operator waits for the first run (group index 0) only; a sensor watches any later run by its group
index; deleting the task without a group index stops the recurrence. Against the emulator the interval
is two seconds; against AIMMS PRO it would rather be ``"1 day"``.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_aimms.operators.aimms import AimmsCreateTaskOperator, AimmsDeleteTaskOperator
from airflow_provider_aimms.sensors.aimms import AimmsTaskSensor

AIMMS_TASK_ID = "{{ ti.xcom_pull(task_ids='start_recurring_solve') }}"

with DAG(
    dag_id="example_aimms_recurring",
    description="Start a recurring AIMMS task, wait for its second run, stop it",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["aimms", "example"],
) as dag:
    start = AimmsCreateTaskOperator(
        task_id="start_recurring_solve",
        app_name="Logistics",
        service_name="echo",
        payload={"report": "fleet status"},
        schedule_interval="PT2S",
        deferrable=True,
        poll_interval=1,
    )

    second_run = AimmsTaskSensor(
        task_id="wait_for_second_run",
        aimms_task_id=AIMMS_TASK_ID,
        group_index=1,
        deferrable=True,
        poke_interval=1,
        timeout=120,
    )

    # Stop the recurrence whatever happened above, so that no run outlives the DAG run.
    stop = AimmsDeleteTaskOperator(
        task_id="stop_recurrence",
        aimms_task_id=AIMMS_TASK_ID,
        trigger_rule="all_done",
    )

    start >> second_run >> stop
