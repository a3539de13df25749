"""The Tasks API of the emulator over real HTTP: codes, bodies, states and the demo services."""

from __future__ import annotations

import itertools
import random
import re
import uuid
from datetime import datetime
from typing import Any

import httpx
import pytest
from emulator_support import TasksClient, assert_error, custom_config

from airflow_provider_aimms.emulator import EmulatorServer
from airflow_provider_aimms.emulator.demo import INFEASIBLE_MESSAGE

TASK_KEYS = {
    "id", "groupIndex", "appName", "appVersion", "serviceName", "state", "scheduleFor", "scheduleInterval",
    "createdAt", "assignedAt", "runningAt", "endedAt", "queueTime", "runTime", "returnCode", "errorMessage",
    "sessionId", "userName", "userEnvironment",
}  # fmt: skip
TIMESTAMP = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{6}$")


def parse(timestamp: str) -> datetime:
    return datetime.strptime(timestamp, "%Y-%m-%d %H:%M:%S.%f")


# ------------------------------------------------------------------------------------------------ create


def test_create_returns_the_full_queued_task(api: TasksClient) -> None:
    response = api.create("echo", {"hello": "world"})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    task = response.json()
    assert set(task) == TASK_KEYS
    assert uuid.UUID(task["id"])
    assert (task["appName"], task["appVersion"], task["serviceName"]) == ("Logistics", "1.0", "echo")
    assert task["state"] == "queued"
    assert TIMESTAMP.match(task["createdAt"])
    for unset in ("groupIndex", "scheduleFor", "scheduleInterval", "assignedAt", "runningAt", "endedAt",
                  "queueTime", "runTime", "returnCode", "errorMessage", "sessionId"):  # fmt: skip
        assert task[unset] is None, unset
    assert (task["userName"], task["userEnvironment"]) == ("demo", "ROOT")


def test_create_with_latest_tag_resolves_the_version(api: TasksClient) -> None:
    latest = api.create("echo", {}, version=None)
    older = api.create("echo", {}, version="0.9")

    assert latest.status_code == 200
    assert latest.json()["appVersion"] == "1.0"
    assert older.status_code == 200
    assert older.json()["appVersion"] == "0.9"


@pytest.mark.parametrize(
    ("path", "fragment"),
    [
        ("/tasks/Draft/echo", "App Draft with latest tag doesn't exist."),
        ("/tasks/Nowhere/echo", "App Nowhere with latest tag doesn't exist."),
        ("/tasks/Logistics/7.7/echo", "App Logistics with version 7.7 doesn't exist."),
        ("/tasks/Logistics/1.0/nosuch", "Service nosuch doesn't exist"),
        ("/tasks/Logistics/nosuch", "Service nosuch doesn't exist"),
        ("/tasks/a/b/c/d", "No such resource"),
    ],
)
def test_create_for_unknown_app_version_or_service_is_404(api: TasksClient, path: str, fragment: str) -> None:
    assert_error(api.http.post(path, content=b"{}"), 404, fragment)


def test_create_stores_the_raw_body_and_content_type(api: TasksClient, server: EmulatorServer) -> None:
    task_id = api.created_id("echo", content=b"a,b\n1,2\n", headers={"Content-Type": "text/csv"})

    stored = next(row for row in server.admin.tasks() if row["id"] == task_id)
    assert stored["requestContentType"] == "text/csv"
    assert stored["requestSize"] == 8


def test_app_names_with_encoded_slash_and_spaces(api: TasksClient) -> None:
    response = api.http.post("/tasks/Supply%20Chain%2FEU/2024.1%20beta/echo", content=b"x")

    assert response.status_code == 200, response.text
    task = response.json()
    assert (task["appName"], task["appVersion"]) == ("Supply Chain/EU", "2024.1 beta")
    listed = api.http.get("/tasks", params={"appName": "Supply Chain/EU"}).json()
    assert [row["id"] for row in listed["current_batch"]] == [task["id"]]


