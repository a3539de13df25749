"""
Serve the AIMMS PRO emulator in its own process, counting what the benchmarks need to know.

Run as ``python bench/emulator_proc.py --clock-speed 60 --duration 600``; it prints the account URL on
its first line of stdout and serves until terminated. It is the emulator the CLI serves, plus three
things at the edge of the ASGI app, none of which changes the work done per request:

* it counts TCP connections (``connection_made`` of uvicorn's protocol) and requests per task id;
* ``GET /_bench/counters`` returns those counts, ``POST /_bench/reset`` zeroes them;
* a request carrying ``X-Bench-Status: 404`` is served in full, and only its status line is then
  rewritten. ``HttpSensorTrigger`` fires on the first answer that is not a 404, so this is how it is made
  to keep polling the very URL our trigger polls, at the same server-side cost.
"""

from __future__ import annotations

import argparse
import collections
import json
import socket
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import uvicorn

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from airflow_provider_aimms.emulator import EmulatorConfig, PhaseTimings, create_app
from airflow_provider_aimms.emulator.config import EXECUTE, READ, ApiKey, AppVersion
from airflow_provider_aimms.emulator.demo import demo_services, slow_solve_result
from airflow_provider_aimms.emulator.services import Service

if TYPE_CHECKING:
    from starlette.types import ASGIApp, Message, Receive, Scope, Send

try:  # uvicorn picks httptools when it is installed, h11 otherwise; count on whichever it would use.
    from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol as _Protocol
except ImportError:  # pragma: no cover
    from uvicorn.protocols.http.h11_impl import H11Protocol as _Protocol  # type: ignore[assignment]

API_KEY = "bench-key"
APP = "Bench"
SERVICE = "work"
TASKS_PREFIX = "/pro-api/v2/tasks/"
COUNTS: dict[str, Any] = {"connections": 0, "requests": 0, "per_task": collections.Counter()}


class CountingProtocol(_Protocol):  # type: ignore[misc, valid-type]
    """Count every TCP connection the server accepts."""

    def connection_made(self, transport: Any) -> None:
        COUNTS["connections"] += 1
        super().connection_made(transport)


class Counting:
    """Count requests per task, answer the counter routes, and rewrite statuses on request."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if path.startswith("/_bench/"):
            if path == "/_bench/reset":
                COUNTS.update(connections=0, requests=0, per_task=collections.Counter())
            body = json.dumps({**COUNTS, "per_task": dict(COUNTS["per_task"])}).encode()
            await send({"type": "http.response.start", "status": 200,
                        "headers": [(b"content-type", b"application/json")]})  # fmt: skip
            await send({"type": "http.response.body", "body": body})
            return
        if path.startswith(TASKS_PREFIX):
            COUNTS["requests"] += 1
            COUNTS["per_task"][path[len(TASKS_PREFIX) :].split("/")[0]] += 1
        status = dict(scope["headers"]).get(b"x-bench-status")
        if status is None:
            await self.app(scope, receive, send)
            return

        async def rewrite(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "status": int(status)}
            await send(message)

        await self.app(scope, receive, rewrite)


def bench_config(
    duration: float, clock_speed: float, parallelism: int, variants: int = 1, spread: float = 0.0
) -> EmulatorConfig:
    """
    Build an app ``Bench`` whose service ``work`` runs ``duration`` emulated seconds (80% solving).

    With ``variants`` > 1 it also has services ``work_0`` … ``work_<variants-1>`` whose durations are spread
    evenly over ``duration * (1 +- spread)``, so that the end of a task falls at a different point of a
    fixed polling grid from one task to the next, as real solve times do.
    """
    services = dict(demo_services())
    services[SERVICE] = Service(slow_solve_result, PhaseTimings.for_duration(duration))
    for index in range(variants if variants > 1 else 0):
        scale = 1.0 - spread + 2.0 * spread * index / (variants - 1)
        services[f"{SERVICE}_{index}"] = Service(
            slow_solve_result, PhaseTimings.for_duration(duration * scale)
        )
    key = ApiKey(API_KEY, ("Tasks",), {"*": READ | EXECUTE}, user_name="bench", user_environment="ROOT")
    return EmulatorConfig(
        apps=(AppVersion(APP, "1.0", services, latest=True),),
        api_keys=(key,),
        parallelism=parallelism,
        clock_speed=clock_speed,
        enable_admin=True,
        # Thousands of live tasks make each tick walk them all; the API moves tasks on at every request
        # anyway, so a slow ticker only delays state hooks, which no benchmark uses.
        tick_interval=0.5,
    )


def main() -> None:
    """Parse the options, bind a free port, print the URL and serve."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--duration", type=float, default=86400.0, help="emulated seconds one task runs")
    parser.add_argument("--clock-speed", type=float, default=1.0)
    parser.add_argument("--parallelism", type=int, default=10000)
    parser.add_argument("--variants", type=int, default=1, help="services work_0 … with spread durations")
    parser.add_argument("--spread", type=float, default=0.0, help="relative spread of their durations")
    arguments = parser.parse_args()
    config = bench_config(
        arguments.duration, arguments.clock_speed, arguments.parallelism, arguments.variants, arguments.spread
    )
    emulator_app = create_app(config)
    app = Counting(emulator_app)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        log_level="warning",
        access_log=False,
        lifespan="on",
        http=CountingProtocol,
        backlog=4096,
        # Like a load balancer in front of AIMMS Cloud, keep idle connections longer than a poll interval.
        timeout_keep_alive=60,
    )
    print(f"http://127.0.0.1:{port}", flush=True)
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
