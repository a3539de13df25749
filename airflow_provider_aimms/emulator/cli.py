"""The ``aimms-pro-emulator`` command: serve the emulator until interrupted."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import socket
import sys
from typing import TYPE_CHECKING

import uvicorn

from airflow_provider_aimms.emulator.app import create_app
from airflow_provider_aimms.emulator.config import EXECUTE, READ, ApiKey, EmulatorConfig
from airflow_provider_aimms.emulator.demo import demo_config
from airflow_provider_aimms.emulator.loader import ConfigError, load_config
from airflow_provider_aimms.emulator.routes import API_PREFIX

if TYPE_CHECKING:
    from collections.abc import Sequence

KEY_ENVIRONMENT_VARIABLE = "AIMMS_EMULATOR_API_KEY"


def _port(text: str) -> int:
    """Read a TCP port, so that argparse rejects one out of range with a usage message, not a traceback."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{port} is not a port number (0 to 65535)")
    return port


def build_parser() -> argparse.ArgumentParser:
    """Describe every option of the command."""
    parser = argparse.ArgumentParser(
        prog="aimms-pro-emulator",
        description="Serve a local emulator of the AIMMS PRO Tasks REST API v2 (under /pro-api/v2). "
        "Without --config it serves the demo app 'Logistics' (services knapsack, echo, fail, slow_solve).",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to listen on (default: %(default)s)")
    parser.add_argument(
        "--port",
        type=_port,
        default=8800,
        help="port to listen on; 0 picks a free one (default: %(default)s)",
    )
    parser.add_argument(
        "--api-key",
        action="append",
        dest="api_keys",
        metavar="KEY",
        help=f"accept this API key, with scope Tasks and Read+Execute on every app; repeatable "
        f"(default: ${KEY_ENVIRONMENT_VARIABLE} or 'demo-key'; with --config, added to the file's keys)",
    )
    parser.add_argument(
        "--config", metavar="FILE", help="TOML or JSON configuration file (see docs/emulator.md)"
    )
    parser.add_argument(
        "--clock-speed",
        type=float,
        metavar="FLOAT",
        help="emulated seconds per real second, e.g. 60 (default: 1)",
    )
    parser.add_argument(
        "--parallelism", type=int, metavar="INT", help="tasks the account runs at once (default: 4)"
    )
    parser.add_argument(
        "--enable-admin",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="serve the admin API under /_emulator (default: on for the demo, as the file says with --config)",
    )
    parser.add_argument("--seed", type=int, help="seed of the fault injection RNG, so that faults repeat")
    parser.add_argument(
        "--log-level",
        default="info",
        choices=["critical", "error", "warning", "info", "debug"],
        help="log level of the emulator and uvicorn (default: %(default)s)",
    )
    return parser


def config_from_arguments(arguments: argparse.Namespace) -> EmulatorConfig:
    """Turn the parsed options into a configuration."""
    if arguments.config:
        config = load_config(arguments.config)
        extra_keys = tuple(ApiKey(key, ("Tasks",), {"*": READ | EXECUTE}) for key in arguments.api_keys or ())
        config = dataclasses.replace(config, api_keys=config.api_keys + extra_keys)
    else:
        keys = arguments.api_keys or [os.environ.get(KEY_ENVIRONMENT_VARIABLE) or "demo-key"]
        config = demo_config(keys[0])
        extra_keys = tuple(ApiKey(key, ("Tasks",), {"*": READ | EXECUTE}) for key in keys[1:])
        config = dataclasses.replace(config, api_keys=config.api_keys + extra_keys)
    overrides = {
        "clock_speed": arguments.clock_speed,
        "parallelism": arguments.parallelism,
        "enable_admin": arguments.enable_admin,
        "seed": arguments.seed,
    }
    return dataclasses.replace(
        config, **{name: value for name, value in overrides.items() if value is not None}
    )


class _AnnouncingServer(uvicorn.Server):
    """A uvicorn server that prints the account URL once it accepts connections."""

    def __init__(self, config: uvicorn.Config, url: str, admin: bool) -> None:
        super().__init__(config)
        self._url = url
        self._admin = admin

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            admin = f"; admin API under {self._url}/_emulator" if self._admin else ""
            print(f"AIMMS PRO emulator listening on {self._url} (API under {API_PREFIX}{admin})", flush=True)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the emulator until Ctrl+C or SIGTERM."""
    arguments = build_parser().parse_args(argv)
    logging.basicConfig(
        level=arguments.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    try:
        config = config_from_arguments(arguments)
    except (OSError, ConfigError, ValueError) as error:
        print(f"aimms-pro-emulator: {error}", file=sys.stderr)
        return 2

    sock = socket.socket(socket.AF_INET6 if ":" in arguments.host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((arguments.host, arguments.port))
    except OSError as error:
        print(
            f"aimms-pro-emulator: cannot listen on {arguments.host}:{arguments.port}: {error}",
            file=sys.stderr,
        )
        return 1
    host, port = sock.getsockname()[:2]
    shown_host = f"[{host}]" if ":" in host else host
    server_config = uvicorn.Config(create_app(config), log_level=arguments.log_level, lifespan="on")
    server = _AnnouncingServer(server_config, f"http://{shown_host}:{port}", config.enable_admin)
    server.run(sockets=[sock])
    return 0


if __name__ == "__main__":
    sys.exit(main())