def test_every_route_tolerates_a_trailing_slash(api: TasksClient) -> None:
    created = api.http.post("/tasks/Logistics/1.0/echo/", json={"a": 1})
    task_id = created.json()["id"]
    api.wait(task_id)

    assert created.status_code == 200
    assert api.http.get(f"/tasks/{task_id}/").json()["state"] == "completed"
    assert api.http.get(f"/tasks/{task_id}/response/").json() == {"a": 1}
    assert api.http.get("/tasks/").json()["total_tasks"] == 1
    assert api.http.delete(f"/tasks/{task_id}/").status_code == 200


# -------------------------------------------------------------------------------------------------- auth


@pytest.mark.parametrize(
    ("key", "status", "fragment"),
    [
        (None, 401, "Missing API key"),
        ("wrong", 401, "Invalid or expired API key"),
        ("publisher", 403, "Tasks scope"),
    ],
)
def test_bad_keys_are_refused(client_for: Any, key: str | None, status: int, fragment: str) -> None:
    client = client_for(key)

    assert_error(client.http.get("/tasks"), status, fragment)
    assert_error(client.create("echo", {}), status, fragment)


def test_task_scope_spelling_and_header_case_are_accepted(api: TasksClient, client_for: Any) -> None:
    assert client_for("task-scope").http.get("/tasks").status_code == 200
    for header in ("APIKEY", "apiKey", "ApiKey"):
        response = httpx.get(str(api.http.base_url) + "/tasks", headers={header: "demo-key"}, verify=False)
        assert response.status_code == 200, header


# ---------------------------------------------------------------------------------------- state machine


def test_a_task_passes_every_state_and_times_add_up(api: TasksClient) -> None:
    task_id = api.created_id("knapsack", {"capacity": 3, "items": [{"name": "a", "weight": 2, "value": 3}]})

    task, seen = api.wait(task_id, timeout=2.0)

    assert seen[0] in ("queued", "assigned")
    assert seen[-3:] == ["solving", "running", "completed"]
    assert "running" in seen[:-3] or seen[0] != "queued" or "assigned" in seen
    created, assigned = parse(task["createdAt"]), parse(task["assignedAt"])
    running, ended = parse(task["runningAt"]), parse(task["endedAt"])
    assert created < assigned < running < ended
    assert task["queueTime"] == pytest.approx((running - created).total_seconds(), abs=1e-5)
    assert task["runTime"] == pytest.approx((ended - running).total_seconds(), abs=1e-5)
    assert 0.2 <= (ended - created).total_seconds() <= 0.8
    assert task["returnCode"] == 1
    assert task["errorMessage"] is None
    assert uuid.UUID(task["sessionId"])


def test_the_state_sequence_is_queued_assigned_running_solving_running_completed(
    server: EmulatorServer,
) -> None:
    client = TasksClient(server.url)
    task_id = client.created_id("echo", {})
    client.wait(task_id)
    # The hookless path: reconstruct the sequence from the log the store wrote at each transition.
    lines = [entry["message"] for entry in client.http.get(f"/tasks/{task_id}/logs").json()["logs"]]
    client.close()

    assert lines[0].startswith("Task queued")
    assert lines[1].startswith("Assigned to REST session")
    assert lines[2] == "Running procedure of service echo."
    assert lines[-3:] == ["Solve started.", "Solve finished.", "Task completed with return code 1."]


def test_parallelism_keeps_extra_tasks_queued_in_fifo_order() -> None:
    with EmulatorServer(custom_config(parallelism=1)) as server:
        client = TasksClient(server.url)
        first, second, third = (client.created_id("echo", {"n": n}) for n in range(3))

        _, _ = client.wait(first, ("running", "solving"))
        assert client.task(second)["state"] == "queued"
        assert client.task(third)["state"] == "queued"
        tasks = [client.wait(task_id)[0] for task_id in (first, second, third)]
        client.close()

    for earlier, later in itertools.pairwise(tasks):
        assert parse(earlier["endedAt"]) <= parse(later["assignedAt"])
        assert parse(earlier["runningAt"]) < parse(later["runningAt"])


