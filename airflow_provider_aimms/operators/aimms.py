"""Operators that create, interrupt and delete AIMMS tasks, and fetch their responses."""

from __future__ import annotations

import time
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pendulum
from airflow.providers.common.compat.sdk import BaseOperator, ResumableJobMixin, conf

from airflow_provider_aimms._checks import interrupt_mode as check_interrupt_mode
from airflow_provider_aimms._checks import optional_seconds, return_codes, seconds
from airflow_provider_aimms.exceptions import (
    AimmsApiError,
    AimmsError,
    AimmsNotFoundError,
    AimmsParameterError,
    AimmsResponseTooLargeError,
    AimmsTaskFailedError,
    AimmsTriggerEventError,
    AimmsWaitTimeoutError,
)
from airflow_provider_aimms.hooks.aimms import AimmsHook
from airflow_provider_aimms.links import TASK_URL_XCOM_KEY, AimmsTaskLink, portal_task_url
from airflow_provider_aimms.models import ACTIVE_STATES, AimmsTask, InterruptMode, TaskState, parse_state
from airflow_provider_aimms.scheduling import Schedule
from airflow_provider_aimms.triggers.aimms import EVENT_STATUSES, AimmsTaskTrigger
from airflow_provider_aimms.version_compat import execution_deadline_margin

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Collection, Sequence

    from airflow.providers.common.compat.sdk import Context

#: XCom keys the operators write.
TASK_ID_XCOM_KEY = "aimms_task_id"
RESPONSE_XCOM_KEY = "response"
RESPONSE_PATH_XCOM_KEY = "response_path"
#: Responses above this size go to a file (``response_path``), not XCom, by default.
DEFAULT_MAX_XCOM_RESPONSE_BYTES = 1024 * 1024
#: How long a best-effort interrupt waits to see the task end, and how often it looks meanwhile.
INTERRUPT_CONFIRM_SECONDS = 30.0
INTERRUPT_CONFIRM_POLL = 0.5


def rendered_group_index(value: object) -> int | None:
    """Return a group index given directly or rendered from a template (``"3"``); ``None`` for the last run."""
    if value is None or value == "":
        return None
    try:
        index = int(str(value))
    except ValueError:
        raise AimmsParameterError(
            "group_index", f"{value!r} is not a run number", "Pass an int >= 0, or None for the last run."
        ) from None
    if index < 0:
        raise AimmsParameterError(
            "group_index", f"{value!r} is negative", "Pass an int >= 0, or None for the last run."
        )
    return index


def validate_trigger_event(event: dict[str, Any] | None) -> dict[str, Any]:
    """Return a trigger event that has a known status, or raise :class:`AimmsTriggerEventError`."""
    if not isinstance(event, dict) or event.get("status") not in EVENT_STATUSES:
        raise AimmsTriggerEventError(
            f"The AIMMS trigger sent an event this operator does not understand: {event!r}. "
            "Clear the task to run it again."
        )
    return event


def outcome_error(
    task: AimmsTask, success_return_codes: frozenset[int] | None
) -> AimmsTaskFailedError | None:
    """Return the error an ended task means: it failed, or completed with a return code not accepted."""
    run = "" if task.group_index is None else f" (run {task.group_index})"
    if task.is_failed:
        message = (
            f"AIMMS task {task.id}{run} failed (return code {task.return_code}): "
            f"{task.error_message or 'AIMMS gave no error message'}"
        )
    elif success_return_codes is not None and task.return_code not in success_return_codes:
        message = (
            f"AIMMS task {task.id}{run} completed with return code {task.return_code}, which is not one of "
            f"success_return_codes {sorted(success_return_codes)}"
        )
    else:
        return None
    return AimmsTaskFailedError(message, aimms_task_id=task.id, return_code=task.return_code)


