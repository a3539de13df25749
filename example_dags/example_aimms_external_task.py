"""
Wait for an AIMMS task that Airflow did not create, then fetch its response.

The task may come from the AIMMS portal, another scheduler or a script; here a ``@task`` creates it with
the hook to stand in for that. The sensor waits for it in the triggerer and fails fast if it fails;
``AimmsGetTaskResponseOperator`` then puts its response in XCom.
"""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import DAG, task

from airflow_provider_aimms.hooks.aimms import AimmsHook
from airflow_provider_aimms.operators.aimms import AimmsGetTaskResponseOperator
from airflow_provider_aimms.sensors.aimms import AimmsTaskSensor

with DAG(
    dag_id="example_aimms_external_task",
    description="Sense an AIMMS task created elsewhere and fetch its response",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    params={"aimms_task_id": ""},
    tags=["aimms", "example"],
) as dag:

    @task
    def find_task(params: dict[str, str]) -> str:
        """Use the AIMMS task id passed in the run's conf, or create one as an outside caller would."""
        if params.get("aimms_task_id"):
            return params["aimms_task_id"]
        return AimmsHook().create_task("Logistics", "echo", {"source": "portal"}).id

    aimms_task_id = find_task()

    wait = AimmsTaskSensor(
        task_id="wait_for_task",
        aimms_task_id=aimms_task_id,
        deferrable=True,
        poke_interval=1,
        timeout=600,
    )

    fetch = AimmsGetTaskResponseOperator(task_id="fetch_response", aimms_task_id=aimms_task_id)

    wait >> fetch
