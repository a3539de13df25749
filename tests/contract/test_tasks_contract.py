"""What a client of the Tasks API v2 may rely on; runs against the emulator or a real account."""

from __future__ import annotations

import time
import uuid
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    import httpx
    from contract_support import Target

    from airflow_provider_aimms.emulator import EmulatorServer

TASK_KEYS = {
    "id", "appName", "appVersion", "serviceName", "state", "createdAt", "assignedAt", "runningAt", "endedAt",
    "queueTime", "runTime", "returnCode", "errorMessage",
}  # fmt: skip
STATES = {"queued", "assigned", "running", "solving", "completed", "failed"}


def error_of(response: httpx.Response) -> dict[str, Any]:
    body: dict[str, Any] = response.json()
    assert {"errorId", "errorCode", "message"} <= set(body)
    assert isinstance(body["message"], str)
    return body


def test_list_has_total_and_current_batch(client: httpx.Client) -> None:
    response = client.get("/tasks", params={"limit": 1})

    assert response.status_code == 200
    body = response.json()
    assert isinstance(body["total_tasks"], int)
    assert isinstance(body["current_batch"], list)
    assert len(body["current_batch"]) <= 1
    for task in body["current_batch"]:
        assert set(task) >= TASK_KEYS
        assert task["state"] in STATES


def test_a_trailing_slash_is_tolerated(client: httpx.Client) -> None:
    assert client.get("/tasks/", params={"limit": 1}).status_code == 200


def test_a_wrong_key_is_401(target: Target) -> None:
    with target.client("not-a-key-" + uuid.uuid4().hex) as http:
        response = http.get("/tasks", params={"limit": 1})

    assert response.status_code == 401


def test_an_unknown_task_is_404_with_an_error_body(client: httpx.Client) -> None:
    response = client.get(f"/tasks/{uuid.uuid4()}")

    assert response.status_code == 404
    assert isinstance(error_of(response)["errorCode"], int)


def test_an_unknown_app_is_a_client_error(client: httpx.Client, target: Target) -> None:
    response = client.post(f"/tasks/no-such-app-{uuid.uuid4().hex[:8]}/{target.service}", content=b"{}")

    assert 400 <= response.status_code < 500
    assert error_of(response)["message"]


def test_create_poll_fetch_and_delete(client: httpx.Client, target: Target) -> None:
    created = client.post(
        target.create_path(), content=target.payload, headers={"Content-Type": "application/json"}
    )
    assert created.status_code == 200, created.text
    task = created.json()
    assert set(task) >= TASK_KEYS
    assert task["state"] == "queued"
    assert (task["appName"], task["serviceName"]) == (target.app, target.service)

    seen = [task["state"]]
    deadline = time.monotonic() + (10 if target.emulator else 900)
    while task["state"] not in ("completed", "failed"):
        assert time.monotonic() < deadline, f"task {task['id']} did not finish; states seen: {seen}"
        time.sleep(0.01 if target.emulator else 5)
        task = client.get(f"/tasks/{task['id']}").json()
        if task["state"] != seen[-1]:
            seen.append(task["state"])

    assert set(seen) <= STATES
    assert seen.index("queued") == 0
    assert task["endedAt"] is not None
    if task["state"] == "completed":
        response = client.get(f"/tasks/{task['id']}/response")
        assert response.status_code in (200, 404)
        if target.emulator is not None:
            assert response.content == target.payload
            assert response.headers["content-type"] == "application/json"
    assert client.delete(f"/tasks/{task['id']}").status_code == 200
    assert client.get(f"/tasks/{task['id']}").status_code == 404


def test_invalid_setstatus_is_rejected(client: httpx.Client) -> None:
    response = client.put(f"/tasks/{uuid.uuid4()}", json={"setstatus": "not-a-status"})

    assert 400 <= response.status_code < 500


# ----------------------------------------------------------------------------------- emulator-only checks


def test_state_sequence_passes_every_state(
    emulator: EmulatorServer, client: httpx.Client, target: Target
) -> None:
    task_id = client.post(target.create_path(), json={}).json()["id"]
    deadline = time.monotonic() + 5
    while client.get(f"/tasks/{task_id}").json()["state"] not in ("completed", "failed"):
        assert time.monotonic() < deadline
        time.sleep(0.01)

    messages = [line["message"] for line in client.get(f"/tasks/{task_id}/logs").json()["logs"]]

    assert messages[0].startswith("Task queued")
    assert messages[1].startswith("Assigned")
    assert messages[-1] == "Task completed with return code 1."


def test_injected_503_does_not_create(emulator: EmulatorServer, client: httpx.Client, target: Target) -> None:
    emulator.admin.set_faults([{"route": "create", "kind": "status", "status": 503, "times": 1}])

    first = client.post(target.create_path(), json={})
    second = client.post(target.create_path(), json={})

    assert (first.status_code, second.status_code) == (503, 200)
    assert [row["id"] for row in emulator.admin.tasks()] == [second.json()["id"]]


@pytest.mark.parametrize("path", ["/tasks/stats/current", "/tasks/stats"])
def test_stats_routes_are_not_taken_for_task_ids(
    emulator: EmulatorServer, client: httpx.Client, path: str
) -> None:
    response = client.get(path)

    assert response.status_code == 200
    assert "errorCode" not in response.json()
