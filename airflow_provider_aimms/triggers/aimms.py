"""The trigger that waits for an AIMMS task in the triggerer, so that a long solve holds no worker slot."""

from __future__ import annotations

import asyncio
import random
import time
from typing import TYPE_CHECKING, Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_aimms.exceptions import (
    AimmsApiError,
    AimmsAuthenticationError,
    AimmsNotFoundError,
    AimmsParameterError,
)
from airflow_provider_aimms.hooks.aimms import AimmsHook
from airflow_provider_aimms.models import InterruptMode, parse_state

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

#: Event statuses a trigger may send; ``execute_complete`` refuses anything else.
EVENT_STATUSES = frozenset({"completed", "failed", "timeout", "error"})
#: How many polls in a row may fail transiently before the trigger gives up.
DEFAULT_ERROR_BUDGET = 10
#: The first poll interval after a state change, when polling adapts.
DEFAULT_MIN_POLL_INTERVAL = 2.0
#: How much the interval grows per poll while the state holds: 2, 3, 4.5, 6.75, 10 s reaches the default
#: ``poll_interval`` of 10 s after four polls (16 s), so the start of a task is seen within seconds.
BACKOFF_FACTOR = 1.5
#: Each adaptive wait is shortened by up to this fraction at random. Triggers deferred together (a
#: fan-out of 500 mapped tasks) would otherwise poll in lockstep, one burst per interval; the jitter
#: spreads them out within a few intervals. Waits only shrink, so ``poll_interval`` stays the longest.
JITTER_FRACTION = 0.1
#: Wake this long before a scheduled start, so the first state change is seen promptly.
WAKE_MARGIN_SECONDS = 5.0


class PollSchedule:
    """
    The wait between two polls: short just after a state change, then growing towards the maximum.

    A task that has just changed state tends to change again soon (queued, assigned, running follow each
    other within seconds), while a task that has been solving for an hour will likely go on solving.
    With ``adaptive=False`` every wait is exactly ``maximum``.

    :param maximum: the longest wait (the trigger's ``poll_interval``).
    :param minimum: the first wait after a state change; capped at ``maximum``.
    :param adaptive: back off from ``minimum`` to ``maximum``; ``False`` pins every wait to ``maximum``.
    :param rng: the source of the jitter (seed it for a repeatable schedule).
    """

    def __init__(
        self, maximum: float, minimum: float, *, adaptive: bool = True, rng: random.Random | None = None
    ) -> None:
        self.maximum = maximum
        self.minimum = min(minimum, maximum)
        self.adaptive = adaptive
        self.current = self.minimum if adaptive else maximum
        self._rng = rng or random.Random()

    def state_changed(self) -> None:
        """Start again from the shortest wait."""
        if self.adaptive:
            self.current = self.minimum

    def next_wait(self) -> float:
        """Return the wait before the next poll, and lengthen the one after."""
        if not self.adaptive:
            return self.maximum
        wait = self.current * (1.0 - JITTER_FRACTION * self._rng.random())
        self.current = min(self.maximum, self.current * BACKOFF_FACTOR)
        return wait


# What each constructor argument may be. Airflow stores trigger kwargs as JSON in its database; anything
# else would fail there, after the AIMMS task was already created, so it is refused here, before.
_KWARG_TYPES: dict[str, tuple[type, ...]] = {
    "aimms_task_id": (str,),
    "aimms_conn_id": (str,),
    "group_index": (int,),
    "poll_interval": (int, float),
    "min_poll_interval": (int, float),
    "adaptive_polling": (bool,),
    "wait_until": (int, float),
    "execution_deadline": (int, float),
    "sleep_until": (int, float),
    "error_budget": (int,),
    "interrupt_on_kill": (bool,),
    "interrupt_mode": (str,),
}
_OPTIONAL_KWARGS = frozenset({"group_index", "wait_until", "execution_deadline", "sleep_until"})


def _check_kwargs(values: dict[str, Any]) -> None:
    for name, value in values.items():
        if value is None and name in _OPTIONAL_KWARGS:
            continue
        allowed = _KWARG_TYPES[name]
        # bool is an int to Python, but True as a poll interval or run number is a mistake.
        if not isinstance(value, allowed) or (isinstance(value, bool) and bool not in allowed):
            names = " or ".join(kind.__name__ for kind in allowed)
            raise AimmsParameterError(
                name,
                f"{value!r} is a {type(value).__name__}",
                f"Pass a plain {names} (it is stored as JSON).",
            )
    for name in ("group_index", "error_budget"):
        if values[name] is not None and values[name] < 0:
            raise AimmsParameterError(name, f"{values[name]!r} is negative", "Pass an int >= 0.")
    if values["interrupt_mode"] not in {mode.value for mode in InterruptMode}:
        raise AimmsParameterError(
            "interrupt_mode",
            f"{values['interrupt_mode']!r} is not an interrupt mode",
            "Use 'interrupt-execution' or 'interrupt-solve'.",
        )


