"""
One pooled HTTP client per account in a triggerer: shared by triggers, closed with the last, never leaked.

These run real triggers against the emulator; only their waits are shortened. Every test runs once with
the aiohttp client and once with the httpx fallback.
"""

from __future__ import annotations

import asyncio
import socket
from typing import TYPE_CHECKING

import httpx
import pytest

from airflow_provider_aimms import _async_clients
from airflow_provider_aimms._http import ClientSettings
from airflow_provider_aimms.exceptions import AimmsNotFoundError, AimmsTransportError
from airflow_provider_aimms.hooks.aimms import AimmsHook
from airflow_provider_aimms.triggers.aimms import AimmsTaskTrigger

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from airflow.triggers.base import TriggerEvent

    from airflow_provider_aimms.emulator import EmulatorServer


@pytest.fixture(autouse=True, params=["aiohttp", "httpx"])
def library(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Make the shared client use one library for the whole test."""
    monkeypatch.setattr(_async_clients, "ASYNC_HTTP_LIBRARY", request.param)
    return str(request.param)


def _slow_task() -> str:
    return AimmsHook().create_task("Logistics", "slow_solve", {}).id


def _trigger(task_id: str) -> AimmsTaskTrigger:
    return AimmsTaskTrigger(aimms_task_id=task_id, poll_interval=0.05, min_poll_interval=0.01)


async def _first_event(trigger: AimmsTaskTrigger) -> TriggerEvent:
    # Take the event and stop iterating, as a triggerer may: the client must be released all the same.
    generator: AsyncIterator[TriggerEvent] = trigger.run()
    return await anext(generator)


async def _until_holders(expected: int) -> _async_clients.AsyncTransport:
    settings = await AimmsHook().asettings()
    while _async_clients.holders(settings) != expected:  # noqa: ASYNC110 - no event to wait on here
        await asyncio.sleep(0.01)
    leases = _async_clients._clients[asyncio.get_running_loop()]
    return leases[settings.pool_key].client


async def test_two_triggers_of_one_connection_share_one_client(aimms: EmulatorServer) -> None:
    first, second = _slow_task(), _slow_task()
    runs = [asyncio.create_task(_first_event(_trigger(task_id))) for task_id in (first, second)]

    client = await _until_holders(2)

    assert _async_clients.open_client_count() == 1
    assert not client.is_closed
    for run in runs:
        run.cancel()
    await asyncio.gather(*runs, return_exceptions=True)


async def test_cancelled_triggers_leak_no_client(aimms: EmulatorServer) -> None:
    runs = [asyncio.create_task(_first_event(_trigger(_slow_task()))) for _ in range(3)]
    client = await _until_holders(3)

    for run in runs:
        run.cancel()
    results = await asyncio.gather(*runs, return_exceptions=True)

    assert all(isinstance(result, asyncio.CancelledError) for result in results)
    assert _async_clients.open_client_count() == 0
    assert client.is_closed


async def test_the_client_closes_when_the_last_trigger_ends(aimms: EmulatorServer) -> None:
    quick = AimmsHook().create_task("Logistics", "echo", {"n": 1}).id
    slow = _slow_task()
    slow_run = asyncio.create_task(_first_event(_trigger(slow)))
    client = await _until_holders(1)

    quick_event = await _first_event(_trigger(quick))

    assert quick_event.payload["status"] == "completed"
    assert _async_clients.open_client_count() == 1
    assert not client.is_closed

    # interrupt-solve ends the slow task 'completed'; its trigger then fires and lets go of the client.
    await AimmsHook().ainterrupt_task(slow, "interrupt-solve")
    slow_event = await slow_run

    assert slow_event.payload["status"] == "completed"
    assert slow_event.payload["aimms_task_id"] == slow
    assert _async_clients.open_client_count() == 0
    assert client.is_closed


async def test_a_trigger_that_fired_holds_no_client_even_if_never_resumed(aimms: EmulatorServer) -> None:
    task_id = AimmsHook().create_task("Logistics", "echo", "hello").id
    generator = _trigger(task_id).run()

    event = await anext(generator)

    # The generator is still suspended at its yield; the client must already be closed.
    assert event.payload["status"] == "completed"
    assert _async_clients.open_client_count() == 0
    await generator.aclose()


async def test_another_event_loop_gets_its_own_client(aimms: EmulatorServer) -> None:
    settings = await AimmsHook().asettings()

    async def client_in_this_loop() -> _async_clients.AsyncTransport:
        async with _async_clients.shared_async_client(settings) as client:
            return client

    async with _async_clients.shared_async_client(settings) as ours:
        theirs = await asyncio.to_thread(asyncio.run, client_in_this_loop())

        assert theirs is not ours
        assert theirs.is_closed
        assert not ours.is_closed
        assert _async_clients.open_client_count() == 1
    assert ours.is_closed


async def test_the_chosen_library_serves_the_triggers(aimms: EmulatorServer, library: str) -> None:
    run = asyncio.create_task(_first_event(_trigger(_slow_task())))
    client = await _until_holders(1)

    expected = _async_clients._AiohttpClient if library == "aiohttp" else httpx.AsyncClient
    assert isinstance(client, expected)
    run.cancel()
    await asyncio.gather(run, return_exceptions=True)


async def test_an_answer_reaches_the_hook_with_its_status_headers_and_body(aimms: EmulatorServer) -> None:
    task_id = AimmsHook().create_task("Logistics", "echo", "round trip").id
    hook = AimmsHook()
    async with hook.async_session():
        ended = await hook.await_task_end(task_id, None, within=30, poll=0.05)
        response = await hook.aget_task_response(task_id)
        with pytest.raises(AimmsNotFoundError) as missing:
            await hook.aget_task("no-such-task")

    assert ended is not None
    assert ended.state == "completed"
    assert response.content == b"round trip"
    assert response.content_type.startswith("text/plain")
    assert missing.value.status_code == 404


def test_a_proxy_in_the_connection_or_the_environment_keeps_httpx(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_async_clients, "ASYNC_HTTP_LIBRARY", None)
    for name in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    plain = ClientSettings("https://acme.aimms.cloud", "k")
    proxied = ClientSettings("https://acme.aimms.cloud", "k", proxies={"https": "http://proxy:3128"})

    assert _async_clients._library_for(plain) == "aiohttp"
    assert _async_clients._library_for(proxied) == "httpx"
    monkeypatch.setenv("NO_PROXY", "localhost")
    assert _async_clients._library_for(plain) == "aiohttp"
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy:3128")
    assert _async_clients._library_for(plain) == "httpx"


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def test_a_refused_connection_is_known_never_to_have_reached_aimms() -> None:
    settings = ClientSettings(f"http://127.0.0.1:{_closed_port()}", "k", timeout=5)
    async with _async_clients.shared_async_client(settings) as client:
        with pytest.raises(httpx.ConnectError):
            await client.request("GET", settings.base_url + "/tasks/x")


async def test_a_dropped_connection_may_have_reached_aimms(aimms: EmulatorServer, library: str) -> None:
    aimms.admin.set_faults([{"route": "get", "kind": "drop"}])
    hook = AimmsHook()

    with pytest.raises(AimmsTransportError) as info:
        await hook.aget_task("some-task")

    # The read was retried (it is idempotent) and each try was dropped; none counts as "never sent".
    assert info.value.reached_server is True  # type: ignore[attr-defined]
    # Four tries of the hook's policy; aiohttp also resends an idempotent request once by itself when a
    # pooled keep-alive connection turns out closed, as here.
    assert len(aimms.admin.fault_log()) == (8 if library == "aiohttp" else 4)
