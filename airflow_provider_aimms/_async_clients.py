"""
One pooled HTTP client per AIMMS account and event loop, shared by every trigger.

A triggerer may hold thousands of :class:`~airflow_provider_aimms.triggers.aimms.AimmsTaskTrigger` at
once. Giving each its own client would open thousands of TCP connections and TLS sessions to the same
host; sharing one keeps that to the pool size. The client is closed when the last trigger using it
lets go, including when triggers are cancelled.

The client is an ``aiohttp.ClientSession`` when aiohttp can be imported, and an ``httpx.AsyncClient``
otherwise. aiohttp is not a dependency of this provider or of Airflow 3 core (it comes with Airflow 2 and
with ``apache-airflow-providers-http``), but where it is present a poll costs a quarter of the CPU
(``bench/client_overhead.py``: 0.5 ms per request through the hook, against 1.8-2.7 ms with httpx,
whose pool re-checks every pooled socket on each request). Both speak
to the hook through :class:`AsyncTransport`, and aiohttp's errors are translated into httpx's, so
``_http.py`` stays the one place that decides what a failure means.
"""

from __future__ import annotations

import asyncio
import urllib.request
import weakref
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import httpx

from airflow_provider_aimms._http import USER_AGENT, ClientSettings

try:
    import aiohttp
except ImportError:  # pragma: no cover - Airflow 2 and providers-http both bring it
    aiohttp = None  # type: ignore[assignment]

if TYPE_CHECKING:
    import ssl
    from collections.abc import AsyncIterator, Mapping

#: Connections kept open to one account. Polls are tiny and answered in milliseconds, so a few connections
#: carry thousands of waits; and httpx re-checks every pooled socket on each request, so fewer make its
#: fallback cheaper (``bench/client_overhead.py``: 2.7 ms of CPU per request with 10 connections, 2.3 with
#: 4, 1.8 with 2; aiohttp 0.5 ms with either).
MAX_CONNECTIONS_PER_ACCOUNT = 4
#: How long an idle pooled connection stays open. Longer than the default poll interval (10 s), so a
#: connection survives the gap between two polls instead of being re-opened for each.
KEEPALIVE_EXPIRY_SECONDS = 30.0
#: Requests handed to the connection pool at once; the rest wait their turn in a FIFO semaphore. httpcore's
#: pool rescans its whole queue whenever a connection frees up, so 5000 triggers polling in one burst would
#: cost quadratic CPU there (measured: 2000 queued GETs took 24 s of CPU, 5 s behind a gate).
MAX_IN_FLIGHT_PER_ACCOUNT = 2 * MAX_CONNECTIONS_PER_ACCOUNT
#: Which library the shared client uses: ``"aiohttp"``, ``"httpx"``, or ``None`` for aiohttp when it is
#: importable and the settings need nothing only httpx does (see :func:`_library_for`).
ASYNC_HTTP_LIBRARY: str | None = None

PoolKey = tuple[str, str, float, str, str]


class AsyncResponse(Protocol):
    """What the hook reads from an answer."""

    @property
    def status_code(self) -> int: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def content(self) -> bytes: ...


class AsyncTransport(Protocol):
    """The part of ``httpx.AsyncClient`` the hook uses; a transport failure raises ``httpx.TransportError``."""

    @property
    def is_closed(self) -> bool: ...

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> AsyncResponse: ...

    async def aclose(self) -> None: ...


@dataclass
class _Lease:
    client: AsyncTransport
    holders: int = 0


# Keyed by the event loop object itself, weakly: a client must not be used from a loop other than its
# own, and an ``id()`` of a closed loop may be reused by a new one. A loop that is dropped with leases
# still out (a test's loop, say) takes its entries with it.
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


@dataclass(frozen=True)
class _Answer:
    status_code: int
    headers: Mapping[str, str]
    content: bytes


