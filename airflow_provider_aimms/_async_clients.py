"""
One pooled ``httpx.AsyncClient`` per AIMMS account and event loop, shared by every trigger.

A triggerer may hold thousands of :class:`~airflow_provider_aimms.triggers.aimms.AimmsTaskTrigger` at
once. Giving each its own client would open thousands of TCP connections and TLS sessions to the same
host; sharing one keeps that to the pool size. The client is closed when the last trigger using it
lets go, including when triggers are cancelled.
"""

from __future__ import annotations

import asyncio
import weakref
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import httpx

from airflow_provider_aimms._http import USER_AGENT, ClientSettings

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

#: Connections kept open to one account; polls are tiny, so a few connections carry thousands of waits.
MAX_CONNECTIONS_PER_ACCOUNT = 10
#: How long an idle pooled connection stays open. Longer than the default poll interval (10 s), so a
#: connection survives the gap between two polls instead of being re-opened for each.
KEEPALIVE_EXPIRY_SECONDS = 30.0
#: Requests handed to the connection pool at once; the rest wait their turn in a FIFO semaphore. httpcore's
#: pool rescans its whole queue whenever a connection frees up, so 5000 triggers polling in one burst would
#: cost quadratic CPU there (measured: 2000 queued GETs took 24 s of CPU, 5 s behind a gate).
MAX_IN_FLIGHT_PER_ACCOUNT = 2 * MAX_CONNECTIONS_PER_ACCOUNT

PoolKey = tuple[str, str, float, str, str]


@dataclass
class _Lease:
    client: httpx.AsyncClient
    holders: int = 0


# Keyed by the event loop object itself, weakly: an httpx client must not be used from a loop other
# than its own, and an ``id()`` of a closed loop may be reused by a new one. A loop that is dropped
# with leases still out (a test's loop, say) takes its entries with it.
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[PoolKey, _Lease]] = (
    weakref.WeakKeyDictionary()
)


class _GatedClient(httpx.AsyncClient):
    """An ``httpx.AsyncClient`` that lets at most ``in_flight`` requests into its connection pool at once."""

    def __init__(self, *, in_flight: int, **options: Any) -> None:
        super().__init__(**options)
        self._gate = asyncio.Semaphore(in_flight)

    async def send(self, request: httpx.Request, **options: Any) -> httpx.Response:
        """Send once a place is free; the body is read before the place is given back."""
        async with self._gate:
            return await super().send(request, **options)


def _new_client(settings: ClientSettings) -> httpx.AsyncClient:
    proxy = None
    if settings.proxies:
        proxy = settings.proxies.get("https") or settings.proxies.get("http")
    return _GatedClient(
        in_flight=MAX_IN_FLIGHT_PER_ACCOUNT,
        timeout=settings.timeout,
        verify=settings.verify,
        proxy=proxy,
        headers={"User-Agent": USER_AGENT},
        limits=httpx.Limits(
            max_connections=MAX_CONNECTIONS_PER_ACCOUNT,
            max_keepalive_connections=MAX_CONNECTIONS_PER_ACCOUNT,
            keepalive_expiry=KEEPALIVE_EXPIRY_SECONDS,
        ),
        follow_redirects=False,
    )


@asynccontextmanager
async def shared_async_client(settings: ClientSettings) -> AsyncIterator[httpx.AsyncClient]:
    """Lend the account's shared client for the duration of the ``async with`` block."""
    leases = _clients.setdefault(asyncio.get_running_loop(), {})
    key = settings.pool_key
    lease = leases.get(key)
    if lease is None:
        lease = leases[key] = _Lease(_new_client(settings))
    lease.holders += 1
    try:
        yield lease.client
    finally:
        lease.holders -= 1
        if lease.holders == 0 and leases.get(key) is lease:
            del leases[key]
            # Shield the close so that a cancelled trigger still releases its sockets.
            await asyncio.shield(lease.client.aclose())


def open_client_count() -> int:
    """How many shared clients are open right now, over all event loops (for tests and benchmarks)."""
    return sum(len(leases) for leases in _clients.values())


def holders(settings: ClientSettings) -> int:
    """How many holders the current loop's client for ``settings`` has (0 if none is open)."""
    lease = _clients.get(asyncio.get_running_loop(), {}).get(settings.pool_key)
    return 0 if lease is None else lease.holders
