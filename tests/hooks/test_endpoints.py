"""Every Tasks v2 endpoint through the hook, over real HTTP against the emulator."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pendulum
import pytest

from airflow_provider_aimms._http import MultipartFile
from airflow_provider_aimms.exceptions import AimmsApiError, AimmsNotFoundError, AimmsParameterError
from airflow_provider_aimms.hooks.aimms import AimmsHook
from airflow_provider_aimms.models import TaskState
from tests.hooks.conftest import AWKWARD_APP

ITEMS = {
    "capacity": 10,
    "items": [{"name": "a", "weight": 5, "value": 10}, {"name": "b", "weight": 6, "value": 11}],
}


def run(hook: AimmsHook, service: str = "knapsack", payload: object = ITEMS, **kwargs: object) -> str:
    task = hook.create_task("Logistics", service, payload, **kwargs)
    return hook.wait_for_task(task.id, poll_interval=0.05, timeout=30).id


def test_create_without_version_runs_the_latest(hook: AimmsHook) -> None:
    task = hook.create_task("Logistics", "knapsack", ITEMS)
    assert (task.app_name, task.app_version, task.service_name, task.known_state) == (
        "Logistics",
        "1.0",
        "knapsack",
        TaskState.QUEUED,
    )
    assert task.group_index is None
    assert task.schedule_for is None


def test_create_with_a_version_and_a_name_that_needs_encoding(hook: AimmsHook) -> None:
    task = hook.create_task(AWKWARD_APP, "echo", "hello", app_version="2026.1 beta")
    assert (task.app_name, task.app_version) == (AWKWARD_APP, "2026.1 beta")
    ended = hook.wait_for_task(task.id, poll_interval=0.05, timeout=30)
    assert ended.known_state is TaskState.COMPLETED
    assert hook.get_task_response(task.id).content == b"hello"


def test_get_response_as_bytes_with_type_and_as_json(hook: AimmsHook) -> None:
    aimms_task_id = run(hook)
    response = hook.get_task_response(aimms_task_id)
    assert response.content_type.startswith("application/json")
    assert hook.get_task_response_json(aimms_task_id) == {
        "selected": ["b"],
        "total_value": 11,
        "total_weight": 6,
        "capacity": 10,
        "optimal": True,
    }


def test_a_finished_task_has_timestamps_and_durations(hook: AimmsHook) -> None:
    task = hook.get_task(run(hook))
    assert task.created_at <= task.assigned_at <= task.running_at <= task.ended_at  # type: ignore[operator]
    assert task.queue_time == pytest.approx((task.running_at - task.created_at).total_seconds(), abs=0.01)  # type: ignore[operator]
    assert task.return_code == 1
    assert task.error_message is None


def test_a_failed_task_reports_its_message(hook: AimmsHook) -> None:
    task = hook.get_task(run(hook, "fail"))
    assert (task.known_state, task.error_message, task.return_code) == (
        TaskState.FAILED,
        "Model infeasible: demand exceeds supply",
        0,
    )


@pytest.mark.parametrize(
    ("payload", "content_type", "sent", "received_type"),
    [
        ({"x": [1, 2]}, None, b'{"x":[1,2]}', "application/json"),
        ("a,b\n1,2\n", "text/csv", b"a,b\n1,2\n", "text/csv"),
        (b"PK\x03\x04zip", "application/zip", b"PK\x03\x04zip", "application/zip"),
        (io.BytesIO(b"\x00raw"), None, b"\x00raw", "application/octet-stream"),
    ],
)
def test_payloads_arrive_byte_for_byte(
    hook: AimmsHook, payload: object, content_type: str | None, sent: bytes, received_type: str
) -> None:
    aimms_task_id = run(hook, "echo", payload, content_type=content_type)
    response = hook.get_task_response(aimms_task_id)
    assert response.content == sent
    assert response.content_type.split(";")[0] == received_type


def test_a_path_payload_and_a_multipart_upload(hook: AimmsHook, tmp_path: Path) -> None:
    data = tmp_path / "scenario.json"
    data.write_text(json.dumps(ITEMS))
    assert hook.get_task_response_json(run(hook, "knapsack", data))["total_value"] == 11
    upload = hook.get_task_response(run(hook, "echo", MultipartFile(data)))
    # The whole multipart body is the request file, as PRO stores it (an assumption; see docs).
    assert b'name="file"; filename="scenario.json"' in upload.content
    assert json.dumps(ITEMS).encode() in upload.content


def test_list_filters_and_pages(hook: AimmsHook) -> None:
    ids = [hook.create_task("Logistics", "echo", str(i)).id for i in range(5)]
    hook.create_task("Logistics", "echo", "old", app_version="0.9")
    page = hook.list_tasks(app_name="Logistics", app_version="1.0", limit=2, offset=1)
    assert page.total == 5
    assert len(page.tasks) == 2
    assert {t.id for t in hook.iter_tasks(app_name="Logistics", app_version="1.0", page_size=2)} == set(ids)
    today = pendulum.now("UTC").date()
    assert hook.list_tasks(created_after=today).total == 6
    assert hook.list_tasks(created_before=today).total == 0
    assert hook.list_tasks(app_name="Nope").total == 0


@pytest.mark.parametrize(("name", "value"), [("limit", 0), ("offset", -1), ("limit", "10")])
def test_list_refuses_bad_paging(hook: AimmsHook, name: str, value: object) -> None:
    with pytest.raises(AimmsParameterError, match=f"`{name}`"):
        hook.list_tasks(**{name: value})  # type: ignore[arg-type]


def test_logs_as_entries_as_lines_and_streamed_to_a_file(hook: AimmsHook, tmp_path: Path) -> None:
    aimms_task_id = run(hook, "fail")
    logs = hook.get_task_logs(aimms_task_id)
    messages = [entry["message"] for entry in logs["logs"]]
    assert "Checking supply against demand." in messages
    lines = hook.get_task_log_lines(aimms_task_id, last=1)
    assert len(lines) == 1
    assert lines[0].endswith(messages[-1])
    target = hook.download_task_logs(aimms_task_id, tmp_path / "logs" / "task.log")
    assert "Checking supply against demand." in target.read_text()
    assert not (tmp_path / "logs" / "task.log.part").exists()


def test_stats_and_current_stats(hook: AimmsHook) -> None:
    run(hook)
    current = hook.get_current_task_stats()
    assert isinstance(current, dict)
    assert current
    stats = hook.get_task_stats(appName="Logistics")
    assert stats is not None


@pytest.mark.parametrize(
    ("mode", "end_state"), [("interrupt-solve", "completed"), ("interrupt-execution", "failed")]
)
def test_interrupt_modes(hook: AimmsHook, mode: str, end_state: str) -> None:
    task = hook.create_task("Logistics", "slow_solve", {})
    for _ in range(200):
        if hook.get_task(task.id).known_state is TaskState.SOLVING:
            break
    hook.interrupt_task(task.id, mode)
    ended = hook.wait_for_task(task.id, poll_interval=0.05, timeout=30)
    assert ended.state == end_state


def test_interrupt_mode_is_checked_before_sending(hook: AimmsHook, server) -> None:
    with pytest.raises(AimmsParameterError, match=r"`mode`.*interrupt-execution"):
        hook.interrupt_task("some-id", "stop-now")


def test_delete_and_then_it_is_gone(hook: AimmsHook) -> None:
    aimms_task_id = run(hook)
    hook.delete_task(aimms_task_id)
    with pytest.raises(AimmsNotFoundError):
        hook.get_task(aimms_task_id)


def test_errors_carry_aimms_details(hook: AimmsHook) -> None:
    with pytest.raises(AimmsNotFoundError) as info:
        hook.create_task("NoSuchApp", "knapsack", {})
    assert info.value.status_code == 404
    assert info.value.error_id  # a correlation id to quote to AIMMS support
    with pytest.raises(AimmsApiError, match="with latest tag"):
        hook.create_task("NoSuchApp", "knapsack", {})


def test_schedule_arguments_reach_aimms(hook: AimmsHook) -> None:
    start = pendulum.now("UTC").add(hours=2).replace(microsecond=0)
    task = hook.create_task("Logistics", "echo", "x", schedule_for=start)
    assert task.scheduled_start == start
    recurring = hook.create_task("Logistics", "echo", "x", schedule_in="1 hour", schedule_interval="1 day")
    assert recurring.schedule_interval == "1 day"
    assert recurring.group_index == 0


def test_group_index_selects_a_run_of_a_recurring_task(hook: AimmsHook, server) -> None:
    task = hook.create_task("Logistics", "echo", "tick", schedule_interval="PT1H")
    hook.wait_for_task(task.id, group_index=0, poll_interval=0.05, timeout=30)
    server.admin.advance(3600)
    first = hook.get_task(task.id, group_index=0)
    last = hook.get_task(task.id)
    assert first.group_index == 0
    assert first.known_state is TaskState.COMPLETED
    assert last.group_index is not None
    assert last.group_index >= 1
    assert hook.get_task_response(task.id, group_index=0).content == b"tick"
    with pytest.raises(AimmsParameterError, match="`group_index`"):
        hook.get_task(task.id, group_index=-1)
    hook.delete_task(task.id)  # the last run: stops the recurrence
    runs = [t for t in server.admin.tasks() if t["id"] == task.id]
    assert runs  # the emulator remembers every run, deleted or not


def test_state_hook_calls_can_be_verified(hook: AimmsHook, server) -> None:
    from airflow_provider_aimms.models import parse_timestamp
    from airflow_provider_aimms.state_hooks import build_state_hook_url, verify_state_hook_call

    url = build_state_hook_url("http://127.0.0.1:9/aimms-hook", "hook-secret")
    task = hook.create_task("Logistics", "echo", "x", state_hook_url=url)
    hook.wait_for_task(task.id, poll_interval=0.05, timeout=30)
    calls = [c for c in server.admin.hook_calls() if task.id in c["url"]]
    states = []
    for call in calls:
        assert "hook-secret" not in call["url"]  # AIMMS strips the key
        query = call["url"].split("?", 1)[1]
        # `at` is on the emulator's clock, which other tests may have moved forward.
        now = parse_timestamp(server.admin.now())
        states.append(verify_state_hook_call(query, "hook-secret", now=now).task_state)
    assert states[0] == "queued"
    assert states[-1] == "completed"


def test_state_hook_url_is_checked(hook: AimmsHook) -> None:
    with pytest.raises(AimmsParameterError, match="`state_hook_url`"):
        hook.create_task("Logistics", "echo", "x", state_hook_url="hooks.example.com/x")
