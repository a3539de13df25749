"""The async side the trigger uses: the same requests, over httpx, with a triggerer-safe connection lookup."""

from __future__ import annotations

from airflow_provider_aimms._async_clients import open_client_count
from airflow_provider_aimms.hooks.aimms import AimmsHook
from airflow_provider_aimms.models import TaskState


async def test_async_get_response_and_interrupt(server) -> None:
    sync = AimmsHook()
    echo = sync.create_task("Logistics", "echo", "async hello")
    slow = sync.create_task("Logistics", "slow_solve", {})
    hook = AimmsHook()
    async with hook.async_session():
        ended = await hook.await_task_end(echo.id, None, within=30, poll=0.05)
        assert ended is not None
        assert ended.known_state is TaskState.COMPLETED
        assert (await hook.aget_task_response(echo.id)).content == b"async hello"
        await hook.ainterrupt_task(slow.id, "interrupt-execution")
        interrupted = await hook.await_task_end(slow.id, None, within=30, poll=0.05)
        assert interrupted is not None
        assert interrupted.known_state is TaskState.FAILED
    assert open_client_count() == 0


async def test_async_retries_like_sync(server) -> None:
    task = AimmsHook().create_task("Logistics", "echo", "x")
    server.admin.set_faults([{"route": "get", "kind": "status", "status": 503, "times": 2}])
    assert (await AimmsHook().aget_task(task.id)).id == task.id
    assert len(server.admin.fault_log()) == 2
