"""Assemble the emulator's ASGI application: the Tasks API, the admin API, faults and the ticker."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from airflow_provider_aimms.emulator.admin import admin_routes
from airflow_provider_aimms.emulator.api import TasksApi
from airflow_provider_aimms.emulator.injection import inject
from airflow_provider_aimms.emulator.routes import API_PREFIX, route_name
from airflow_provider_aimms.emulator.runtime import Emulator

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from starlette.requests import Request
    from starlette.types import Receive, Scope, Send

    from airflow_provider_aimms.emulator.config import EmulatorConfig

log = logging.getLogger(__name__)
ALL_METHODS = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]


class EmulatorApp(Starlette):
    """
    A Starlette app that owns an :class:`Emulator` and injects faults before anything else runs.

    Faults are applied here, outside Starlette's own middleware, because a drop needs uvicorn's
    untouched ``send`` to reach the connection.
    """

    def __init__(self, emulator: Emulator, routes: list[BaseRoute]) -> None:
        super().__init__(routes=routes, lifespan=self._lifespan)
        self.emulator = emulator

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve a request, through a fault when a rule picks it."""
        if scope["type"] == "http":
            raw_path: bytes = scope.get("raw_path") or scope["path"].encode()
            name = route_name(scope["method"], raw_path)
            decision = self.emulator.faults.decide(name, scope["method"], scope["path"]) if name else None
            if decision is not None:
                log.info("Injecting fault #%d (%s) into %s %s", decision.sequence, decision.rule.kind,
                         scope["method"], scope["path"])  # fmt: skip
                await inject(decision.rule, super().__call__, scope, receive, send)
                return
        await super().__call__(scope, receive, send)

    @contextlib.asynccontextmanager
    async def _lifespan(self, app: Starlette) -> AsyncIterator[None]:
        ticker = asyncio.create_task(self._tick(), name="aimms-emulator-ticker")
        try:
            yield
        finally:
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker
            self.emulator.close()

    async def _tick(self) -> None:
        # Tasks must move on even when nobody polls, e.g. so that state hooks fire on time.
        while True:
            await asyncio.sleep(self.emulator.config.tick_interval)
            try:
                self.emulator.store.sync()
            except Exception:
                log.exception("AIMMS emulator ticker failed; it keeps running")


def create_app(config: EmulatorConfig) -> EmulatorApp:
    """Build the ASGI app for ``config``; its :class:`Emulator` is at ``app.emulator``."""
    emulator = Emulator(config)
    api = TasksApi(emulator)

    async def home(request: Request) -> Response:
        return JSONResponse(
            {"service": "AIMMS PRO emulator", "api": API_PREFIX, "admin": config.enable_admin}
        )

    routes: list[BaseRoute] = [
        Route("/", home, methods=["GET"]),
        Route(API_PREFIX, api.handle, methods=ALL_METHODS),
        Route(API_PREFIX + "/{rest:path}", api.handle, methods=ALL_METHODS),
    ]
    if config.enable_admin:
        routes += admin_routes(emulator)
    return EmulatorApp(emulator, routes)
