"""
The task store: every task and run, the FIFO queue and the state machine, in emulated time.

Tasks move on only when :meth:`TaskStore.sync` runs; the app calls it on every request and a background
ticker calls it every few milliseconds. Each call replays, in time order, every transition that fell due
since the last one, so timestamps do not depend on how often the ticker runs. Between two planned
instants nothing can change, so a sync before the next one returns at once instead of walking every live
run (with 5000 live tasks that walk cost about 20 ms per request).
"""

from __future__ import annotations

import itertools
import logging
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from airflow_provider_aimms.emulator.errors import ApiError
from airflow_provider_aimms.emulator.services import Handler, Outcome, Service, ServiceContext, run_handler
from airflow_provider_aimms.emulator.timefmt import format_timestamp

if TYPE_CHECKING:
    from airflow_provider_aimms.emulator.clock import EmulatorClock
    from airflow_provider_aimms.emulator.config import ApiKey, AppVersion, EmulatorConfig
    from airflow_provider_aimms.emulator.schedule import Interval

log = logging.getLogger(__name__)

ACTIVE_STATES = frozenset({"assigned", "running", "solving"})
TERMINAL_STATES = frozenset({"completed", "failed"})
INTERRUPT_KINDS = ("interrupt-solve", "interrupt-execution")
INTERRUPTED_MESSAGE = "Task execution was interrupted (interrupt-execution)."

# Called with (task id, new state, hook url) on every state change; must not block.
StateListener = Callable[[str, str, str], None]
Authorize = Callable[[str], None]


@dataclass
class TaskRun:
    """One run of a task: a plain task has one, a recurring task one per ``groupIndex``."""

    task_id: str
    group_index: int | None
    app_name: str
    app_version: str
    service_name: str
    created_at: float
    eligible_at: float
    schedule_for: float | None
    schedule_interval: str | None
    user_name: str
    user_environment: str
    sequence: int
    state: str = "queued"
    assigned_at: float | None = None
    running_at: float | None = None
    ended_at: float | None = None
    return_code: int | None = None
    error_message: str | None = None
    session_id: str | None = None
    response: bytes | None = None
    response_filename: str | None = None
    logs: list[tuple[float, str]] = field(default_factory=list)
    deleted_at: float | None = None
    # Internal progress: pending (step, instant) transitions, the service's result, and flags.
    plan: list[tuple[str, float]] = field(default_factory=list)
    dispatched: bool = False
    waiting: bool = False
    solve_interrupted: bool = False
    result: Future[Outcome] | None = None

    @property
    def deleted(self) -> bool:
        """Tell whether the run was deleted through the API."""
        return self.deleted_at is not None

    @property
    def finished(self) -> bool:
        """Tell whether the run reached ``completed`` or ``failed``."""
        return self.state in TERMINAL_STATES

    def to_json(self) -> dict[str, Any]:
        """Return the Task object of the API, every key present and ``null`` where unset."""
        queue_time = self.running_at - self.created_at if self.running_at is not None else None
        run_time = (
            self.ended_at - self.running_at
            if self.ended_at is not None and self.running_at is not None
            else None
        )
        return {
            "id": self.task_id,
            "groupIndex": self.group_index,
            "appName": self.app_name,
            "appVersion": self.app_version,
            "serviceName": self.service_name,
            "state": self.state,
            "scheduleFor": format_timestamp(self.schedule_for),
            "scheduleInterval": self.schedule_interval,
            "createdAt": format_timestamp(self.created_at),
            "assignedAt": format_timestamp(self.assigned_at),
            "runningAt": format_timestamp(self.running_at),
            "endedAt": format_timestamp(self.ended_at),
            "queueTime": None if queue_time is None else round(queue_time, 6),
            "runTime": None if run_time is None else round(run_time, 6),
            "returnCode": self.return_code,
            "errorMessage": self.error_message,
            "sessionId": self.session_id,
            "userName": self.user_name,
            "userEnvironment": self.user_environment,
        }


@dataclass
class TaskGroup:
    """A created task: its request and every run made from it (one unless it recurs)."""

    task_id: str
    app: AppVersion
    service_name: str
    service: Service
    body: bytes
    content_type: str | None
    owner: ApiKey
    interval: Interval | None
    hook_url: str | None
    runs: list[TaskRun] = field(default_factory=list)
    recurring: bool = False

    def run_at(self, group_index: int | None) -> TaskRun | None:
        """Return the run with this index, or the last one not deleted when the index is None."""
        if group_index is None:
            return next((run for run in reversed(self.runs) if not run.deleted), None)
        # A plain task has a single run; index 0 names it too.
        position = group_index
        if 0 <= position < len(self.runs) and not self.runs[position].deleted:
            return self.runs[position]
        return None