class _AimmsTaskOperatorMixin:
    """Behaviour shared by operators that look at one AIMMS task: the hook, XComs and the link."""

    aimms_conn_id: str
    log: Any

    @cached_property
    def hook(self) -> AimmsHook:
        """The hook for ``aimms_conn_id``."""
        return AimmsHook(self.aimms_conn_id)

    def _remember_task(self, context: Context, aimms_task_id: str) -> None:
        """Publish the AIMMS task id and its portal URL, before any waiting, for links and downstream tasks."""
        ti = context["ti"]
        ti.xcom_push(key=TASK_ID_XCOM_KEY, value=aimms_task_id)
        ti.xcom_push(key=TASK_URL_XCOM_KEY, value=portal_task_url(self.hook.account_url, aimms_task_id))

    def _log_failure_details(self, aimms_task_id: str, group_index: int | None, lines: int) -> None:
        if lines <= 0:
            return
        try:
            tail = self.hook.get_task_log_lines(aimms_task_id, group_index, last=lines)
        except AimmsError as err:
            self.log.warning("Could not fetch the log of AIMMS task %s: %s", aimms_task_id, err)
            return
        if tail:
            self.log.error(
                "Last %d log lines of AIMMS task %s:\n%s", len(tail), aimms_task_id, "\n".join(tail)
            )

    def _interrupt_best_effort(
        self, aimms_task_id: str, mode: str, group_index: int | None
    ) -> AimmsTask | None:
        """
        Stop a task and wait briefly to see it end; log, never raise, on failure. Return the ended task.

        AIMMS refuses to interrupt a task that is still queued (e.g. waiting for its scheduled start), so
        such a task is deleted instead: either way nothing is left to run.
        """
        try:
            task = self.hook.get_task(aimms_task_id, group_index)
            if task.is_terminal:
                return task
            if task.known_state == TaskState.QUEUED:
                self.hook.delete_task(aimms_task_id, group_index)
                self.log.info("Deleted AIMMS task %s, which had not started yet", aimms_task_id)
                return task
            self.hook.interrupt_task(aimms_task_id, mode, group_index)
        except AimmsError as err:
            self.log.warning("Could not stop AIMMS task %s: %s", aimms_task_id, err)
            return None
        try:
            return self.hook.wait_for_task(
                aimms_task_id,
                group_index,
                poll_interval=INTERRUPT_CONFIRM_POLL,
                timeout=INTERRUPT_CONFIRM_SECONDS,
            )
        except AimmsError as err:
            # Sent, but not seen to take effect in time: say so, and let the caller fail as it would.
            self.log.warning("AIMMS task %s has not ended after %s: %s", aimms_task_id, mode, err)
            return None


