"""A sensor that waits for an AIMMS task, or one run of a recurring task, to end."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import (
    AirflowException,
    AirflowSensorTimeout,
    AirflowSkipException,
    BaseSensorOperator,
    conf,
)

from airflow_provider_aimms._checks import return_codes, seconds
from airflow_provider_aimms.exceptions import AimmsParameterError
from airflow_provider_aimms.hooks.aimms import AimmsHook
from airflow_provider_aimms.links import AimmsTaskLink
from airflow_provider_aimms.models import AimmsTask
from airflow_provider_aimms.operators.aimms import (
    _AimmsTaskOperatorMixin,
    outcome_error,
    rendered_group_index,
    validate_trigger_event,
)
from airflow_provider_aimms.triggers.aimms import AimmsTaskTrigger

if TYPE_CHECKING:
    from collections.abc import Sequence

    from airflow.providers.common.compat.sdk import Context


class AimmsTaskSensor(_AimmsTaskOperatorMixin, BaseSensorOperator):
    """
    Wait until an AIMMS task has ended; fail fast when it ends ``failed``.

    For a recurring task, ``group_index`` picks the run to wait for. Without it the sensor waits for
    the run that is the task's last one when the sensor first looks (usually the next one to start);
    it does not chase runs that AIMMS schedules after that. Modes ``poke`` and ``reschedule`` poll from
    a worker; ``deferrable=True`` waits in the triggerer. A rescheduled sensor cannot remember which
    run it first saw, so for a recurring task ``mode="reschedule"`` needs ``group_index``. With
    ``soft_fail=True`` a failed task or a timeout skips instead of failing. The AIMMS task is never
    interrupted by this sensor, whatever happens to it.

    :param aimms_task_id: the AIMMS task to watch. Templated.
    :param group_index: the run of a recurring task to watch; ``None`` picks the last run. Templated.
    :param aimms_conn_id: the Airflow connection of the AIMMS account.
    :param deferrable: wait in the triggerer; defaults to ``[operators] default_deferrable``.
    :param success_return_codes: return codes that count as success; ``None`` accepts any.
    """

    template_fields: Sequence[str] = ("aimms_task_id", "group_index", "aimms_conn_id")
    operator_extra_links = (AimmsTaskLink(),)

    def __init__(
        self,
        *,
        aimms_task_id: str,
        group_index: int | str | None = None,
        aimms_conn_id: str = AimmsHook.default_conn_name,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        success_return_codes: Sequence[int] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.aimms_task_id = aimms_task_id
        self.group_index = group_index
        self.aimms_conn_id = aimms_conn_id
        self.deferrable = deferrable
        self.success_return_codes = return_codes(success_return_codes)
        self._watched_group: int | None = None

    def _target_group(self) -> int | None:
        given = rendered_group_index(self.group_index)
        return self._watched_group if given is None else given

    def execute(self, context: Context) -> Any:
        """Poke once; if the task has not ended, keep poking or defer."""
        # The "AIMMS PRO task" button and downstream tasks read these; publish them before any waiting.
        self._remember_task(context, str(self.aimms_task_id))
        if not self.deferrable:
            return super().execute(context)
        if self.poke(context):
            return self._watched_task_id()
        self.defer(
            trigger=AimmsTaskTrigger(
                aimms_task_id=self.aimms_task_id,
                aimms_conn_id=self.aimms_conn_id,
                group_index=self._target_group(),
                # Airflow allows poke_interval=0; a trigger polling without pause would hammer AIMMS.
                poll_interval=seconds(self.poke_interval, "poke_interval"),
                wait_until=time.time() + seconds(self.timeout, "timeout", allow_zero=True),
                interrupt_on_kill=False,
            ),
            method_name="execute_complete",
        )

    def poke(self, context: Context) -> bool:
        """Return whether the watched run has ended; raise if it failed."""
        task = self.hook.get_task(self.aimms_task_id, self._target_group())
        if self._watched_group is None and task.group_index is not None:
            if self.reschedule and self.group_index in (None, ""):
                # A rescheduled poke starts from a fresh sensor and could not remember the run it pinned.
                raise AimmsParameterError(
                    "group_index",
                    f"AIMMS task {task.id} recurs, and mode='reschedule' cannot keep track of its last run",
                    "Pass the group_index of the run to wait for, or use mode='poke' or deferrable=True.",
                )
            # Pin the run seen first, so that a new run scheduled meanwhile does not restart the wait.
            self._watched_group = task.group_index
        run = "" if task.group_index is None else f" (run {task.group_index})"
        self.log.info("AIMMS task %s%s is %s", task.id, run, task.state)
        if not task.is_terminal:
            return False
        self._check_outcome(task)
        return True

    def _check_outcome(self, task: AimmsTask) -> None:
        if (error := outcome_error(task, self.success_return_codes)) is not None:
            self._fail(error)

    def _fail(self, error: AirflowException) -> None:
        if self.soft_fail:
            raise AirflowSkipException(str(error))
        raise error

    def _watched_task_id(self) -> str:
        return str(self.aimms_task_id)

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> str:
        """Finish after the trigger fired."""
        event = validate_trigger_event(event)
        if event["status"] in ("completed", "failed") and event.get("task"):
            self._check_outcome(AimmsTask.from_json(event["task"]))
            return self._watched_task_id()
        if event["status"] == "timeout":
            # AirflowSensorTimeout, like a poking sensor's timeout: Airflow does not retry it.
            self._fail(AirflowSensorTimeout(f"{event.get('message')}. The AIMMS task was left running."))
        self._fail(AirflowException(str(event.get("message"))))
        raise AssertionError("unreachable")  # pragma: no cover
