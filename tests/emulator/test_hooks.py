"""State hooks: one PUT per state change, with task_uuid, task_state, at and an HMAC of the task id."""

from __future__ import annotations

import hashlib
import hmac
import re
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

import pytest
from emulator_support import TasksClient, assert_error

from airflow_provider_aimms.emulator.hooks import hook_call_url, hook_signature

if TYPE_CHECKING:
    from collections.abc import Iterator

    from airflow_provider_aimms.emulator import EmulatorServer

AT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$")


class Receiver:
    """Record the PUTs a hook target receives; answer with ``status``."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str]] = []
        self.status = 204
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_PUT(self) -> None:
                receiver.calls.append(("PUT", self.path))
                self.send_response(receiver.status)
                self.send_header("Location", "http://127.0.0.1:9/elsewhere")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    target = Receiver()
    yield target
    target.close()


def wait_for_calls(server: EmulatorServer, count: int) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 5
    while len(calls := server.admin.hook_calls()) < count:
        assert time.monotonic() < deadline, calls
        time.sleep(0.01)
    return calls


def test_every_state_change_is_put_with_an_hmac(
    server: EmulatorServer, api: TasksClient, receiver: Receiver
) -> None:
    hook = f"{receiver.url}/aimms/hook?source=airflow&key=s3cret"
    task_id = api.created_id("echo", {}, headers={"taskStateHook": hook})
    api.wait(task_id)

    recorded = wait_for_calls(server, 6)

    expected_hmac = hmac.new(b"s3cret", task_id.encode(), hashlib.sha256).hexdigest()
    states = []
    for method, path in receiver.calls:
        parts = urlsplit(path)
        query = {name: values[0] for name, values in parse_qs(parts.query).items()}
        assert method == "PUT"
        assert parts.path == "/aimms/hook"
        assert set(query) == {"source", "task_uuid", "task_state", "at", "hmac"}
        assert (query["source"], query["task_uuid"], query["hmac"]) == ("airflow", task_id, expected_hmac)
        assert AT.match(query["at"])
        states.append(query["task_state"])
    assert states == ["queued", "assigned", "running", "solving", "running", "completed"]
    assert [call["status"] for call in recorded] == [204] * 6
    assert all("s3cret" not in call["url"] and "key=" not in call["hook_url"] for call in recorded)


def test_without_key_there_is_no_hmac(server: EmulatorServer, api: TasksClient, receiver: Receiver) -> None:
    task_id = api.created_id("fail", {}, headers={"taskStateHook": receiver.url + "/h"})
    api.wait(task_id)

    calls = wait_for_calls(server, 6)

    assert "hmac=" not in calls[0]["url"]
    assert calls[-1]["task_state"] == "failed"


def test_redirects_are_not_followed_and_failures_not_retried(
    server: EmulatorServer, api: TasksClient, receiver: Receiver
) -> None:
    receiver.status = 307
    redirected = api.created_id("echo", {}, headers={"taskStateHook": receiver.url + "/h"})
    unreachable = api.created_id("echo", {}, headers={"taskStateHook": "http://127.0.0.1:9/nobody"})
    api.wait(redirected)
    api.wait(unreachable)

    calls = wait_for_calls(server, 12)

    to_receiver = [call for call in calls if call["task_uuid"] == redirected]
    to_nobody = [call for call in calls if call["task_uuid"] == unreachable]
    assert [call["status"] for call in to_receiver] == [307] * 6
    assert len(receiver.calls) == 6
    assert len(to_nobody) == 6
    assert all(call["status"] is None and "Connect" in call["error"] for call in to_nobody)


def test_a_relative_hook_url_is_400(api: TasksClient) -> None:
    assert_error(api.create("echo", {}, headers={"taskStateHook": "/relative"}), 400, "Invalid taskStateHook")


def test_hook_call_url_and_signature_are_stable() -> None:
    url = hook_call_url("https://example.test/cb?key=k&a=1", "t-1", "queued", "2026-12-03T17:20:01.123456Z")

    assert url == (
        "https://example.test/cb?a=1&task_uuid=t-1&task_state=queued&at=2026-12-03T17%3A20%3A01.123456Z"
        f"&hmac={hook_signature('k', 't-1')}"
    )
    assert hook_signature("k", "t-1") == hmac.new(b"k", b"t-1", hashlib.sha256).hexdigest()
