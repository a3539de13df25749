"""
One pooled ``httpx.AsyncClient`` per AIMMS account and event loop, shared by every trigger.

A triggerer may hold thousands of :class:`~airflow_provider_aimms.triggers.aimms.AimmsTaskTrigger` at
once. Giving each its own client would open thousands of TCP connections and TLS sessions to the same
host; sharing one keeps that to the pool size. The client is closed when the last trigger using it
lets go, including when triggers are cancelled.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import httpx

from airflow_provider_aimms._http import USER_AGENT, ClientSettings

#: Connections kept open to one account; polls are tiny, so a few connections carry thousands of waits.
MAX_CONNECTIONS_PER_ACCOUNT = 10


@dataclass
class _Lease:
    client: httpx.AsyncClient
    holders: int = 0


# Keyed by event loop as well: an httpx client must not be used from a loop other than its own.
_clients: dict[tuple[int, tuple[str, str, float, str, str]], _Lease] = {}


def _new_client(settings: ClientSettings) -> httpx.AsyncClient:
    proxy = None
    if settings.proxies:
        proxy = settings.proxies.get("https") or settings.proxies.get("http")
    return httpx.AsyncClient(
        timeout=settings.timeout,
        verify=settings.verify,
        proxy=proxy,
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(
            max_connections=MAX_CONNECTIONS_PER_ACCOUNT,
            max_keepalive_connections=MAX_CONNECTIONS_PER_ACCOUNT,
        ),
        follow_redirects=False,
    )


@asynccontextmanager
async def shared_async_client(settings: ClientSettings) -> AsyncIterator[httpx.AsyncClient]:
    """Lend the account's shared client for the duration of the ``async with`` block."""
    key = (id(asyncio.get_running_loop()), settings.pool_key)
    lease = _clients.get(key)
    if lease is None:
        lease = _clients[key] = _Lease(_new_client(settings))
    lease.holders += 1
    try:
        yield lease.client
    finally:
        lease.holders -= 1
        if lease.holders == 0 and _clients.get(key) is lease:
            del _clients[key]
            # Shield the close so that a cancelled trigger still releases its sockets.
            await asyncio.shield(lease.client.aclose())


def open_client_count() -> int:
    """How many shared clients are open right now (for tests and benchmarks)."""
    return len(_clients)
