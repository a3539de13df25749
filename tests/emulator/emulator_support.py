"""Helpers of the emulator's own tests: a small Tasks API client and a configuration with odd apps and keys."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from airflow_provider_aimms.emulator import (
    EXECUTE,
    READ,
    ApiKey,
    AppVersion,
    declarative_service,
    demo_config,
)
from airflow_provider_aimms.emulator.demo import demo_apps, echo_service
from airflow_provider_aimms.emulator.services import Service

TERMINAL = ("completed", "failed")
DEMO_KEY = "demo-key"


def assert_error(response: httpx.Response, status: int, fragment: str) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"errorId", "errorCode", "message"}
    assert body["errorCode"] == status
    assert uuid.UUID(body["errorId"]).version == 4
    assert fragment in body["message"]


class TasksClient:
    """Call the Tasks API of an emulator with one API key and wait for task states."""

    def __init__(self, url: str, key: str | None = DEMO_KEY) -> None:
        headers = {"apikey": key} if key is not None else {}
        # Plain HTTP on loopback: skipping the CA bundle saves ~0.2 s per client.
        self.http = httpx.Client(base_url=url + "/pro-api/v2", headers=headers, timeout=10.0, verify=False)

    def create(
        self, service: str = "echo", body: Any = None, *, app: str = "Logistics", version: str | None = "1.0",
        **kwargs: Any,
    ) -> httpx.Response:  # fmt: skip
        path = f"/tasks/{app}/{version}/{service}" if version is not None else f"/tasks/{app}/{service}"
        if body is not None and "content" not in kwargs:
            kwargs["json"] = body
        return self.http.post(path, **kwargs)

    def created_id(self, service: str = "echo", body: Any = None, **kwargs: Any) -> str:
        response = self.create(service, body, **kwargs)
        assert response.status_code == 200, response.text
        task_id: str = response.json()["id"]
        return task_id

    def task(self, task_id: str, **params: Any) -> dict[str, Any]:
        response = self.http.get(f"/tasks/{task_id}", params=params)
        assert response.status_code == 200, response.text
        document: dict[str, Any] = response.json()
        return document

    def wait(
        self, task_id: str, states: tuple[str, ...] = TERMINAL, timeout: float = 5.0, **params: Any
    ) -> tuple[dict[str, Any], list[str]]:
        """Poll until the task reaches one of ``states``; return it and the distinct states seen in order."""
        seen: list[str] = []
        deadline = time.monotonic() + timeout
        while True:
            task = self.task(task_id, **params)
            if not seen or seen[-1] != task["state"]:
                seen.append(task["state"])
            if task["state"] in states:
                return task, seen
            if time.monotonic() > deadline:
                raise AssertionError(f"task {task_id} stuck; states seen: {seen}")
            time.sleep(0.005)

    def close(self) -> None:
        self.http.close()


def custom_config(**overrides: Any) -> Any:
    """Return the demo configuration plus odd apps and keys with limited rights."""
    echo = Service(echo_service)
    apps = (
        *demo_apps(),
        AppVersion("Supply Chain/EU", "2024.1 beta", {"echo": echo}, latest=True),
        AppVersion("Draft", "0.1", {"echo": echo, "quick": declarative_service(response={"ok": True})}),
        AppVersion("Secret", "1.0", {"echo": echo}, latest=True),
    )
    keys = (
        ApiKey(DEMO_KEY, ("Tasks",), {"*": READ | EXECUTE}, user_name="demo"),
        ApiKey("task-scope", ("Task",), {"*": READ | EXECUTE}),
        ApiKey("publisher", ("PublishApp",), {"*": READ | EXECUTE}),
        ApiKey("reader", ("Tasks",), {"*": READ}),
        ApiKey("logistics-only", ("Tasks",), {"Logistics": READ | EXECUTE}, user_name="planner"),
    )
    return demo_config(apps=apps, api_keys=keys, **overrides)
