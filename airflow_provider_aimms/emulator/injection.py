"""
Apply a fault to one request at the ASGI level: answer wrongly, late, or not at all.

A real drop needs the connection itself: an ASGI app that returns without answering makes uvicorn send
a 500, which is not a drop. uvicorn's ``send`` is a bound method of its request-response cycle, which
holds the asyncio transport; closing that transport makes the client see the server disconnect without
an answer (``httpx.RemoteProtocolError``).
"""

from __future__ import annotations

import asyncio
import json
from typing import TYPE_CHECKING, Any

from airflow_provider_aimms.emulator.errors import error_body

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

    from airflow_provider_aimms.emulator.faults import FaultRule


class ConnectionDropped(Exception):
    """Raised when a drop is asked for under a server that does not expose its transport."""


class _TrackedReceive:
    """Wrap ``receive`` to know whether the request body has been read to its end."""

    def __init__(self, receive: Receive) -> None:
        self._receive = receive
        self.body_read = False

    async def __call__(self) -> Message:
        message = await self._receive()
        if message["type"] != "http.request" or not message.get("more_body"):
            self.body_read = True
        return message


async def inject(rule: FaultRule, app: ASGIApp, scope: Scope, receive: Receive, send: Send) -> None:
    """Serve one request through ``app`` with the fault ``rule`` applied."""
    tracked = _TrackedReceive(receive)
    if rule.kind == "status":
        await _send_status(rule, send)
    elif rule.kind == "latency":
        await asyncio.sleep(rule.seconds)
        await app(scope, tracked, send)
    elif rule.kind == "drop":
        await _drop(tracked, send)
    else:
        messages = await _capture(app, scope, tracked)
        if rule.kind == "drop_after":
            await _drop(tracked, send)
            return
        if rule.kind == "latency_after":
            await asyncio.sleep(rule.seconds)
        elif rule.kind == "malformed":
            messages = _garbled(messages)
        for message in messages:
            await send(message)


async def _send_status(rule: FaultRule, send: Send) -> None:
    message = rule.message or f"Injected fault: HTTP {rule.status}."
    body = json.dumps(error_body(rule.status, message)).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    if rule.retry_after is not None:
        headers.append((b"retry-after", rule.retry_after.encode("latin-1")))
    await send({"type": "http.response.start", "status": rule.status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _capture(app: ASGIApp, scope: Scope, receive: Receive) -> list[Message]:
    messages: list[Message] = []

    async def keep(message: Message) -> None:
        messages.append(message)

    await app(scope, receive, keep)
    return messages


def _garbled(messages: list[Message]) -> list[Message]:
    body = b"".join(
        message.get("body", b"") for message in messages if message["type"] == "http.response.body"
    )
    # Cut the real answer in half, so it reads as JSON that stops mid-way; an empty one becomes a stub.
    broken = body[: len(body) // 2] if len(body) > 4 else b'{"id": "'
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(broken)).encode())]
    return [
        {"type": "http.response.start", "status": 200, "headers": headers},
        {"type": "http.response.body", "body": broken},
    ]


async def _drop(receive: _TrackedReceive, send: Send) -> None:
    transport: Any = getattr(getattr(send, "__self__", None), "transport", None)
    if transport is None:
        raise ConnectionDropped("this server does not expose its connection, so it cannot be dropped")
    # Read the rest of the request first: closing with unread data would reset the connection instead of
    # closing it, and the client would see a reset rather than a server that hung up.
    while not receive.body_read:
        await receive()
    transport.close()
    # Wait until uvicorn has seen the disconnect; otherwise it would try to answer 500 on the dead socket.
    async with asyncio.timeout(2.0):
        while (await receive())["type"] != "http.disconnect":
            pass
