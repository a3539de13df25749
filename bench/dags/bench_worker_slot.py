"""
The DAG of ``bench/worker_slot.py``: one AIMMS task waited for on a worker, one deferred to the triggerer.

Both operators note, in the file ``AIMMS_BENCH_SPANS``, how long each of their methods held the worker.
"""

from __future__ import annotations

import json
import os
import time
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_aimms.operators.aimms import AimmsCreateTaskOperator

#: Emulated seconds per real second of the bench emulator; polling is scaled by it (see worker_slot.py).
CLOCK_SPEED = float(os.environ.get("AIMMS_BENCH_CLOCK_SPEED", "60"))


class TimedCreateTaskOperator(AimmsCreateTaskOperator):
    """Append (Airflow task id, method, seconds) to the spans file for ``execute`` and ``execute_complete``."""

    def _timed(self, method: str, call: Any) -> Any:
        started = time.perf_counter()
        try:
            return call()
        finally:
            with open(os.environ["AIMMS_BENCH_SPANS"], "a") as spans:
                spans.write(json.dumps([self.task_id, method, time.perf_counter() - started]) + "\n")

    def execute(self, context: Any) -> Any:
        return self._timed("execute", lambda: super(TimedCreateTaskOperator, self).execute(context))

    def execute_complete(self, context: Any, event: dict[str, Any] | None = None) -> Any:
        return self._timed(
            "execute_complete",
            lambda: super(TimedCreateTaskOperator, self).execute_complete(context, event),
        )


with DAG(
    dag_id="bench_worker_slot",
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
) as dag:
    for mode, deferrable in (("blocking", False), ("deferrable", True)):
        TimedCreateTaskOperator(
            task_id=mode,
            aimms_conn_id="aimms_bench",
            app_name="Bench",
            service_name="work",
            payload={},
            deferrable=deferrable,
            # The default 10 s between polls, in emulated time.
            poll_interval=10.0 / CLOCK_SPEED,
            fetch_response=True,
        )