class AimmsCreateTaskOperator(_AimmsTaskOperatorMixin, ResumableJobMixin, BaseOperator):
    """
    Create an AIMMS task (run a service of a published AIMMS app) and, by default, wait for it to end.

    The AIMMS task id is pushed to XCom (``aimms_task_id``) right after creation, before any waiting,
    and is the operator's return value. On ``completed`` the decoded response goes to XCom under
    ``response`` (or, with ``response_path``, the raw bytes go to that file). On ``failed`` the last
    lines of the AIMMS task log are copied into the Airflow log and the task fails with AIMMS's
    ``errorMessage`` and ``returnCode``.

    **Time limits.** ``timeout`` limits only how long this operator waits, counted from the scheduled
    start for a scheduled task: when it passes, the Airflow task fails and the AIMMS task is left alone.
    ``execution_timeout`` is a hard limit on the whole try: when it passes, the AIMMS task is stopped
    (interrupted with ``interrupt_mode``; deleted if it is still queued), best effort, waiting at most
    30 s to see it end, and the Airflow task fails. In deferrable mode the operator computes the deadline
    as a wall-clock time, defers with no Airflow timeout, and the trigger reports ``timeout`` at the
    deadline so that ``execute_complete`` can interrupt; the deadline thus holds across triggerer
    restarts. On Airflow 2, which turns ``execution_timeout`` into a trigger timeout of its own, the
    trigger fires 10% (at most 60 s) early so that the interrupt happens before Airflow gives up. When
    waiting on a worker, Airflow's own timeout calls :meth:`on_kill`, which interrupts.

    **Killing.** When the Airflow task is killed while it blocks on a worker (marked failed or success,
    cleared, timed out, worker shut down gracefully), :meth:`on_kill` interrupts the AIMMS task, best
    effort: a failure is logged, never raised. While deferred, on Airflow 3.3 and later the trigger's
    ``on_kill`` does the same when a user marks the task failed or success or clears it. Known limit:
    before 3.3 Airflow tells a deferred task's trigger nothing, so such a user action leaves the AIMMS
    task running; interrupt it with :class:`AimmsInterruptTaskOperator` or in the AIMMS portal. A worker
    that dies hard (SIGKILL, lost machine) runs no ``on_kill`` on any version.

    **Retries.** On Airflow 3.3 and later (``durable=True``, the default there) the AIMMS task id is
    kept in Airflow's task state store, so a retry of the Airflow task looks at the previous try's AIMMS
    task first: one still queued or running is adopted and waited for, one that completed gives its
    result without running again, and only one that failed leads to a new AIMMS task. The store lives
    as long as the DAG run, so clearing a task whose AIMMS task completed reuses that result too; pass
    ``durable=False`` to create a new AIMMS task on every try. Before 3.3 nothing survives from one try
    to the next, so every try creates a new AIMMS task. The previous one has ended by then in most
    cases (it failed, was interrupted by ``on_kill`` or ``execution_timeout``, or completed), but not
    when the previous try failed on ``timeout`` or an error while waiting, or its worker died: then two
    AIMMS tasks may run at once. Where that matters on Airflow 2, leave ``retries`` at 0 or use
    ``execution_timeout`` rather than ``timeout``.

    **Recurring tasks.** With ``schedule_interval`` the operator creates the recurring AIMMS task and,
    when waiting, waits for its first run (group index 0) only, then succeeds or fails on that run. The
    recurrence goes on after the Airflow task ends: watch later runs with :class:`AimmsTaskSensor`
    and stop it with :class:`AimmsDeleteTaskOperator` (no group index). ``on_kill`` and
    ``execution_timeout`` stop the first run only; the recurrence goes on unless that run had not
    started yet and had no successor, since deleting a task's last run ends its recurrence.

    :param app_name: the published AIMMS app. Templated.
    :param service_name: the service to run (the DEX service name of a procedure). Templated.
    :param payload: the request body the procedure reads: a dict or list (sent as JSON), str, bytes, a
        path, or a :class:`~airflow_provider_aimms._http.MultipartFile`. Templated.
    :param app_version: the app version to run; left out, AIMMS runs the version tagged *latest*. Templated.
    :param content_type: the payload's content type, when the default for its Python type is wrong.
    :param schedule_for: do not start the task before this time (aware datetime or string). Templated.
    :param schedule_in: do not start the task before this delay (timedelta, ``"PT1H"``, ``"2 hours"``). Templated.
    :param schedule_interval: repeat the task at this interval. The operator then waits for the first
        run (group index 0) only; watch later runs with :class:`AimmsTaskSensor`. Templated.
    :param state_hook_url: AIMMS calls this URL on every state change of the task. Templated.
    :param aimms_conn_id: the Airflow connection of the AIMMS account.
    :param wait_for_completion: wait for the task to end; ``False`` returns right after creating it.
    :param deferrable: wait in the triggerer instead of on a worker; defaults to
        ``[operators] default_deferrable``.
    :param poll_interval: the longest wait between two polls, in seconds.
    :param adaptive_polling: poll soon after each state change and back off towards ``poll_interval``
        (deferrable mode); ``False`` polls at a fixed ``poll_interval``.
    :param timeout: how long to wait, in seconds or as a timedelta, counted from the scheduled start
        for a scheduled task. The AIMMS task is left alone when it passes.
    :param interrupt_mode: how to interrupt on kill or ``execution_timeout``: ``interrupt-execution``
        (the task ends failed) or ``interrupt-solve`` (it ends completed with what it has).
    :param interrupt_on_kill: interrupt the AIMMS task when the Airflow task is killed.
    :param fetch_response: put the response in XCom (or ``response_path``) on completion.
    :param response_path: write the raw response to this file instead of XCom (for zip, Excel, ...). Templated.
    :param success_return_codes: return codes that count as success for a ``completed`` task;
        ``None`` (default) accepts any.
    :param max_xcom_response_bytes: larger responses fail with a hint to use ``response_path``.
    :param log_tail_lines: how many AIMMS log lines to copy into the Airflow log on failure.
    """

    template_fields: Sequence[str] = (
        "app_name",
        "app_version",
        "service_name",
        "payload",
        "schedule_for",
        "schedule_in",
        "schedule_interval",
        "state_hook_url",
        "response_path",
        "aimms_conn_id",
    )
    template_fields_renderers = {"payload": "json"}
    operator_extra_links = (AimmsTaskLink(),)
    ui_color = "#2e6ee6"
    ui_fgcolor = "#ffffff"
    external_id_key = "aimms_task_id"

    def __init__(
        self,
        *,
        app_name: str,
        service_name: str,
        payload: Any = None,
        app_version: str | None = None,
        content_type: str | None = None,
        schedule_for: Any = None,
        schedule_in: Any = None,
        schedule_interval: Any = None,
        state_hook_url: str | None = None,
        aimms_conn_id: str = AimmsHook.default_conn_name,
        wait_for_completion: bool = True,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 10.0,
        adaptive_polling: bool = True,
        timeout: dt.timedelta | float | None = None,
        interrupt_mode: str = InterruptMode.EXECUTION.value,
        interrupt_on_kill: bool = True,
        fetch_response: bool = True,
        response_path: str | None = None,
        success_return_codes: Collection[int] | None = None,
        max_xcom_response_bytes: int = DEFAULT_MAX_XCOM_RESPONSE_BYTES,
        log_tail_lines: int = 50,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.app_name = app_name
        self.service_name = service_name
        self.payload = payload
        self.app_version = app_version
        self.content_type = content_type
        self.schedule_for = schedule_for
        self.schedule_in = schedule_in
        self.schedule_interval = schedule_interval
        self.state_hook_url = state_hook_url
        self.aimms_conn_id = aimms_conn_id
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = seconds(poll_interval, "poll_interval")
        self.adaptive_polling = adaptive_polling
        self.timeout = optional_seconds(timeout, "timeout")
        self.interrupt_mode = check_interrupt_mode(interrupt_mode, "interrupt_mode").value
        self.interrupt_on_kill = interrupt_on_kill
        self.fetch_response = fetch_response
        self.response_path = response_path
        self.success_return_codes = return_codes(success_return_codes)
        self.max_xcom_response_bytes = max_xcom_response_bytes
        self.log_tail_lines = log_tail_lines
        if deferrable and not wait_for_completion:
            self.log.warning("deferrable=True has no effect with wait_for_completion=False")
        self._aimms_task_id: str | None = None
        self._first_start: float | None = None
        self._result: Any = None
        self._finished = False

    @property
    def _group_to_wait_for(self) -> int | None:
        # A recurring task's first run is group 0; waiting for "the last run" would chase a moving target.
        return 0 if self.schedule_interval else None

    def execute(self, context: Context) -> Any:
        """Create the task (or adopt the previous try's), then wait for it as configured."""
        return self.execute_resumable(context)

    # -- ResumableJobMixin: what Airflow 3.3+ calls to create, adopt and finish the task ------

    def submit_job(self, context: Context) -> str:
        """Create the AIMMS task and publish its id before anything else can fail."""
        # Check the schedule here too, to learn when the first run may start.
        schedule = Schedule.from_arguments(
            schedule_for=self.schedule_for,
            schedule_in=self.schedule_in,
            schedule_interval=self.schedule_interval,
        )
        task = self.hook.create_task(
            self.app_name,
            self.service_name,
            self.payload,
            app_version=self.app_version,
            content_type=self.content_type,
            schedule_for=schedule.schedule_for,
            schedule_in=schedule.schedule_in.text if schedule.schedule_in else None,
            schedule_interval=schedule.schedule_interval.text if schedule.schedule_interval else None,
            state_hook_url=self.state_hook_url,
        )
        first_start = schedule.first_start(task.created_at or pendulum.now("UTC"))
        self._first_start = first_start.timestamp() if first_start else None
        self._aimms_task_id = task.id
        self._remember_task(context, task.id)
        return task.id

    def get_job_status(self, external_id: Any, context: Context) -> str:
        """Return the state of the previous try's AIMMS task."""
        return self.hook.get_task(str(external_id), self._group_to_wait_for).state

    def is_job_active(self, status: str) -> bool:
        """Whether the previous try's task may still finish; an unknown state counts as active."""
        state = parse_state(status)
        return state is None or state in ACTIVE_STATES

    def is_job_succeeded(self, status: str) -> bool:
        """Whether the previous try's task completed."""
        return parse_state(status) == TaskState.COMPLETED

    def poll_until_complete(self, external_id: Any, context: Context) -> Any:
        """Wait for the task: return at once, block on the worker, or defer to the triggerer."""
        aimms_task_id = str(external_id)
        if self._aimms_task_id != aimms_task_id:  # Adopted from an earlier try.
            self.log.info("Adopting AIMMS task %s created by an earlier try", aimms_task_id)
            self._aimms_task_id = aimms_task_id
            self._remember_task(context, aimms_task_id)
        if not self.wait_for_completion:
            return self._finish_without_waiting(aimms_task_id)
        started = time.time()
        wait_from = max(started, self._first_start or started)
        wait_until = None if self.timeout is None else wait_from + self.timeout
        if self.deferrable:
            return self._defer_or_finish(context, aimms_task_id, started, wait_until)
        task = self._wait_on_worker(aimms_task_id, wait_until)
        return self._finish(context, task)

    def get_job_result(self, external_id: Any, context: Context) -> Any:
        """Return the result; for a task that completed in an earlier try, fetch it now."""
        if self._finished:
            return self._result
        aimms_task_id = str(external_id)
        if self._aimms_task_id != aimms_task_id:
            self._aimms_task_id = aimms_task_id
            self._remember_task(context, aimms_task_id)
        return self._finish(context, self.hook.get_task(aimms_task_id, self._group_to_wait_for))

    # -- waiting -----------------------------------------------------------------------------

    def _finish_without_waiting(self, aimms_task_id: str) -> str:
        self._finished, self._result = True, aimms_task_id
        return aimms_task_id

    def _wait_on_worker(self, aimms_task_id: str, wait_until: float | None) -> AimmsTask:
        timeout = None if wait_until is None else max(0.0, wait_until - time.time())
        if self._first_start and self._first_start > time.time():
            self.log.info("AIMMS task %s is scheduled; waiting on the worker until it starts", aimms_task_id)
        return self.hook.wait_for_task(
            aimms_task_id, self._group_to_wait_for, poll_interval=self.poll_interval, timeout=timeout
        )

    def _defer_or_finish(
        self, context: Context, aimms_task_id: str, started: float, wait_until: float | None
    ) -> Any:
        # One look first: a task that already ended needs no trigger.
        task = self.hook.get_task(aimms_task_id, self._group_to_wait_for)
        if task.is_terminal:
            return self._finish(context, task)
        execution_deadline = None
        if self.execution_timeout is not None:
            # execution_timeout counts from the start of this try, as Airflow counts it, not from now.
            try_started = getattr(context["ti"], "start_date", None)
            seconds = self.execution_timeout.total_seconds()
            start = try_started.timestamp() if try_started else started
            execution_deadline = start + seconds - execution_deadline_margin(seconds)
        self.defer(
            trigger=AimmsTaskTrigger(
                aimms_task_id=aimms_task_id,
                aimms_conn_id=self.aimms_conn_id,
                group_index=self._group_to_wait_for,
                poll_interval=self.poll_interval,
                adaptive_polling=self.adaptive_polling,
                wait_until=wait_until,
                execution_deadline=execution_deadline,
                sleep_until=self._first_start,
                interrupt_on_kill=self.interrupt_on_kill,
                interrupt_mode=self.interrupt_mode,
            ),
            method_name="execute_complete",
            # No Airflow-side timeout: the trigger enforces both limits and reports them, so that
            # execute_complete can interrupt the AIMMS task. An Airflow timeout would skip that.
            timeout=None,
        )

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> Any:
        """Finish after the trigger fired: succeed, fail, or interrupt on a deadline."""
        event = validate_trigger_event(event)
        aimms_task_id = str(event.get("aimms_task_id") or self._aimms_task_id)
        self._aimms_task_id = aimms_task_id
        if event["status"] in (TaskState.COMPLETED, TaskState.FAILED) and event.get("task"):
            return self._finish(context, AimmsTask.from_json(event["task"]))
        if event["status"] == "timeout":
            self._on_deadline(aimms_task_id, event.get("deadline"), event.get("message", ""))
        raise AimmsError(str(event.get("message") or f"Waiting for AIMMS task {aimms_task_id} failed"))

    def _on_deadline(self, aimms_task_id: str, deadline: str | None, message: str) -> None:
        if deadline == "execution":
            self.log.error("%s; interrupting it (%s)", message, self.interrupt_mode)
            ended = self._interrupt_best_effort(aimms_task_id, self.interrupt_mode, self._group_to_wait_for)
            state = ended.state if ended else "not confirmed"
            raise AimmsWaitTimeoutError(
                f"AIMMS task {aimms_task_id} ran past execution_timeout and was interrupted (state: {state})"
            )
        raise AimmsWaitTimeoutError(f"{message}. The AIMMS task {aimms_task_id} was left running.")

    # -- results -----------------------------------------------------------------------------

    def _finish(self, context: Context, task: AimmsTask) -> str:
        """Fail for a failed task or an unaccepted return code; otherwise publish the response."""
        self._finished = True
        group_index = task.group_index if self.schedule_interval else None
        if (error := outcome_error(task, self.success_return_codes)) is not None:
            self._log_failure_details(task.id, group_index, self.log_tail_lines)
            raise error
        self.log.info("AIMMS task %s completed (return code %s)", task.id, task.return_code)
        if self.fetch_response:
            publish_response(
                self, context, task.id, group_index, self.response_path, self.max_xcom_response_bytes
            )
        self._result = task.id
        return task.id

    def on_kill(self) -> None:
        """Interrupt the AIMMS task when the Airflow task is killed while waiting on a worker."""
        if self._aimms_task_id and self.interrupt_on_kill and not self._finished:
            self.log.info("Airflow task killed; interrupting AIMMS task %s", self._aimms_task_id)
            self._interrupt_best_effort(self._aimms_task_id, self.interrupt_mode, self._group_to_wait_for)


def publish_response(
    operator: _AimmsTaskOperatorMixin,
    context: Context,
    aimms_task_id: str,
    group_index: int | None,
    response_path: str | None,
    max_xcom_bytes: int,
) -> Any:
    """Fetch a task's response into XCom ``response``, or into ``response_path``; return what was pushed."""
    hook, ti = operator.hook, context["ti"]
    try:
        response = hook.get_task_response(aimms_task_id, group_index)
    except AimmsNotFoundError:
        operator.log.warning("AIMMS task %s has no response", aimms_task_id)
        return None
    if response_path:
        path = Path(response_path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(response.content)
        operator.log.info(
            "Wrote the %d-byte response of AIMMS task %s to %s", len(response.content), aimms_task_id, path
        )
        ti.xcom_push(key=RESPONSE_PATH_XCOM_KEY, value=str(path))
        return str(path)
    if len(response.content) > max_xcom_bytes:
        raise AimmsResponseTooLargeError(
            f"The response of AIMMS task {aimms_task_id} is {len(response.content)} bytes, more than "
            f"max_xcom_response_bytes ({max_xcom_bytes}). Set response_path to write it to a file instead"
        )
    try:
        decoded = response.decoded()
    except ValueError as err:
        raise AimmsResponseTooLargeError(str(err)) from None
    ti.xcom_push(key=RESPONSE_XCOM_KEY, value=decoded)
    return decoded


class AimmsInterruptTaskOperator(_AimmsTaskOperatorMixin, BaseOperator):
    """
    Interrupt an AIMMS task, and optionally wait until it has ended.

    AIMMS interrupts only a task that has started; one still queued (e.g. waiting for its scheduled
    start) is refused, so delete that with :class:`AimmsDeleteTaskOperator` instead.

    :param aimms_task_id: the task to interrupt. Templated.
    :param mode: ``interrupt-execution`` (the task ends ``failed``) or ``interrupt-solve`` (it stops
        solving and ends ``completed``).
    :param group_index: the run of a recurring task; ``None`` means the last run.
    :param wait_for_termination: wait until the task has ended.
    :param poll_interval: seconds between polls while waiting.
    :param timeout: the longest wait, in seconds or as a timedelta.
    :param aimms_conn_id: the Airflow connection of the AIMMS account.
    """

    template_fields: Sequence[str] = ("aimms_task_id", "group_index", "aimms_conn_id")
    operator_extra_links = (AimmsTaskLink(),)

    def __init__(
        self,
        *,
        aimms_task_id: str,
        mode: str = InterruptMode.EXECUTION.value,
        group_index: int | None = None,
        wait_for_termination: bool = True,
        poll_interval: float = 5.0,
        timeout: dt.timedelta | float | None = 300.0,
        aimms_conn_id: str = AimmsHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.aimms_task_id = aimms_task_id
        self.mode = check_interrupt_mode(mode).value
        self.group_index = group_index
        self.wait_for_termination = wait_for_termination
        self.poll_interval = seconds(poll_interval, "poll_interval")
        self.timeout = optional_seconds(timeout, "timeout")
        self.aimms_conn_id = aimms_conn_id

    def execute(self, context: Context) -> str:
        """Send the interrupt; return the task's state (its end state when waiting)."""
        group_index = rendered_group_index(self.group_index)
        self._remember_task(context, self.aimms_task_id)
        self.hook.interrupt_task(self.aimms_task_id, self.mode, group_index)
        if not self.wait_for_termination:
            return self.hook.get_task(self.aimms_task_id, group_index).state
        task = self.hook.wait_for_task(
            self.aimms_task_id, group_index, poll_interval=self.poll_interval, timeout=self.timeout
        )
        self.log.info("AIMMS task %s ended %s after the interrupt", task.id, task.state)
        return task.state


class AimmsDeleteTaskOperator(_AimmsTaskOperatorMixin, BaseOperator):
    """
    Delete an AIMMS task, or one run of a recurring task.

    Without ``group_index`` AIMMS deletes the last run, which also **stops a recurring task**. AIMMS
    deletes only tasks that are queued or have ended; interrupt a running task first.

    :param aimms_task_id: the task to delete. Templated.
    :param group_index: the run to delete; ``None`` deletes the last run and stops the recurrence.
    :param missing_ok: succeed when the task is already gone; ``False`` fails instead.
    :param aimms_conn_id: the Airflow connection of the AIMMS account.
    """

    template_fields: Sequence[str] = ("aimms_task_id", "group_index", "aimms_conn_id")

    def __init__(
        self,
        *,
        aimms_task_id: str,
        group_index: int | None = None,
        missing_ok: bool = True,
        aimms_conn_id: str = AimmsHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.aimms_task_id = aimms_task_id
        self.group_index = group_index
        self.missing_ok = missing_ok
        self.aimms_conn_id = aimms_conn_id

    def execute(self, context: Context) -> bool:
        """Delete the task; return whether it existed."""
        try:
            self.hook.delete_task(self.aimms_task_id, rendered_group_index(self.group_index))
        except AimmsNotFoundError:
            if not self.missing_ok:
                raise
            self.log.info("AIMMS task %s was already gone", self.aimms_task_id)
            return False
        return True


class AimmsGetTaskResponseOperator(_AimmsTaskOperatorMixin, BaseOperator):
    """
    Fetch the response of an existing AIMMS task into XCom ``response``, or into a file.

    :param aimms_task_id: the finished task. Templated.
    :param group_index: the run of a recurring task; ``None`` means the last run.
    :param response_path: write the raw bytes to this file instead of XCom. Templated.
    :param max_xcom_response_bytes: larger responses fail with a hint to use ``response_path``.
    :param aimms_conn_id: the Airflow connection of the AIMMS account.
    """

    template_fields: Sequence[str] = ("aimms_task_id", "group_index", "response_path", "aimms_conn_id")

    def __init__(
        self,
        *,
        aimms_task_id: str,
        group_index: int | None = None,
        response_path: str | None = None,
        max_xcom_response_bytes: int = DEFAULT_MAX_XCOM_RESPONSE_BYTES,
        aimms_conn_id: str = AimmsHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.aimms_task_id = aimms_task_id
        self.group_index = group_index
        self.response_path = response_path
        self.max_xcom_response_bytes = max_xcom_response_bytes
        self.aimms_conn_id = aimms_conn_id

    def execute(self, context: Context) -> Any:
        """Fetch the response; return the decoded payload, or the file path."""
        group_index = rendered_group_index(self.group_index)
        result = publish_response(
            self, context, self.aimms_task_id, group_index, self.response_path, self.max_xcom_response_bytes
        )
        if result is None:
            raise AimmsApiError(f"AIMMS task {self.aimms_task_id} has no response")
        return result