# ----------------------------------------------------------------------------------------- demo services


def brute_force(capacity: int, items: list[dict[str, Any]]) -> float:
    best = 0.0
    for mask in range(1 << len(items)):
        chosen = [item for bit, item in enumerate(items) if mask >> bit & 1]
        if sum(item["weight"] for item in chosen) <= capacity:
            best = max(best, sum(item["value"] for item in chosen))
    return best


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_knapsack_matches_brute_force(api: TasksClient, seed: int) -> None:
    rng = random.Random(seed)
    items = [
        {"name": f"item{n}", "weight": rng.randint(1, 15), "value": rng.randint(1, 60)} for n in range(10)
    ]
    capacity = rng.randint(10, 50)

    task_id = api.created_id("knapsack", {"capacity": capacity, "items": items})
    task, _ = api.wait(task_id)
    response = api.http.get(f"/tasks/{task_id}/response")

    assert task["state"] == "completed"
    assert task["returnCode"] == 1
    assert response.headers["content-type"] == "application/json"
    solution = response.json()
    assert set(solution) == {"selected", "total_value", "total_weight", "capacity", "optimal"}
    by_name = {item["name"]: item for item in items}
    assert solution["selected"] == [item["name"] for item in items if item["name"] in solution["selected"]]
    assert solution["total_weight"] == sum(by_name[name]["weight"] for name in solution["selected"])
    assert solution["total_value"] == sum(by_name[name]["value"] for name in solution["selected"])
    assert solution["total_weight"] <= capacity
    assert solution["total_value"] == brute_force(capacity, items)
    assert (solution["capacity"], solution["optimal"]) == (capacity, True)


def test_knapsack_known_answer_and_log(api: TasksClient) -> None:
    items = [
        {"name": "tent", "weight": 5, "value": 10},
        {"name": "stove", "weight": 4, "value": 40},
        {"name": "rope", "weight": 6, "value": 30},
        {"name": "map", "weight": 3, "value": 50},
    ]
    task_id = api.created_id("knapsack", {"capacity": 10, "items": items})
    api.wait(task_id)

    solution = api.http.get(f"/tasks/{task_id}/response").json()
    logs = api.http.get(f"/tasks/{task_id}/logs", params={"contains": "knapsack"}).json()

    assert solution == {"selected": ["stove", "map"], "total_value": 90, "total_weight": 7, "capacity": 10,
                        "optimal": True}  # fmt: skip
    assert [line["message"] for line in logs["logs"]] == [
        "Task queued for service knapsack of Logistics 1.0.",
        "Running procedure of service knapsack.",
        "Knapsack with 4 items and capacity 10.",
    ]


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty"),
        (b"capacity=3", "not valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b'{"items": []}', "'capacity' is missing"),
        (b'{"capacity": -1, "items": []}', "'capacity' must be a non-negative integer"),
        (b'{"capacity": 2.5, "items": []}', "'capacity' must be a non-negative integer"),
        (b'{"capacity": 5}', "'items' must be a list"),
        (b'{"capacity": 5, "items": [{"name": "a", "weight": 1.5, "value": 1}]}', "'weight' must be"),
        (b'{"capacity": 5, "items": [{"name": "a", "weight": 1, "value": "x"}]}', "'value' must be a number"),
        (b'{"capacity": 5, "items": [{"weight": 1, "value": 1}]}', "non-empty string 'name'"),
        (
            b'{"capacity": 5, "items": [{"name": "a", "weight": 1, "value": 1}, {"name": "a", "weight": 2, "value": 1}]}',
            "duplicate item name 'a'",
        ),
        (b'{"capacity": 60000000, "items": [{"name": "a", "weight": 1, "value": 1}]}', "too large"),
    ],
)
def test_knapsack_rejects_bad_input(api: TasksClient, content: bytes, fragment: str) -> None:
    task_id = api.created_id("knapsack", content=content, headers={"Content-Type": "application/json"})

    task, _ = api.wait(task_id)

    assert task["state"] == "failed"
    assert task["returnCode"] == 0
    assert fragment in task["errorMessage"]
    assert_error(api.http.get(f"/tasks/{task_id}/response"), 404, "has no response")


