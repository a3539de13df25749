"""Fault injection: each kind, per route and method, with a seeded and repeatable choice."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from emulator_support import TasksClient

from airflow_provider_aimms.emulator import EmulatorServer, FaultRule, demo_config


def created_count(server: EmulatorServer) -> int:
    return len(server.admin.tasks())


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_status_fault_on_create_does_not_create(
    server: EmulatorServer, api: TasksClient, status: int
) -> None:
    server.admin.set_faults([{"route": "create", "kind": "status", "status": status}])

    response = api.create("echo", {})

    assert response.status_code == status
    body = response.json()
    assert body["errorCode"] == status
    assert set(body) == {"errorId", "errorCode", "message"}
    assert created_count(server) == 0


@pytest.mark.parametrize("retry_after", ["1", "Wed, 21 Oct 2026 07:28:00 GMT"])
def test_429_carries_retry_after_and_does_not_create(
    server: EmulatorServer, api: TasksClient, retry_after: str
) -> None:
    server.admin.set_faults(
        [{"route": "create", "kind": "status", "status": 429, "retry_after": retry_after}]
    )

    response = api.create("echo", {})

    assert response.status_code == 429
    assert response.headers["retry-after"] == retry_after
    assert created_count(server) == 0


def test_times_limits_injections_and_other_routes_pass(server: EmulatorServer, api: TasksClient) -> None:
    server.admin.set_faults([FaultRule(route="get", kind="status", status=503, times=2)])
    task_id = api.created_id("echo", {})

    codes = [api.http.get(f"/tasks/{task_id}").status_code for _ in range(4)]

    assert codes == [503, 503, 200, 200]
    assert api.http.get("/tasks").status_code == 200
    log = server.admin.fault_log()
    assert [(entry["route"], entry["kind"], entry["status"]) for entry in log] == [("get", "status", 503)] * 2


def test_method_narrows_a_wildcard_rule(server: EmulatorServer, api: TasksClient) -> None:
    server.admin.set_faults([{"route": "*", "method": "delete", "kind": "status", "status": 500}])
    task_id = api.created_id("echo", {})
    api.wait(task_id)

    assert api.http.delete(f"/tasks/{task_id}").status_code == 500
    assert api.http.get(f"/tasks/{task_id}").status_code == 200


def test_drop_closes_the_connection_before_the_work(server: EmulatorServer, api: TasksClient) -> None:
    server.admin.set_faults([{"route": "create", "kind": "drop"}])

    with pytest.raises(httpx.RemoteProtocolError):
        api.create("echo", {"big": "x" * 100_000})

    assert created_count(server) == 0
    assert server.admin.fault_log()[0]["kind"] == "drop"


def test_drop_after_creates_the_task_then_drops(server: EmulatorServer, api: TasksClient) -> None:
    server.admin.set_faults([{"route": "create", "kind": "drop_after", "times": 1}])

    with pytest.raises(httpx.RemoteProtocolError):
        api.create("echo", {"n": 1})
    retried = api.create("echo", {"n": 1})

    assert retried.status_code == 200
    rows = server.admin.tasks()
    assert len(rows) == 2
    assert rows[1]["id"] == retried.json()["id"]
    assert rows[0]["id"] != rows[1]["id"]


def test_drop_on_delete_before_the_work_keeps_the_task(server: EmulatorServer, api: TasksClient) -> None:
    task_id = api.created_id("echo", {})
    api.wait(task_id)
    server.admin.set_faults([{"route": "delete", "kind": "drop"}])

    with pytest.raises(httpx.RemoteProtocolError):
        api.http.delete(f"/tasks/{task_id}")

    server.admin.clear_faults()
    assert api.task(task_id)["state"] == "completed"


def test_latency_delays_before_and_latency_after_delays_after_the_work(
    server: EmulatorServer, api: TasksClient
) -> None:
    server.admin.set_faults([{"route": "create", "kind": "latency_after", "seconds": 5.0}])

    with pytest.raises(httpx.ReadTimeout):
        api.create("echo", {}, timeout=0.5)
    assert created_count(server) == 1

    server.admin.set_faults([{"route": "create", "kind": "latency", "seconds": 5.0}])
    with pytest.raises(httpx.ReadTimeout):
        api.create("echo", {}, timeout=0.5)
    assert created_count(server) == 1


def test_latency_is_real_seconds(server: EmulatorServer, api: TasksClient) -> None:
    server.admin.set_faults([{"route": "list", "kind": "latency", "seconds": 0.3}])

    response = api.http.get("/tasks")

    assert response.status_code == 200
    assert response.elapsed.total_seconds() >= 0.3


def test_malformed_answers_200_with_broken_json_after_creating(
    server: EmulatorServer, api: TasksClient
) -> None:
    server.admin.set_faults([{"route": "create", "kind": "malformed"}])

    response = api.create("echo", {})

    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    with pytest.raises(ValueError, match=r"Expecting|Unterminated"):
        response.json()
    assert response.text.startswith('{"id": "')
    assert created_count(server) == 1


def fault_pattern(server: EmulatorServer, api: TasksClient, seed: int) -> list[int]:
    server.admin.reset()
    server.admin.set_faults(
        [{"route": "list", "kind": "status", "status": 502, "probability": 0.5}], seed=seed
    )
    return [api.http.get("/tasks").status_code for _ in range(24)]


def test_the_same_seed_gives_the_same_faults(server: EmulatorServer, api: TasksClient) -> None:
    first = fault_pattern(server, api, seed=7)
    again = fault_pattern(server, api, seed=7)
    other = fault_pattern(server, api, seed=8)

    assert first == again
    assert first != other
    assert 4 <= first.count(502) <= 20
    assert set(first) == {200, 502}


def test_faults_from_configuration_use_the_configured_seed() -> None:
    rule = FaultRule(route="list", kind="status", status=503, probability=0.5)
    patterns = []
    for _ in range(2):
        with EmulatorServer(demo_config(faults=(rule,), seed=42)) as server:
            client = TasksClient(server.url)
            patterns.append([client.http.get("/tasks").status_code for _ in range(16)])
            client.close()

    assert patterns[0] == patterns[1]
    assert set(patterns[0]) == {200, 503}


@pytest.mark.parametrize(
    ("rule", "fragment"),
    [
        ({"route": "nowhere"}, "unknown fault route"),
        ({"kind": "explode"}, "unknown fault kind"),
        ({"probability": 2}, "probability"),
        ({"statuss": 500}, "unknown fault rule keys"),
    ],
)
def test_bad_rules_are_refused(server: EmulatorServer, rule: dict[str, Any], fragment: str) -> None:
    response = httpx.put(server.url + "/_emulator/faults", json={"rules": [rule]}, verify=False)

    assert response.status_code == 400
    assert fragment in response.json()["message"]
