"""Emulated time: clock speed, clock advance, scheduled and recurring tasks."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from emulator_support import TasksClient, assert_error

from airflow_provider_aimms.emulator import EmulatorServer, demo_config

FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def at(timestamp: str) -> datetime:
    return datetime.strptime(timestamp, FORMAT)


def test_clock_speed_makes_a_scheduled_minute_pass_in_a_second() -> None:
    with EmulatorServer(demo_config(clock_speed=60)) as server:
        client = TasksClient(server.url)
        task_id = client.created_id("echo", {"x": 1}, params={"scheduleIn": "30 seconds"})

        assert client.task(task_id)["state"] == "queued"
        task, _ = client.wait(task_id, timeout=3.0)
        client.close()

    assert task["state"] == "completed"
    assert at(task["scheduleFor"]) - at(task["createdAt"]) == pytest.approx(
        timedelta(seconds=30), abs=timedelta(seconds=1)
    )
    assert task["queueTime"] >= 30


def test_a_scheduled_task_waits_until_the_clock_reaches_it(server: EmulatorServer, api: TasksClient) -> None:
    task_id = api.created_id("echo", {}, params={"scheduleIn": "PT2H"})

    queued = api.task(task_id)
    server.admin.advance(3600)
    still_queued = api.task(task_id)
    server.admin.advance(3600)
    task, _ = api.wait(task_id)

    assert queued["state"] == still_queued["state"] == "queued"
    assert at(queued["scheduleFor"]) - at(queued["createdAt"]) == pytest.approx(
        timedelta(hours=2), abs=timedelta(seconds=1)
    )
    assert (queued["groupIndex"], queued["scheduleInterval"]) == (None, None)
    assert task["state"] == "completed"
    assert at(task["runningAt"]) >= at(queued["scheduleFor"])
    assert task["queueTime"] >= 7200


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2030-01-02 03:04", "2030-01-02 03:04:00.000000"),
        ("2030-01-02 03:04:05.25 +02:00", "2030-01-02 01:04:05.250000"),
        ("2030-01-02T03:04:05Z", "2030-01-02 03:04:05.000000"),
    ],
)
def test_schedule_for_formats(api: TasksClient, value: str, expected: str) -> None:
    task = api.create("echo", {}, params={"scheduleFor": value}).json()

    assert task["scheduleFor"] == expected
    assert task["state"] == "queued"


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"scheduleFor": "tomorrow"}, "Invalid scheduleFor"),
        ({"scheduleIn": "soon"}, "Invalid scheduleIn"),
        ({"scheduleInterval": "P"}, "Invalid scheduleInterval"),
        ({"scheduleInterval": "0 seconds"}, "at least one second"),
        ({"scheduleIn": "1 day", "scheduleFor": "2030-01-01 00:00"}, "either scheduleFor or scheduleIn"),
    ],
)
def test_bad_schedule_values_are_400_and_create_nothing(
    server: EmulatorServer, api: TasksClient, params: dict[str, str], fragment: str
) -> None:
    assert_error(api.create("echo", {}, params=params), 400, fragment)
    assert server.admin.tasks() == []


def test_a_daily_recurrence_runs_in_seconds(server: EmulatorServer, api: TasksClient) -> None:
    task_id = api.created_id("echo", {"report": "daily"}, params={"scheduleInterval": "1 day"})
    first, _ = api.wait(task_id, groupIndex=0)

    pending = api.task(task_id)
    server.admin.advance(86400)
    second, _ = api.wait(task_id, groupIndex=1)
    server.admin.advance(86400)
    third, _ = api.wait(task_id, groupIndex=2)
    last = api.task(task_id)

    assert (first["groupIndex"], first["state"], first["scheduleInterval"]) == (0, "completed", "1 day")
    assert (pending["groupIndex"], pending["state"]) == (1, "queued")
    assert at(pending["scheduleFor"]) - at(first["scheduleFor"]) == timedelta(days=1)
    assert second["id"] == third["id"] == task_id
    assert at(third["scheduleFor"]) - at(second["scheduleFor"]) == timedelta(days=1)
    assert (last["groupIndex"], last["state"]) == (3, "queued")
    for index in range(3):
        assert api.http.get(f"/tasks/{task_id}/response", params={"groupIndex": index}).json() == {
            "report": "daily"
        }
    listed = api.http.get("/tasks").json()
    assert [row["groupIndex"] for row in listed["current_batch"]] == [3, 2, 1, 0]


def test_deleting_the_last_run_stops_the_recurrence(server: EmulatorServer, api: TasksClient) -> None:
    task_id = api.created_id("echo", {}, params={"scheduleInterval": "P1D"})
    api.wait(task_id, groupIndex=0)

    deleted = api.http.delete(f"/tasks/{task_id}")
    server.admin.advance(3 * 86400)

    assert deleted.status_code == 200
    assert api.task(task_id)["groupIndex"] == 0
    assert [row["groupIndex"] for row in server.admin.tasks()] == [0, 1]
    assert [row["deleted"] for row in server.admin.tasks()] == [False, True]
    assert_error(api.http.get(f"/tasks/{task_id}", params={"groupIndex": 1}), 404, "groupIndex 1")


def test_deleting_an_earlier_run_keeps_the_recurrence(server: EmulatorServer, api: TasksClient) -> None:
    task_id = api.created_id("echo", {}, params={"scheduleInterval": "12 hours"})
    api.wait(task_id, groupIndex=0)

    assert api.http.delete(f"/tasks/{task_id}", params={"groupIndex": 0}).status_code == 200
    server.admin.advance(12 * 3600)
    api.wait(task_id, groupIndex=1)

    assert api.task(task_id)["groupIndex"] == 2
    assert_error(api.http.get(f"/tasks/{task_id}", params={"groupIndex": 0}), 404, "groupIndex 0")


def test_recurrence_from_a_past_anchor_skips_missed_occurrences(
    server: EmulatorServer, api: TasksClient
) -> None:
    task = api.create(
        "echo", {}, params={"scheduleFor": "2020-01-01 06:00", "scheduleInterval": "1 weeks"}
    ).json()

    rows = server.admin.tasks()
    now = at(server.admin.now())

    assert task["scheduleFor"] == "2020-01-01 06:00:00.000000"
    assert task["groupIndex"] == 0
    assert [row["groupIndex"] for row in rows] == [0, 1]
    upcoming = at(rows[1]["scheduleFor"])
    assert now < upcoming <= now + timedelta(weeks=1)
    assert (upcoming - at(task["scheduleFor"])) % timedelta(weeks=1) == timedelta(0)


def test_group_index_is_validated(api: TasksClient) -> None:
    task_id = api.created_id("echo", {})

    assert api.task(task_id, groupIndex=0)["id"] == task_id
    assert_error(api.http.get(f"/tasks/{task_id}", params={"groupIndex": -1}), 400, "Invalid groupIndex")
    assert_error(api.http.get(f"/tasks/{task_id}", params={"groupIndex": "x"}), 400, "Invalid groupIndex")
    assert_error(api.http.get(f"/tasks/{task_id}", params={"groupIndex": 1}), 404, "groupIndex 1")
