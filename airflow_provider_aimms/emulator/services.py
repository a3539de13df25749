"""Services an emulated app exposes: Python callables or declarative outcomes, plus their timings."""

from __future__ import annotations

import json
import mimetypes
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

# AIMMS names the response file ``<request>.response`` unless the model renames it; that extension maps to
# no mime type, so such a response is served as application/octet-stream, as on PRO.
DEFAULT_BINARY_FILENAME = "request.response"
DEFAULT_JSON_FILENAME = "response.json"
DEFAULT_TEXT_FILENAME = "response.txt"

# Checked before :mod:`mimetypes`, whose table differs between hosts.
_KNOWN_TYPES = {
    ".json": "application/json",
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".xml": "application/xml",
    ".zip": "application/zip",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".parquet": "application/vnd.apache.parquet",
    ".bin": "application/octet-stream",
}


def content_type_for(filename: str) -> str:
    """Derive the Content-Type of a response file from its extension, as PRO does."""
    dot = filename.rfind(".")
    extension = filename[dot:].lower() if dot >= 0 else ""
    if extension in _KNOWN_TYPES:
        return _KNOWN_TYPES[extension]
    guessed, _ = mimetypes.guess_type("x" + extension) if extension else (None, None)
    return guessed or "application/octet-stream"


def extension_for(content_type: str | None) -> str:
    """Pick a file extension for a Content-Type, so that :func:`content_type_for` gives it back."""
    base = (content_type or "").split(";")[0].strip().lower()
    for extension, known in _KNOWN_TYPES.items():
        if known == base:
            return extension
    return (mimetypes.guess_extension(base) if base else None) or ".bin"


@dataclass(frozen=True)
class PhaseTimings:
    """
    Emulated seconds a task spends in each phase.

    ``queue_to_assigned`` counts from the moment a parallelism slot is free, not from creation. A
    ``solving`` of zero skips the ``solving`` state altogether.
    """

    queue_to_assigned: float = 0.05
    assigned_to_running: float = 0.05
    running_to_solving: float = 0.05
    solving: float = 0.2
    solving_to_end: float = 0.05

    def __post_init__(self) -> None:
        for name in (
            "queue_to_assigned",
            "assigned_to_running",
            "running_to_solving",
            "solving",
            "solving_to_end",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"phase timing {name} must not be negative")

    @classmethod
    def for_duration(cls, duration: float, **overrides: float) -> PhaseTimings:
        """Spread ``duration`` emulated seconds of execution over running (20%) and solving (80%)."""
        values = {
            "running_to_solving": duration * 0.1,
            "solving": duration * 0.8,
            "solving_to_end": duration * 0.1,
        }
        values.update(overrides)
        return cls(**values)


class ServiceFailure(Exception):
    """Raise from a service to end the task ``failed`` with this ``errorMessage`` and ``returnCode``."""

    def __init__(self, message: str, return_code: int | None = 0) -> None:
        super().__init__(message)
        self.message = message
        self.return_code = return_code


@dataclass
class ServiceResult:
    """What a service hands back: the response file and the procedure's return value."""

    response: bytes | str | Any = None
    response_filename: str | None = None
    return_code: int = 1


@dataclass
class ServiceContext:
    """What a service sees of its task: the request body and a way to write log lines."""

    payload: bytes
    content_type: str | None
    task_id: str
    group_index: int | None
    app_name: str
    app_version: str
    service_name: str
    logger: Callable[[str], None] = field(repr=False, default=lambda message: None)

    def json(self) -> Any:
        """Decode the request body as JSON; a body that is not JSON fails the task with a clear message."""
        if not self.payload.strip():
            raise ServiceFailure("The request body is empty; expected a JSON document.")
        try:
            return json.loads(self.payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise ServiceFailure(f"The request body is not valid JSON: {error}.") from error

    def log(self, message: str) -> None:
        """Append a line to the task's log, stamped with the emulated time."""
        self.logger(message)


Handler = Callable[[ServiceContext], "ServiceResult | Mapping[str, Any] | None"]


@dataclass(frozen=True)
class Service:
    """
    One DEX service: the procedure to run and how long each phase takes.

    ``on_interrupt_solve`` gives the result of a task whose solve was interrupted; without it such a task
    ends with what ``handler`` returned.
    """

    handler: Handler
    timings: PhaseTimings = field(default_factory=PhaseTimings)
    on_interrupt_solve: Handler | None = None
    description: str = ""


@dataclass(frozen=True)
class Outcome:
    """How a task ended, as the store records it."""

    state: Literal["completed", "failed"]
    return_code: int | None
    error_message: str | None = None
    response: bytes | None = None
    response_filename: str | None = None


def _encode_response(response: Any, filename: str | None) -> tuple[bytes | None, str | None]:
    if response is None:
        return None, None
    if isinstance(response, bytes | bytearray | memoryview):
        return bytes(response), filename or DEFAULT_BINARY_FILENAME
    if isinstance(response, str):
        return response.encode(), filename or DEFAULT_TEXT_FILENAME
    return json.dumps(response).encode(), filename or DEFAULT_JSON_FILENAME


def outcome_of(value: ServiceResult | Mapping[str, Any] | None) -> Outcome:
    """Normalise what a handler returned into a completed :class:`Outcome`."""
    if value is None:
        return Outcome("completed", 1)
    if isinstance(value, Mapping):
        unknown = set(value) - {"response", "response_filename", "return_code"}
        if unknown:
            raise TypeError(f"unexpected keys in service result: {sorted(unknown)}")
        value = ServiceResult(**value)
    body, filename = _encode_response(value.response, value.response_filename)
    return Outcome("completed", value.return_code, None, body, filename)


def run_handler(handler: Handler, context: ServiceContext) -> Outcome:
    """Call a handler and turn its result, or the exception it raised, into an :class:`Outcome`."""
    try:
        return outcome_of(handler(context))
    except ServiceFailure as failure:
        return Outcome("failed", failure.return_code, failure.message)
    except Exception as error:
        # A bug in a user's service must end the task, not the emulator's worker thread.
        context.log(f"Unhandled {type(error).__name__}: {error}")
        return Outcome("failed", 0, f"Unhandled error in service {context.service_name!r}: {error}")


def declarative_service(
    *,
    outcome: Literal["completed", "failed"] = "completed",
    error_message: str | None = None,
    return_code: int | None = None,
    log_lines: Sequence[str] = (),
    response: Any = None,
    response_filename: str | None = None,
    timings: PhaseTimings | None = None,
    description: str = "",
) -> Service:
    """Build a service from literal values: a fixed outcome, response and log, no Python needed."""
    if outcome not in ("completed", "failed"):
        raise ValueError(f"outcome must be 'completed' or 'failed', got {outcome!r}")
    lines = tuple(log_lines)

    def handler(context: ServiceContext) -> ServiceResult:
        for line in lines:
            context.log(line)
        if outcome == "failed":
            raise ServiceFailure(
                error_message or "The service failed.", 0 if return_code is None else return_code
            )
        return ServiceResult(response, response_filename, 1 if return_code is None else return_code)

    return Service(handler, timings or PhaseTimings(), description=description)