class _AiohttpClient:
    """One ``aiohttp.ClientSession`` behind the :class:`AsyncTransport` interface."""

    def __init__(self, settings: ClientSettings, *, connections: int, in_flight: int) -> None:
        # The very context httpx would build (certifi, a CA bundle path, or SSL_CERT_FILE), so both
        # libraries trust the same certificates.
        ssl_option: ssl.SSLContext | bool = (
            httpx.create_ssl_context(verify=settings.verify) if settings.verify is not False else False
        )
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(
                limit=connections, keepalive_timeout=KEEPALIVE_EXPIRY_SECONDS, ssl=ssl_option
            ),
            # The same limit for each step as httpx's single timeout: connect (pool wait included),
            # and each read of the answer.
            timeout=aiohttp.ClientTimeout(
                total=None,
                connect=settings.timeout,
                sock_connect=settings.timeout,
                sock_read=settings.timeout,
            ),
            headers={"User-Agent": USER_AGENT},
            # The API authenticates every request by header; a cookie jar would only cost time per answer.
            cookie_jar=aiohttp.DummyCookieJar(),
            auto_decompress=True,
        )
        self._gate = asyncio.Semaphore(in_flight)

    @property
    def is_closed(self) -> bool:
        """Tell whether :meth:`aclose` ran."""
        return self._session.closed

    async def request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, str | int] | None = None,
        headers: Mapping[str, str] | None = None,
        content: bytes | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
    ) -> AsyncResponse:
        """Send one request, read the whole answer, and raise httpx's error for a transport failure."""
        data: Any = content
        if files:
            data = aiohttp.FormData()
            for field_name, (filename, payload, content_type) in files.items():
                data.add_field(field_name, payload, filename=filename, content_type=content_type)
        async with self._gate:
            try:
                async with self._session.request(
                    method,
                    url,
                    params={name: str(value) for name, value in params.items()} if params else None,
                    headers=headers,
                    data=data,
                    allow_redirects=False,
                ) as response:
                    return _Answer(response.status, response.headers, await response.read())
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise _as_httpx_error(exc) from exc

    async def aclose(self) -> None:
        """Close the session and its pooled connections."""
        await self._session.close()


def _as_httpx_error(exc: BaseException) -> httpx.TransportError:
    """
    Translate an aiohttp failure into the httpx error that means the same for the request's fate.

    Only a connection that never opened becomes a connect error (the request provably never arrived);
    everything else becomes an error after which AIMMS may have seen the request.
    """
    message = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return httpx.ConnectTimeout(message)
    if isinstance(exc, aiohttp.ClientConnectorError):
        return httpx.ConnectError(message)
    if isinstance(exc, TimeoutError):
        return httpx.ReadTimeout(message)
    if isinstance(
        exc, aiohttp.ServerDisconnectedError | aiohttp.ClientPayloadError | aiohttp.ClientResponseError
    ):
        return httpx.RemoteProtocolError(message)
    if isinstance(exc, aiohttp.ClientOSError):
        return httpx.ReadError(message)
    return httpx.TransportError(message)


def _library_for(settings: ClientSettings) -> str:
    """
    Pick the HTTP library of a new shared client.

    aiohttp only when it is importable and no proxy is set, in the connection or in the environment: httpx
    honours ``HTTPS_PROXY`` and ``NO_PROXY`` as they are, where aiohttp would differ in the details.
    """
    if ASYNC_HTTP_LIBRARY is not None:
        return ASYNC_HTTP_LIBRARY
    # NO_PROXY alone appears as the key "no" and sets no proxy.
    environment_proxies = {scheme for scheme in urllib.request.getproxies() if scheme != "no"}
    if aiohttp is None or settings.proxies or environment_proxies:
        return "httpx"
    return "aiohttp"


def _new_client(settings: ClientSettings) -> AsyncTransport:
    if _library_for(settings) == "aiohttp":
        return _AiohttpClient(
            settings, connections=MAX_CONNECTIONS_PER_ACCOUNT, in_flight=MAX_IN_FLIGHT_PER_ACCOUNT
        )
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
async def shared_async_client(settings: ClientSettings) -> AsyncIterator[AsyncTransport]:
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
