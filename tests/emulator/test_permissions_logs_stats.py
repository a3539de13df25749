"""App permissions per key, task logs and task statistics."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from emulator_support import TasksClient, assert_error

if TYPE_CHECKING:
    from airflow_provider_aimms.emulator import EmulatorServer


def test_read_only_key_can_retrieve_but_not_create_interrupt_or_delete(
    api: TasksClient, client_for: Any
) -> None:
    reader = client_for("reader")
    task_id = api.created_id("echo", {})
    api.wait(task_id)

    assert reader.task(task_id)["id"] == task_id
    assert reader.http.get(f"/tasks/{task_id}/response").status_code == 200
    assert reader.http.get("/tasks").json()["total_tasks"] == 1
    assert_error(reader.create("echo", {}), 403, "needs Read and Execute permission on app Logistics")
    assert_error(
        reader.http.put(f"/tasks/{task_id}", json={"setstatus": "interrupt-solve"}), 403, "Read and Execute"
    )
    assert_error(reader.http.delete(f"/tasks/{task_id}"), 403, "Read and Execute")


def test_app_permissions_hide_other_apps(api: TasksClient, client_for: Any) -> None:
    planner = client_for("logistics-only")
    secret_id = api.created_id("echo", {}, app="Secret", version="1.0")
    own_id = planner.created_id("echo", {})

    listed = planner.http.get("/tasks").json()

    assert [task["id"] for task in listed["current_batch"]] == [own_id]
    assert planner.task(own_id)["userName"] == "planner"
    assert_error(planner.http.get(f"/tasks/{secret_id}"), 403, "needs Read permission on app Secret")
    assert_error(planner.create("echo", {}, app="Secret", version="1.0"), 403, "app Secret")


def test_logs_page_filter_and_download(api: TasksClient) -> None:
    task_id = api.created_id("knapsack", {"capacity": 1, "items": [{"name": "a", "weight": 1, "value": 2}]})
    api.wait(task_id)

    everything = api.http.get(f"/tasks/{task_id}/logs").json()
    page = api.http.get(f"/tasks/{task_id}/logs", params={"offset": 1, "limit": 2}).json()
    solve = api.http.get(f"/tasks/{task_id}/logs", params={"contains": "SOLVE"}).json()
    download = api.http.get(f"/tasks/{task_id}/logs/download")

    assert everything["total"] == len(everything["logs"]) == 8
    assert page["total"] == 8
    assert page["logs"] == everything["logs"][1:3]
    assert [line["message"] for line in solve["logs"]] == ["Solve started.", "Solve finished."]
    assert download.headers["content-type"].startswith("text/plain")
    assert download.headers["content-disposition"] == f'attachment; filename="task-{task_id}.log"'
    lines = download.text.splitlines()
    assert len(lines) == 8
    first = everything["logs"][0]
    assert lines[0] == f"{first['timestamp']} {first['message']}"
    assert len(first["timestamp"]) == len("2026-12-03 17:20:01.123")


def test_current_stats_count_queued_running_and_total(api: TasksClient) -> None:
    api.created_id("echo", {}, params={"scheduleIn": "1 day"})
    solving = api.created_id("slow_solve", {})
    api.wait(solving, ("solving",))
    api.wait(api.created_id("echo", {}, version="0.9"))

    counts = api.http.get("/tasks/stats/current").json()
    only_old = api.http.get("/tasks/stats/current", params={"appVersion": "0.9"}).json()

    assert counts == {"queued": 1, "running": 1, "total": 3}
    assert only_old == {"queued": 0, "running": 0, "total": 1}
    api.http.put(f"/tasks/{solving}", json={"setstatus": "interrupt-execution"})


def test_stats_buckets_run_and_queue_times(server: EmulatorServer, api: TasksClient) -> None:
    finished = [api.wait(api.created_id("echo", {}))[0] for _ in range(2)]

    stats = api.http.get("/tasks/stats", params={"resolution": "hour"}).json()

    assert stats["resolution"] == "hour"
    busy = [bucket for bucket in stats["buckets"] if bucket["count"]]
    assert sum(bucket["count"] for bucket in busy) == 2
    run_times = [task["runTime"] for task in finished]
    assert max(bucket["runTime"]["max"] for bucket in busy) == max(run_times)
    assert min(bucket["queueTime"]["min"] for bucket in busy) == min(task["queueTime"] for task in finished)
    assert set(busy[-1]) == {"begin", "end", "count", "runTime", "queueTime"}
    assert_error(api.http.get("/tasks/stats", params={"resolution": "minute"}), 400, "Invalid resolution")
