"""Typed views of what the Tasks API returns: states, tasks, pages and responses."""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import pendulum

log = logging.getLogger(__name__)


class TaskState(StrEnum):
    """The states of an AIMMS task, as the Tasks v2 API spells them."""

    QUEUED = "queued"
    ASSIGNED = "assigned"
    RUNNING = "running"
    SOLVING = "solving"
    COMPLETED = "completed"
    FAILED = "failed"


#: A task in one of these states will not change again.
TERMINAL_STATES: frozenset[TaskState] = frozenset({TaskState.COMPLETED, TaskState.FAILED})
#: The subset of :data:`TERMINAL_STATES` that means the task did not finish normally.
FAILED_STATES: frozenset[TaskState] = frozenset({TaskState.FAILED})
#: States in which the task holds (or waits for) an AIMMS session and can be interrupted.
ACTIVE_STATES: frozenset[TaskState] = frozenset(
    {TaskState.QUEUED, TaskState.ASSIGNED, TaskState.RUNNING, TaskState.SOLVING}
)


class InterruptMode(StrEnum):
    """How to interrupt a task: the ``setstatus`` values of ``PUT /tasks/{id}``."""

    #: Stop the solves in progress; the procedure goes on and the task ends ``completed``.
    SOLVE = "interrupt-solve"
    #: Stop the procedure itself; the task ends ``failed``.
    EXECUTION = "interrupt-execution"


def parse_state(raw: object) -> TaskState | None:
    """Return the known state for ``raw``, or ``None`` for a state this provider does not know yet."""
    try:
        return TaskState(str(raw).lower())
    except ValueError:
        return None


# AIMMS writes a space before the zone offset (``2026-12-03 17:00:00.000 +02:00``); ISO 8601 does not.
_AIMMS_OFFSET_GAP = re.compile(r"\s+([+-]\d{2}:?\d{2})$")


def parse_timestamp(value: object) -> pendulum.DateTime | None:
    """
    Parse an AIMMS timestamp as UTC.

    AIMMS writes ``2023-11-23 15:16:38.000000`` (no zone, meaning UTC); older builds wrote ISO 8601
    with ``T`` and ``Z``. Both parse here, as does anything else ISO 8601.
    """
    if value is None or value == "":
        return None
    parsed = pendulum.parse(_AIMMS_OFFSET_GAP.sub(r"\1", str(value).strip()), tz="UTC")
    if not isinstance(parsed, pendulum.DateTime):
        raise ValueError(f"{value!r} is not a timestamp")
    return parsed.in_timezone("UTC")


# Task JSON keys that map to named attributes; everything else is kept in ``AimmsTask.extra``.
_KNOWN_FIELDS = (
    "id",
    "groupIndex",
    "appName",
    "appVersion",
    "serviceName",
    "state",
    "scheduleFor",
    "scheduleInterval",
    "createdAt",
    "assignedAt",
    "runningAt",
    "endedAt",
    "queueTime",
    "runTime",
    "returnCode",
    "errorMessage",
    "sessionId",
    "userName",
    "userEnvironment",
)


def _optional_int(value: object) -> int | None:
    return None if value is None else int(value)  # type: ignore[call-overload]


def _optional_float(value: object) -> float | None:
    return None if value is None else float(value)  # type: ignore[arg-type]


@dataclass(frozen=True)
class AimmsTask:
    """
    One run of an AIMMS task, as ``GET /tasks/{id}`` describes it.

    ``state`` keeps the raw string so that a state AIMMS adds later survives a round trip;
    ``known_state`` is the enum value, or ``None`` for such a new state. Fields AIMMS adds later are
    kept in ``extra``, and ``raw`` is the JSON object exactly as received.
    """

    id: str
    state: str
    app_name: str | None = None
    app_version: str | None = None
    service_name: str | None = None
    group_index: int | None = None
    schedule_for: str | None = None
    schedule_interval: str | None = None
    created_at: pendulum.DateTime | None = None
    assigned_at: pendulum.DateTime | None = None
    running_at: pendulum.DateTime | None = None
    ended_at: pendulum.DateTime | None = None
    queue_time: float | None = None
    run_time: float | None = None
    return_code: int | None = None
    error_message: str | None = None
    session_id: str | None = None
    user_name: str | None = None
    user_environment: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict, repr=False)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> AimmsTask:
        """Build a task from the JSON object AIMMS returned."""
        if not isinstance(data, dict) or not data.get("id"):
            raise ValueError(f"AIMMS returned a task without an id: {str(data)[:200]}")
        return cls(
            id=str(data["id"]),
            state=str(data.get("state", "")),
            app_name=data.get("appName"),
            app_version=data.get("appVersion"),
            service_name=data.get("serviceName"),
            group_index=_optional_int(data.get("groupIndex")),
            schedule_for=data.get("scheduleFor"),
            schedule_interval=data.get("scheduleInterval"),
            created_at=parse_timestamp(data.get("createdAt")),
            assigned_at=parse_timestamp(data.get("assignedAt")),
            running_at=parse_timestamp(data.get("runningAt")),
            ended_at=parse_timestamp(data.get("endedAt")),
            queue_time=_optional_float(data.get("queueTime")),
            run_time=_optional_float(data.get("runTime")),
            return_code=_optional_int(data.get("returnCode")),
            error_message=data.get("errorMessage"),
            session_id=data.get("sessionId"),
            user_name=data.get("userName"),
            user_environment=data.get("userEnvironment"),
            extra={key: value for key, value in data.items() if key not in _KNOWN_FIELDS},
            raw=dict(data),
        )

    @property
    def known_state(self) -> TaskState | None:
        """The state as an enum member, or ``None`` if AIMMS sent a state this provider does not know."""
        return parse_state(self.state)

    @property
    def is_terminal(self) -> bool:
        """Whether the task has ended; an unknown state counts as not ended."""
        return self.known_state in TERMINAL_STATES

    @property
    def is_failed(self) -> bool:
        """Whether the task ended ``failed``."""
        return self.known_state in FAILED_STATES

    @property
    def scheduled_start(self) -> pendulum.DateTime | None:
        """When a scheduled task may start, if AIMMS told us."""
        if not self.schedule_for:
            return None
        try:
            return parse_timestamp(self.schedule_for)
        except ValueError:
            log.debug("Could not parse scheduleFor %r of AIMMS task %s", self.schedule_for, self.id)
            return None


@dataclass(frozen=True)
class TaskPage:
    """One page of ``GET /tasks``: the total that matches the filters, and this page's tasks."""

    total: int
    tasks: list[AimmsTask]


@dataclass(frozen=True)
class TaskResponse:
    """The raw response payload of a finished task, with the content type AIMMS gave it."""

    content: bytes
    content_type: str

    @property
    def is_json(self) -> bool:
        """Whether AIMMS labelled the payload as JSON."""
        media_type = self.content_type.split(";", 1)[0].strip().lower()
        return media_type == "application/json" or media_type.endswith("+json")

    def json(self) -> Any:
        """Decode the payload as JSON, whatever its label; raise ``ValueError`` if it is not JSON."""
        return json.loads(self.content)

    def decoded(self) -> Any:
        """
        Decode the payload for XCom: JSON where it parses as JSON, otherwise UTF-8 text.

        A payload labelled ``application/octet-stream`` is still tried as JSON, because AIMMS labels a
        response by its file name and many models keep the default ``.response`` name.
        """
        try:
            return self.json()
        except ValueError:
            pass
        try:
            return self.content.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(
                f"The response is binary ({self.content_type}, {len(self.content)} bytes); "
                "write it to a file with `response_path` instead of decoding it"
            ) from err
