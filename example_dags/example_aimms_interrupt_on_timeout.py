"""
Give a long solve a hard deadline: at ``execution_timeout`` the AIMMS task is interrupted.

``slow_solve`` would solve for half an hour. With ``execution_timeout`` the trigger reports the deadline,
the operator interrupts the AIMMS task (``interrupt-execution``, so it ends failed) and fails the Airflow
task; nothing is left running. ``timeout``, by contrast, would only stop waiting. The follow-up task runs
because the solve failed (``trigger_rule="one_failed"``) and records what became of the AIMMS task.
"""

from __future__ import annotations

import datetime as dt

import pendulum
from airflow.providers.common.compat.sdk import DAG, task

from airflow_provider_aimms.hooks.aimms import AimmsHook
from airflow_provider_aimms.operators.aimms import AimmsCreateTaskOperator

with DAG(
    dag_id="example_aimms_interrupt_on_timeout",
    description="Interrupt an AIMMS solve that runs past execution_timeout",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["aimms", "example"],
) as dag:
    solve = AimmsCreateTaskOperator(
        task_id="solve_with_deadline",
        app_name="Logistics",
        service_name="slow_solve",
        payload={},
        execution_timeout=dt.timedelta(seconds=5),
        interrupt_mode="interrupt-execution",
        deferrable=True,
        poll_interval=1,
    )

    @task(trigger_rule="one_failed")
    def report_interrupted(ti=None) -> dict[str, str | None]:  # type: ignore[no-untyped-def]
        """Look up the AIMMS task the solve left behind: it should have ended, interrupted."""
        aimms_task_id = ti.xcom_pull(task_ids="solve_with_deadline", key="aimms_task_id")
        aimms_task = AimmsHook().get_task(aimms_task_id)
        print(f"AIMMS task {aimms_task_id} ended {aimms_task.state}: {aimms_task.error_message}")
        return {"aimms_task_id": aimms_task_id, "state": aimms_task.state, "error": aimms_task.error_message}

    solve >> report_interrupted()