class TaskStore:
    """Hold every task and drive the state machine ``queued → assigned → running ⇄ solving → end``."""

    def __init__(
        self, config: EmulatorConfig, clock: EmulatorClock, listener: StateListener | None = None
    ) -> None:
        self.config = config
        self.clock = clock
        self._listener = listener
        self._lock = threading.RLock()
        self._groups: dict[str, TaskGroup] = {}
        self._runs: list[TaskRun] = []
        self._live: list[TaskRun] = []
        self._cursor = clock.now()
        # No transition can fall due before this emulated instant; -inf means "look". Every command resets
        # it, since a create, interrupt or delete plans new transitions.
        self._quiet_until = float("-inf")
        self._sequence = itertools.count(1)
        self._executor = ThreadPoolExecutor(
            max_workers=config.parallelism, thread_name_prefix="aimms-emulator-service"
        )

    def close(self) -> None:
        """Stop the service workers; a handler still computing is abandoned."""
        self._executor.shutdown(wait=False, cancel_futures=True)

    def reset(self) -> None:
        """Forget every task and run."""
        with self._lock:
            self._groups.clear()
            self._runs.clear()
            self._live.clear()
            self._quiet_until = float("-inf")

    # ----------------------------------------------------------------------------------------- queries

    def sync(self) -> float:
        """Apply every transition due by now and return the emulated instant it reached."""
        now = self.clock.now()
        if now < self._quiet_until:
            return now
        with self._lock:
            self._advance(now)
            self._quiet_until = self._next_change()
        return now

    def _next_change(self) -> float:
        # A service still computing may finish at any moment, so such a run keeps every sync looking.
        if any(run.waiting for run in self._live):
            return float("-inf")
        due = self._next_event()
        return float("inf") if due is None else due

    def group(self, task_id: str, authorize: Authorize) -> TaskGroup:
        """Return a task's group, or raise 404; ``authorize`` gets the app name and may raise 403."""
        with self._lock:
            group = self._groups.get(task_id)
            if group is None or group.run_at(None) is None:
                raise ApiError(404, f"Task {task_id} not found.")
            authorize(group.app.name)
            return group

    def run(self, task_id: str, group_index: int | None, authorize: Authorize) -> tuple[TaskGroup, TaskRun]:
        """Return a task's group and the run a ``groupIndex`` names (default: the last), or raise 404."""
        with self._lock:
            group = self.group(task_id, authorize)
            run = group.run_at(group_index)
            if run is None:
                raise ApiError(404, f"Task {task_id} has no run with groupIndex {group_index}.")
            return group, run

    def task_json(self, run: TaskRun) -> dict[str, Any]:
        """Render a run consistently with concurrent transitions."""
        with self._lock:
            return run.to_json()

    def runs(
        self, predicate: Callable[[TaskRun], bool] | None = None, *, deleted: bool = False
    ) -> list[TaskRun]:
        """Return runs newest first, optionally including deleted ones."""
        with self._lock:
            chosen = [
                run
                for run in self._runs
                if (deleted or not run.deleted) and (predicate is None or predicate(run))
            ]
        return sorted(chosen, key=lambda run: (run.created_at, run.sequence), reverse=True)

    def logs(self, run: TaskRun) -> list[tuple[float, str]]:
        """Return a copy of a run's log lines."""
        with self._lock:
            return list(run.logs)

    def group_of(self, run: TaskRun) -> TaskGroup:
        """Return the group a run belongs to."""
        with self._lock:
            return self._groups[run.task_id]

    # --------------------------------------------------------------------------------------- commands

    def create(
        self,
        *,
        owner: ApiKey,
        app: AppVersion,
        service_name: str,
        body: bytes,
        content_type: str | None,
        schedule_for: float | None = None,
        schedule_in: Interval | None = None,
        interval: Interval | None = None,
        hook_url: str | None = None,
    ) -> TaskRun:
        """
        Queue a new task (its first run) and return that run.

        ``schedule_in`` counts from the creation instant, so ``scheduleFor - createdAt`` is exactly it.
        """
        service = app.services[service_name]
        with self._lock:
            self._quiet_until = float("-inf")
            now = self.clock.now()
            self._advance(now)
            task_id = str(uuid.uuid4())
            if schedule_in is not None:
                schedule_for = schedule_in.after(now)
            group = TaskGroup(
                task_id, app, service_name, service, body, content_type, owner, interval, hook_url,
                recurring=interval is not None,
            )  # fmt: skip
            self._groups[task_id] = group
            if interval is not None and schedule_for is None:
                # A recurring group needs an anchor for "one interval after the previous schedule".
                schedule_for = now
            run = self._new_run(group, now, schedule_for)
            self._advance(now)
            return run

    def interrupt(self, group: TaskGroup, run: TaskRun, kind: str) -> None:
        """Interrupt a run: ``interrupt-solve`` cuts the solve short, ``interrupt-execution`` fails it."""
        if kind not in INTERRUPT_KINDS:
            raise ApiError(
                405, f"Invalid setstatus {kind!r}; expected 'interrupt-solve' or 'interrupt-execution'."
            )
        with self._lock:
            self._quiet_until = float("-inf")
            now = self.clock.now()
            self._advance(now)
            if run.finished:
                return
            if run.state == "queued":
                raise ApiError(
                    405, f"Task {run.task_id} is queued and cannot be interrupted; delete it instead."
                )
            if kind == "interrupt-execution":
                self._log(run, now, "Execution interrupted on request (interrupt-execution).")
                if run.result is not None:
                    run.result.cancel()
                self._finish(group, run, Outcome("failed", None, INTERRUPTED_MESSAGE), now)
                self._advance(now)
                return
            self._interrupt_solve(group, run, now)

    def delete(self, group: TaskGroup, run: TaskRun) -> None:
        """Delete a queued or finished run; deleting the group's last run stops its recurrence."""
        with self._lock:
            self._quiet_until = float("-inf")
            now = self.clock.now()
            self._advance(now)
            if run.state in ACTIVE_STATES:
                raise ApiError(
                    405, f"Task {run.task_id} is {run.state} and cannot be deleted; interrupt it first."
                )
            run.deleted_at = now
            if run in self._live:
                self._live.remove(run)
            if run is group.runs[-1]:
                group.recurring = False
            self._advance(now)

    def all_runs(self) -> list[tuple[TaskRun, TaskGroup]]:
        """Return every run ever created, deleted or not, in creation order (for the admin API)."""
        with self._lock:
            return [(run, self._groups[run.task_id]) for run in self._runs]

    # ------------------------------------------------------------------------------------- internals

    def _new_run(self, group: TaskGroup, created_at: float, schedule_for: float | None) -> TaskRun:
        recurring = group.interval is not None
        run = TaskRun(
            task_id=group.task_id,
            group_index=len(group.runs) if recurring else None,
            app_name=group.app.name,
            app_version=group.app.version,
            service_name=group.service_name,
            created_at=created_at,
            eligible_at=max(created_at, schedule_for) if schedule_for is not None else created_at,
            schedule_for=schedule_for,
            schedule_interval=group.interval.text if group.interval is not None else None,
            user_name=group.owner.user_name,
            user_environment=group.owner.user_environment,
            sequence=next(self._sequence),
        )
        group.runs.append(run)
        self._runs.append(run)
        self._live.append(run)
        self._log(run, created_at, f"Task queued for service {group.service_name} of {group.app.name} "
                                   f"{group.app.version}.")  # fmt: skip
        self._notify(group, run)
        return run

    def _advance(self, now: float) -> None:
        while True:
            self._release_waiting()
            self._dispatch(self._cursor)
            due = self._next_event()
            if due is None or due > now:
                break
            self._cursor = max(self._cursor, due)
            self._fire(self._cursor)
        self._cursor = max(self._cursor, now)
        self._dispatch(self._cursor)

    def _release_waiting(self) -> None:
        # A run whose service is still computing ends at the first sync after the result is ready.
        for run in self._live:
            if run.waiting and run.result is not None and run.result.done():
                run.waiting = False
                run.plan[0] = ("end", self._cursor)

    def _next_event(self) -> float | None:
        instants = [run.plan[0][1] for run in self._live if run.plan and not run.waiting]
        instants += [
            run.eligible_at for run in self._live if not run.dispatched and run.eligible_at > self._cursor
        ]
        return min(instants, default=None)

    def _dispatch(self, instant: float) -> None:
        for group in self._groups.values():
            while group.recurring and group.runs[-1].eligible_at <= instant:
                previous = group.runs[-1]
                assert group.interval is not None
                assert previous.schedule_for is not None
                upcoming = group.interval.after(previous.schedule_for)
                # An anchor in the past would make every missed occurrence due at once; skip them instead.
                while upcoming <= previous.eligible_at:
                    upcoming = group.interval.after(upcoming)
                self._new_run(group, previous.eligible_at, upcoming)

        busy = sum(1 for run in self._live if run.dispatched)
        free = self.config.parallelism - busy
        if free <= 0:
            return
        ready = sorted(
            (run for run in self._live if not run.dispatched and run.eligible_at <= instant),
            key=lambda run: (run.eligible_at, run.sequence),
        )
        for run in ready[:free]:
            run.dispatched = True
            run.plan = self._plan(self._groups[run.task_id].service, instant)

    @staticmethod
    def _plan(service: Service, start: float) -> list[tuple[str, float]]:
        timings = service.timings
        at = start + timings.queue_to_assigned
        plan = [("assigned", at)]
        at += timings.assigned_to_running
        plan.append(("running", at))
        if timings.solving > 0:
            at += timings.running_to_solving
            plan.append(("solving", at))
            at += timings.solving
            plan.append(("solved", at))
            at += timings.solving_to_end
        else:
            at += timings.running_to_solving + timings.solving_to_end
        plan.append(("end", at))
        return plan

    def _fire(self, instant: float) -> None:
        due = sorted(
            (run for run in self._live if run.plan and not run.waiting and run.plan[0][1] <= instant),
            key=lambda run: (run.plan[0][1], run.sequence),
        )
        for run in due:
            step, at = run.plan[0]
            group = self._groups[run.task_id]
            if step == "end":
                if run.result is not None and not run.result.done():
                    run.waiting = True
                    continue
                run.plan.pop(0)
                outcome = run.result.result() if run.result is not None else Outcome("completed", 1)
                self._finish(group, run, outcome, at)
                continue
            run.plan.pop(0)
            self._enter(group, run, step, at)

    def _enter(self, group: TaskGroup, run: TaskRun, step: str, at: float) -> None:
        if step == "assigned":
            run.state, run.assigned_at = "assigned", at
            run.session_id = str(uuid.uuid4())
            self._log(run, at, f"Assigned to REST session {run.session_id}.")
        elif step == "running":
            run.state, run.running_at = "running", at
            self._log(run, at, f"Running procedure of service {run.service_name}.")
            handler = group.service.handler
            if run.solve_interrupted and group.service.on_interrupt_solve is not None:
                handler = group.service.on_interrupt_solve
            run.result = self._start(group, run, handler)
        elif step == "solving":
            run.state = "solving"
            self._log(run, at, "Solve started.")
        else:
            run.state = "running"
            self._log(run, at, "Solve finished.")
        self._notify(group, run)

    def _start(self, group: TaskGroup, run: TaskRun, handler: Handler) -> Future[Outcome]:
        context = ServiceContext(
            payload=group.body,
            content_type=group.content_type,
            task_id=run.task_id,
            group_index=run.group_index,
            app_name=run.app_name,
            app_version=run.app_version,
            service_name=run.service_name,
            logger=lambda message: self._log_now(run, message),
        )
        return self._executor.submit(run_handler, handler, context)

    def _interrupt_solve(self, group: TaskGroup, run: TaskRun, now: float) -> None:
        steps = [step for step, _ in run.plan]
        if run.state != "solving" and "solving" not in steps:
            self._log(run, now, "interrupt-solve received, but no solve is in progress or to come.")
            return
        self._log(run, now, "Solve interrupted on request (interrupt-solve).")
        run.solve_interrupted = True
        kept = [(step, at) for step, at in run.plan if step in ("assigned", "running")]
        resume = max([now, *(at for _, at in kept)])
        if run.state == "solving":
            kept.append(("solved", now))
        run.plan = [*kept, ("end", resume + group.service.timings.solving_to_end)]
        if run.result is not None and group.service.on_interrupt_solve is not None:
            run.result.cancel()
            run.result = self._start(group, run, group.service.on_interrupt_solve)
        self._advance(now)

    def _finish(self, group: TaskGroup, run: TaskRun, outcome: Outcome, at: float) -> None:
        run.plan = []
        run.waiting = False
        run.state, run.ended_at = outcome.state, at
        run.return_code, run.error_message = outcome.return_code, outcome.error_message
        run.response, run.response_filename = outcome.response, outcome.response_filename
        if run in self._live:
            self._live.remove(run)
        if outcome.state == "completed":
            self._log(run, at, f"Task completed with return code {outcome.return_code}.")
        else:
            self._log(run, at, f"Task failed: {outcome.error_message}")
        log.info("AIMMS emulator task %s (groupIndex %s) ended %s", run.task_id, run.group_index, run.state)
        self._notify(group, run)

    def _log(self, run: TaskRun, at: float, message: str) -> None:
        run.logs.append((at, message))

    def _log_now(self, run: TaskRun, message: str) -> None:
        with self._lock:
            # A service logs from a worker thread while emulated time may have jumped ahead: keep its lines
            # between the run's latest line and its planned end, so the log reads in order.
            at = max(self.clock.now(), run.logs[-1][0] if run.logs else 0.0)
            planned_end = next((instant for step, instant in run.plan if step == "end"), None)
            if planned_end is not None:
                at = max(min(at, planned_end), run.logs[-1][0] if run.logs else 0.0)
            run.logs.append((at, message))

    def _notify(self, group: TaskGroup, run: TaskRun) -> None:
        if self._listener is not None and group.hook_url:
            self._listener(run.task_id, run.state, group.hook_url)