class AimmsTaskTrigger(BaseTrigger):
    """
    Poll an AIMMS task until it ends, a deadline passes, or polling keeps failing.

    It fires one event, a dict with ``status`` (``completed``, ``failed``, ``timeout`` or ``error``),
    ``aimms_task_id``, ``group_index``, ``message``, ``task`` (the last task JSON seen, if any) and,
    for ``timeout``, ``deadline`` (``wait`` or ``execution``).

    :param aimms_task_id: the AIMMS task to watch.
    :param aimms_conn_id: the Airflow connection of the account.
    :param group_index: the run of a recurring task to watch; ``None`` means the last run.
    :param poll_interval: the longest wait between two polls, in seconds.
    :param min_poll_interval: the first wait after a state change, when ``adaptive_polling``.
    :param adaptive_polling: poll soon after a state change and back off while the state holds;
        ``False`` polls every ``poll_interval`` seconds.
    :param wait_until: epoch seconds after which we stop waiting (``timeout``); the task is left alone.
    :param execution_deadline: epoch seconds of the hard deadline (``execution_timeout``); the operator
        interrupts the task when this event arrives.
    :param sleep_until: epoch seconds of a scheduled start; the trigger sleeps until just before it.
    :param error_budget: polls in a row that may fail transiently before the trigger reports ``error``.
    :param interrupt_on_kill: interrupt the task when a user kills the deferred Airflow task
        (mark failed or success, clear). Airflow 3.3 and later only.
    :param interrupt_mode: ``interrupt-execution`` or ``interrupt-solve``, for ``interrupt_on_kill``.
    """

    def __init__(
        self,
        *,
        aimms_task_id: str,
        aimms_conn_id: str = AimmsHook.default_conn_name,
        group_index: int | None = None,
        poll_interval: float = 10.0,
        min_poll_interval: float = DEFAULT_MIN_POLL_INTERVAL,
        adaptive_polling: bool = True,
        wait_until: float | None = None,
        execution_deadline: float | None = None,
        sleep_until: float | None = None,
        error_budget: int = DEFAULT_ERROR_BUDGET,
        interrupt_on_kill: bool = True,
        interrupt_mode: str = InterruptMode.EXECUTION.value,
    ) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # Airflow's BaseTrigger is not annotated.
        given = {
            "aimms_task_id": aimms_task_id,
            "aimms_conn_id": aimms_conn_id,
            "group_index": group_index,
            "poll_interval": poll_interval,
            "min_poll_interval": min_poll_interval,
            "adaptive_polling": adaptive_polling,
            "wait_until": wait_until,
            "execution_deadline": execution_deadline,
            "sleep_until": sleep_until,
            "error_budget": error_budget,
            "interrupt_on_kill": interrupt_on_kill,
            "interrupt_mode": interrupt_mode,
        }
        _check_kwargs(given)
        # Numbers as floats, so that serialize() gives the same dict whether 5 or 5.0 was passed.
        numbers = ("poll_interval", "min_poll_interval", "wait_until", "execution_deadline", "sleep_until")
        self.kwargs: dict[str, Any] = {
            name: float(value) if name in numbers and value is not None else value
            for name, value in given.items()
        }
        if not aimms_task_id:
            raise AimmsParameterError("aimms_task_id", "it is empty", "Pass the AIMMS task id to watch.")
        if poll_interval <= 0 or min_poll_interval <= 0:
            raise AimmsParameterError(
                "poll_interval", "it is not above zero", "Pass a number of seconds > 0."
            )
        self.aimms_task_id = aimms_task_id
        self.aimms_conn_id = aimms_conn_id
        self.group_index = group_index
        self.poll_interval: float = self.kwargs["poll_interval"]
        self.wait_until: float | None = self.kwargs["wait_until"]
        self.execution_deadline: float | None = self.kwargs["execution_deadline"]
        self.sleep_until: float | None = self.kwargs["sleep_until"]
        self.error_budget = self.kwargs["error_budget"]
        self.schedule = PollSchedule(
            self.poll_interval, self.kwargs["min_poll_interval"], adaptive=self.kwargs["adaptive_polling"]
        )

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """Return the class path and the plain-JSON kwargs that rebuild this trigger."""
        return f"{type(self).__module__}.{type(self).__qualname__}", dict(self.kwargs)

    def _hook(self) -> AimmsHook:
        return AimmsHook(self.aimms_conn_id)

    def _event(
        self, status: str, message: str, task: dict[str, Any] | None = None, **extra: Any
    ) -> TriggerEvent:
        return TriggerEvent(  # type: ignore[no-untyped-call]  # Airflow's TriggerEvent is not annotated.
            {
                "status": status,
                "aimms_task_id": self.aimms_task_id,
                "group_index": self.group_index,
                "message": message,
                "task": task,
                **extra,
            }
        )

    def _passed_deadline(self, now: float) -> TriggerEvent | None:
        # Wall-clock epoch seconds, not monotonic time: the deadline was set on a worker and is read in a
        # triggerer, maybe on another machine and after a restart.
        if self.execution_deadline is not None and now >= self.execution_deadline:
            return self._event(
                "timeout",
                f"AIMMS task {self.aimms_task_id} passed its execution_timeout",
                deadline="execution",
            )
        if self.wait_until is not None and now >= self.wait_until:
            return self._event(
                "timeout",
                f"Stopped waiting for AIMMS task {self.aimms_task_id}: timeout reached",
                deadline="wait",
            )
        return None

    def _sleep_for(self, wait: float, now: float) -> float:
        # Never sleep past a deadline: wake exactly when it falls due.
        deadlines = [d for d in (self.execution_deadline, self.wait_until) if d is not None]
        return max(0.0, min([wait, *(d - now for d in deadlines)]))

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until the task ends, a deadline passes, or the error budget is spent; fire one event."""
        await self._sleep_through_scheduled_start()
        hook = self._hook()
        async with hook.async_session():
            event = await self._poll_until_done(hook)
        # Yield only after letting go of the shared client: the triggerer may never resume this
        # generator after its event, and a suspended generator would hold the client until collected.
        yield event

    async def _poll_until_done(self, hook: AimmsHook) -> TriggerEvent:
        last_state: str | None = None
        errors_in_a_row = 0
        while True:
            if (event := self._passed_deadline(time.time())) is not None:
                return event
            try:
                task = await hook.aget_task(self.aimms_task_id, self.group_index)
            except (AimmsAuthenticationError, AimmsNotFoundError, AimmsParameterError) as err:
                return self._event("error", str(err))
            except (AimmsApiError, ValueError) as err:
                # Unreachable, overloaded, or an answer garbled on the way (ValueError): each may pass by
                # the next poll, and one blip must not fail a solve that runs for hours.
                errors_in_a_row += 1
                if errors_in_a_row > self.error_budget:
                    return self._event(
                        "error",
                        f"Gave up on AIMMS task {self.aimms_task_id} after {errors_in_a_row} failed polls "
                        f"in a row; the last error: {err}",
                    )
                self.log.warning(
                    "Poll %d of %d allowed in a row failed for AIMMS task %s: %s",
                    errors_in_a_row,
                    self.error_budget,
                    self.aimms_task_id,
                    err,
                )
            else:
                errors_in_a_row = 0
                if task.state != last_state:
                    self._log_state(task.state)
                    last_state = task.state
                    self.schedule.state_changed()
                if task.is_terminal:
                    return self._event(task.state, _describe_end(task.raw), task.raw)
            await asyncio.sleep(self._sleep_for(self.schedule.next_wait(), time.time()))

    def _log_state(self, state: str) -> None:
        if parse_state(state) is None:
            self.log.warning("AIMMS task %s reports unknown state %r; polling on", self.aimms_task_id, state)
        else:
            self.log.info("AIMMS task %s is %s", self.aimms_task_id, state)

    async def _sleep_through_scheduled_start(self) -> None:
        if self.sleep_until is None:
            return
        wake = self.sleep_until - WAKE_MARGIN_SECONDS
        now = time.time()
        if wake > now:
            self.log.info(
                "AIMMS task %s is scheduled; sleeping %.0f s until shortly before its start",
                self.aimms_task_id,
                wake - now,
            )
            await asyncio.sleep(self._sleep_for(wake - now, now))

    async def on_kill(self) -> None:
        """Interrupt the AIMMS task when a user kills the deferred task (Airflow 3.3+ calls this)."""
        if not self.kwargs["interrupt_on_kill"]:
            return
        try:
            await self._hook().ainterrupt_task(
                self.aimms_task_id, self.kwargs["interrupt_mode"], self.group_index
            )
        except Exception as err:  # Best effort: a failed interrupt must not hide the user's kill.
            self.log.warning("Could not interrupt AIMMS task %s on kill: %s", self.aimms_task_id, err)


def _describe_end(task: dict[str, Any]) -> str:
    message = f"AIMMS task {task.get('id')} ended {task.get('state')} (return code {task.get('returnCode')})"
    if task.get("errorMessage"):
        message += f": {task['errorMessage']}"
    return message
