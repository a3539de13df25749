"""The admin API: task history, clock, reset, and that it is off unless enabled."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

import httpx

from airflow_provider_aimms.emulator import EmulatorServer, demo_config

if TYPE_CHECKING:
    from emulator_support import TasksClient

FORMAT = "%Y-%m-%d %H:%M:%S.%f"


def test_admin_api_is_off_unless_enabled() -> None:
    with EmulatorServer(demo_config(enable_admin=False)) as server:
        assert httpx.get(server.url + "/_emulator/tasks", verify=False).status_code == 404
        assert (
            httpx.get(
                server.url + "/pro-api/v2/tasks", headers={"apikey": "demo-key"}, verify=False
            ).status_code
            == 200
        )


def test_tasks_lists_every_run_including_deleted(server: EmulatorServer, api: TasksClient) -> None:
    kept = api.created_id("echo", {"a": 1})
    gone = api.created_id("echo", {"b": 2}, params={"scheduleIn": "1 hour"})
    assert api.http.delete(f"/tasks/{gone}").status_code == 200

    rows = server.admin.tasks()

    assert [row["id"] for row in rows] == [kept, gone]
    assert [row["deleted"] for row in rows] == [False, True]
    assert rows[0]["deletedAt"] is None
    assert rows[1]["deletedAt"] is not None
    assert rows[1]["scheduleFor"] is not None


def test_reset_forgets_tasks_faults_and_logs(server: EmulatorServer, api: TasksClient) -> None:
    api.created_id("echo", {})
    server.admin.set_faults([{"route": "list", "kind": "status", "status": 500, "times": 1}])
    assert api.http.get("/tasks").status_code == 500

    server.admin.reset()

    assert server.admin.tasks() == []
    assert server.admin.fault_log() == []
    assert api.http.get("/tasks").json() == {"total_tasks": 0, "current_batch": []}


def test_advance_moves_the_clock_and_returns_the_new_time(server: EmulatorServer) -> None:
    before = server.admin.now()

    after = server.admin.advance(7200)

    elapsed = datetime.strptime(after, FORMAT) - datetime.strptime(before, FORMAT)
    assert 7200 <= elapsed.total_seconds() < 7210
    assert (
        httpx.post(server.url + "/_emulator/clock/advance", json={"seconds": -1}, verify=False).status_code
        == 400
    )


def test_direct_store_access_sees_the_same_tasks(server: EmulatorServer, api: TasksClient) -> None:
    task_id = api.created_id("echo", {})

    runs = server.store.runs()

    assert [run.task_id for run in runs] == [task_id]
