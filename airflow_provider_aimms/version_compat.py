"""What differs between the Airflow versions we support, in one place."""

from __future__ import annotations

from airflow.providers.common.compat.version_compat import AIRFLOW_V_3_0_PLUS, AIRFLOW_V_3_3_PLUS

__all__ = ["AIRFLOW_V_3_0_PLUS", "AIRFLOW_V_3_3_PLUS", "execution_deadline_margin"]


def execution_deadline_margin(execution_timeout_seconds: float) -> float:
    """
    How long before ``execution_timeout`` a deferred operator should wake up to interrupt its task.

    Airflow 2 turns ``execution_timeout`` into a trigger timeout and, on resume, times the task out at
    once if the time is up; ``execute_complete`` would then never run and the AIMMS task would go on. So
    on Airflow 2 the trigger fires a little early, leaving time to interrupt. Airflow 3 does not time out
    a deferred task on its own, so the trigger can fire on the deadline itself.
    """
    if AIRFLOW_V_3_0_PLUS:
        return 0.0
    return min(60.0, execution_timeout_seconds * 0.1)