@pytest.mark.parametrize(
    ("content_type", "content"),
    [
        ("application/json", b'{"k": [1, 2]}'),
        ("text/csv", b"a,b\n1,2\n"),
        ("application/octet-stream", bytes(range(256))),
        ("application/zip", b"PK\x03\x04fake"),
    ],
)
def test_echo_returns_the_body_with_its_content_type(
    api: TasksClient, content_type: str, content: bytes
) -> None:
    task_id = api.created_id("echo", content=content, headers={"Content-Type": content_type})
    api.wait(task_id)

    response = api.http.get(f"/tasks/{task_id}/response")

    assert response.status_code == 200
    assert response.content == content
    assert response.headers["content-type"].split(";")[0] == content_type


def test_fail_service_fails_with_its_message(api: TasksClient) -> None:
    task, seen = api.wait(api.created_id("fail", {}))

    assert seen[-1] == "failed"
    assert (task["state"], task["returnCode"], task["errorMessage"]) == ("failed", 0, INFEASIBLE_MESSAGE)
    assert task["endedAt"] is not None
    assert task["runTime"] is not None


def test_slow_solve_interrupt_solve_completes_with_a_partial_result(api: TasksClient) -> None:
    task_id = api.created_id("slow_solve", {})
    api.wait(task_id, ("solving",))

    interrupted = api.http.put(f"/tasks/{task_id}", json={"setstatus": "interrupt-solve"})
    task, _ = api.wait(task_id)

    assert interrupted.status_code == 200
    assert interrupted.json()["id"] == task_id
    assert (task["state"], task["returnCode"], task["errorMessage"]) == ("completed", 1, None)
    assert task["runTime"] < 5
    result = api.http.get(f"/tasks/{task_id}/response").json()
    assert result["interrupted"] is True
    assert result["status"] == "feasible"


def test_slow_solve_interrupt_execution_fails_it(api: TasksClient) -> None:
    task_id = api.created_id("slow_solve", {})
    api.wait(task_id, ("solving",))

    response = api.http.put(f"/tasks/{task_id}", json={"setstatus": "interrupt-execution"})
    task = api.task(task_id)

    assert response.status_code == 200
    assert response.json()["state"] == "failed"
    assert task["state"] == "failed"
    assert task["returnCode"] is None
    assert "interrupted" in task["errorMessage"]
    assert_error(api.http.get(f"/tasks/{task_id}/response"), 404, "has no response")


def test_slow_solve_keeps_solving(api: TasksClient) -> None:
    task_id = api.created_id("slow_solve", {})
    api.wait(task_id, ("solving",))

    assert api.task(task_id)["state"] == "solving"
    api.http.put(f"/tasks/{task_id}", json={"setstatus": "interrupt-execution"})


@pytest.mark.parametrize("body", [{"setstatus": "pause"}, {}, {"setstatus": 3}, None])
def test_invalid_setstatus_is_405(api: TasksClient, body: Any) -> None:
    task_id = api.created_id("slow_solve", {})
    api.wait(task_id, ("solving",))

    response = (
        api.http.put(f"/tasks/{task_id}", json=body)
        if body is not None
        else api.http.put(f"/tasks/{task_id}")
    )

    assert_error(response, 405, "Invalid setstatus")
    assert api.task(task_id)["state"] == "solving"
    api.http.put(f"/tasks/{task_id}", json={"setstatus": "interrupt-execution"})


def test_interrupting_a_finished_task_changes_nothing(api: TasksClient) -> None:
    task_id = api.created_id("echo", {})
    before, _ = api.wait(task_id)

    response = api.http.put(f"/tasks/{task_id}", json={"setstatus": "interrupt-execution"})

    assert response.status_code == 200
    assert response.json() == before


