from __future__ import annotations

import pendulum
import pytest

from airflow_provider_aimms.models import (
    FAILED_STATES,
    TERMINAL_STATES,
    AimmsTask,
    TaskResponse,
    TaskState,
    parse_timestamp,
)

DOC_EXAMPLE = {
    "id": "efa680a0-748e-43d0-9099-cf40937b13f4",
    "appName": "Test",
    "appVersion": "1.0",
    "serviceName": "JobSchedule",
    "state": "completed",
    "createdAt": "2023-11-23 15:16:38.000000",
    "assignedAt": "2023-11-23 15:16:57.000000",
    "runningAt": "2023-11-23 15:16:57.000000",
    "endedAt": "2023-11-23 15:17:01.000000",
    "queueTime": 19.000000,
    "runTime": 4.000000,
    "returnCode": 1,
    "errorMessage": None,
}


def test_the_documented_example_parses() -> None:
    task = AimmsTask.from_json(DOC_EXAMPLE)
    assert task.known_state is TaskState.COMPLETED
    assert task.is_terminal
    assert not task.is_failed
    assert task.created_at == pendulum.datetime(2023, 11, 23, 15, 16, 38, tz="UTC")
    assert (task.queue_time, task.run_time, task.return_code) == (19.0, 4.0, 1)
    assert task.extra == {}


def test_unknown_fields_and_states_are_kept() -> None:
    task = AimmsTask.from_json({**DOC_EXAMPLE, "state": "paused", "priority": 3})
    assert task.known_state is None
    assert not task.is_terminal
    assert task.extra == {"priority": 3}
    assert task.raw["state"] == "paused"


@pytest.mark.parametrize(
    "text",
    [
        "2023-11-08 23:03:29.000000",
        "2023-11-08T23:03:29Z",
        "2023-11-09 00:03:29.000 +01:00",
        "2023-11-08T23:03:29",
    ],
)
def test_timestamps_parse_in_both_forms_as_utc(text: str) -> None:
    assert parse_timestamp(text) == pendulum.datetime(2023, 11, 8, 23, 3, 29, tz="UTC")


def test_state_sets() -> None:
    assert {s.value for s in TERMINAL_STATES} == {"completed", "failed"}
    assert {s.value for s in FAILED_STATES} == {"failed"}


def test_a_task_without_id_is_an_error() -> None:
    with pytest.raises(ValueError, match="without an id"):
        AimmsTask.from_json({"state": "queued"})


def test_response_decoding() -> None:
    assert TaskResponse(b'{"a": 1}', "application/octet-stream").decoded() == {"a": 1}
    assert TaskResponse(b"plain text", "text/plain").decoded() == "plain text"
    with pytest.raises(ValueError, match="response_path"):
        TaskResponse(b"\x89PNG\xff\xfe", "image/png").decoded()
