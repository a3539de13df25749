"""
Client overhead: CPU per request of the triggers' shared client, by library and pool size.

Run: ``.venv-airflow-3/bin/python bench/client_overhead.py`` (about 1 minute). 100 coroutines send 30
``AimmsHook.aget_task`` calls each, one after the other, through one shared client, against the emulator
in a separate process; the CPU time of this process is divided by the 3000 requests. Two raw rows send
the same GET with the bare library (no hook), to show what the library alone costs. Prints JSON lines; it
does not touch the docs (docs/performance.md quotes a run).
"""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

BENCH = "client_overhead"
COROUTINES = 100
CALLS_EACH = 30
#: (row label, library, connections, in flight); ``raw-*`` rows bypass the hook.
CASES = (
    ("hook, httpx, 10 connections, 20 in flight", "httpx", 10, 20),
    ("hook, httpx, 4 connections, 8 in flight", "httpx", 4, 8),
    ("hook, httpx, 2 connections, 4 in flight", "httpx", 2, 4),
    ("hook, aiohttp, 10 connections, 20 in flight", "aiohttp", 10, 20),
    ("hook, aiohttp, 4 connections, 8 in flight", "aiohttp", 4, 8),
    ("raw httpx.AsyncClient.get, 4 connections, 8 in flight", "raw-httpx", 4, 8),
    ("raw httpx.AsyncClient.get, 4 connections, 8 in flight, trust_env=False", "raw-httpx-noenv", 4, 8),
    ("raw aiohttp.ClientSession.get, 4 connections", "raw-aiohttp", 4, 8),
)


async def _raw_getter(library: str, url: str, connections: int, in_flight: int) -> tuple[Any, Any]:
    headers = {"apikey": common.API_KEY, "Accept": "application/json"}
    if library.startswith("raw-httpx"):
        import httpx

        limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
        client = httpx.AsyncClient(limits=limits, trust_env=library != "raw-httpx-noenv")
        # The same gate as the shared client's: httpcore's pool costs quadratic CPU in its queue length.
        gate = asyncio.Semaphore(in_flight)

        async def get_httpx(task_id: str) -> bytes:
            async with gate:
                return (await client.get(f"{url}/pro-api/v2/tasks/{task_id}", headers=headers)).content

        return get_httpx, client.aclose
    import aiohttp

    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=connections))

    async def get_aiohttp(task_id: str) -> bytes:
        async with session.get(f"{url}/pro-api/v2/tasks/{task_id}", headers=headers) as response:
            return await response.read()

    return get_aiohttp, session.close


async def _cpu_per_call(get: Any, ids: list[str]) -> float:
    async def caller(offset: int) -> None:
        for call in range(CALLS_EACH):
            await get(ids[(offset + call) % len(ids)])

    process = psutil.Process()
    await get(ids[0])  # open a connection and import lazily what the first call needs
    before = process.cpu_times()
    await asyncio.gather(*(caller(offset) for offset in range(COROUTINES)))
    after = process.cpu_times()
    return ((after.user + after.system) - (before.user + before.system)) / (COROUTINES * CALLS_EACH)


async def _measure(url: str, ids: list[str], library: str, connections: int, in_flight: int) -> float:
    from airflow_provider_aimms import _async_clients
    from airflow_provider_aimms.hooks.aimms import AimmsHook

    if library.startswith("raw-"):
        get, close = await _raw_getter(library, url, connections, in_flight)
        try:
            return await _cpu_per_call(get, ids)
        finally:
            await close()
    _async_clients.ASYNC_HTTP_LIBRARY = library
    _async_clients.MAX_CONNECTIONS_PER_ACCOUNT = connections
    _async_clients.MAX_IN_FLIGHT_PER_ACCOUNT = in_flight
    hook = AimmsHook("aimms_bench")
    async with hook.async_session():
        return await _cpu_per_call(hook.aget_task, ids)


def main() -> None:
    """Measure every case against one emulator process."""
    common.isolated_airflow_home()
    common.start_results(BENCH)
    with common.emulator_process() as emulator:
        ids = emulator.create_tasks(100)
        os.environ.update(common.connection_env(emulator.url))
        for label, library, connections, in_flight in CASES:
            started = time.monotonic()
            seconds = asyncio.run(_measure(emulator.url, ids, library, connections, in_flight))
            common.emit(
                BENCH,
                case=label,
                cpu_ms_per_request=round(1000 * seconds, 3),
                wall_s=round(time.monotonic() - started, 1),
            )


if __name__ == "__main__":
    main()