# ------------------------------------------------------------------------------------- list and retrieve


def test_list_is_newest_first_with_filters_and_paging(api: TasksClient) -> None:
    ids = [
        api.created_id("echo", {"n": n}, version=version) for n, version in enumerate(["1.0", "0.9", "1.0"])
    ]

    everything = api.http.get("/tasks").json()
    only_old = api.http.get("/tasks", params={"appName": "Logistics", "appVersion": "0.9"}).json()
    page = api.http.get("/tasks", params={"offset": 1, "limit": 1}).json()

    assert everything["total_tasks"] == 3
    assert [task["id"] for task in everything["current_batch"]] == ids[::-1]
    assert only_old["total_tasks"] == 1
    assert only_old["current_batch"][0]["id"] == ids[1]
    assert page["total_tasks"] == 3
    assert [task["id"] for task in page["current_batch"]] == [ids[1]]


def test_list_date_filters(api: TasksClient) -> None:
    task_id = api.created_id("echo", {})
    today = api.task(task_id)["createdAt"][:10]

    after_today = api.http.get("/tasks", params={"after": today}).json()
    before_today = api.http.get("/tasks", params={"before": today}).json()

    assert [task["id"] for task in after_today["current_batch"]] == [task_id]
    assert before_today == {"total_tasks": 0, "current_batch": []}
    assert_error(api.http.get("/tasks", params={"after": "not-a-date"}), 400, "Invalid after")
    assert_error(api.http.get("/tasks", params={"limit": 0}), 400, "Invalid limit")


def test_unknown_task_is_404(api: TasksClient) -> None:
    missing = str(uuid.uuid4())
    for method, suffix in (("GET", ""), ("GET", "/response"), ("PUT", ""), ("DELETE", ""), ("GET", "/logs")):
        assert_error(api.http.request(method, f"/tasks/{missing}{suffix}"), 404, f"Task {missing} not found.")


def test_response_of_an_unfinished_task_is_404(api: TasksClient) -> None:
    task_id = api.created_id("slow_solve", {})

    assert_error(api.http.get(f"/tasks/{task_id}/response"), 404, "has not finished yet")
    api.wait(task_id, ("solving",))
    api.http.put(f"/tasks/{task_id}", json={"setstatus": "interrupt-execution"})


def test_pretty_format_indents_json(api: TasksClient) -> None:
    task_id = api.created_id("echo", {})

    pretty = api.http.get(f"/tasks/{task_id}", params={"prettyFormat": "true", "unknownParam": "x"})

    assert pretty.status_code == 200
    assert pretty.text.startswith('{\n  "id": ')


# ----------------------------------------------------------------------------------------------- delete


def test_delete_queued_completed_and_failed_tasks(server: EmulatorServer, api: TasksClient) -> None:
    queued = api.created_id("echo", {}, params={"scheduleIn": "1 day"})
    completed, _ = api.wait(api.created_id("echo", {}))
    failed, _ = api.wait(api.created_id("fail", {}))

    for task_id in (queued, completed["id"], failed["id"]):
        response = api.http.delete(f"/tasks/{task_id}")
        assert response.status_code == 200
        assert response.content == b""
        assert_error(api.http.get(f"/tasks/{task_id}"), 404, "not found")

    assert api.http.get("/tasks").json()["total_tasks"] == 0
    assert [row["deleted"] for row in server.admin.tasks()] == [True, True, True]


def test_delete_of_a_running_task_is_405(api: TasksClient) -> None:
    task_id = api.created_id("slow_solve", {})
    api.wait(task_id, ("solving",))

    assert_error(api.http.delete(f"/tasks/{task_id}"), 405, "cannot be deleted")
    assert api.task(task_id)["state"] == "solving"
    api.http.put(f"/tasks/{task_id}", json={"setstatus": "interrupt-execution"})


def test_wrong_method_is_405(api: TasksClient) -> None:
    assert_error(api.http.patch("/tasks"), 405, "not allowed")
