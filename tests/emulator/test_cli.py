"""The ``aimms-pro-emulator`` command: its help and a real start on a free port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from airflow_provider_aimms.emulator.cli import build_parser, config_from_arguments
from airflow_provider_aimms.emulator.demo import demo_config
from airflow_provider_aimms.emulator.loader import load_config

DEMO_TOML = Path(__file__).parents[2] / "airflow_provider_aimms" / "emulator" / "demo.toml"


def test_help_documents_every_option() -> None:
    text = build_parser().format_help()

    for option in ("--host", "--port", "--api-key", "--config", "--clock-speed", "--parallelism",
                   "--enable-admin", "--no-enable-admin", "--seed", "--log-level"):  # fmt: skip
        assert option in text, option


def test_options_override_the_configuration() -> None:
    arguments = build_parser().parse_args(
        [
            "--api-key",
            "k1",
            "--api-key",
            "k2",
            "--clock-speed",
            "60",
            "--parallelism",
            "2",
            "--no-enable-admin",
            "--seed",
            "5",
        ]
    )

    config = config_from_arguments(arguments)

    assert [key.key for key in config.api_keys] == ["k1", "k2"]
    assert (config.clock_speed, config.parallelism, config.enable_admin, config.seed) == (60.0, 2, False, 5)


def test_demo_toml_matches_demo_config() -> None:
    from_file, built = load_config(DEMO_TOML), demo_config()

    assert [(app.name, app.version, app.latest, sorted(app.services)) for app in from_file.apps] == [
        (app.name, app.version, app.latest, sorted(app.services)) for app in built.apps
    ]
    assert from_file.api_keys == built.api_keys
    assert (from_file.parallelism, from_file.enable_admin) == (built.parallelism, built.enable_admin)
    assert from_file.apps[0].services["slow_solve"].timings == built.apps[0].services["slow_solve"].timings


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_command_serves_until_terminated() -> None:
    port = free_port()
    environment = {**os.environ, "AIMMS_EMULATOR_API_KEY": "from-env"}
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "airflow_provider_aimms.emulator.cli",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=environment,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        url = f"http://127.0.0.1:{port}"
        assert line.startswith(f"AIMMS PRO emulator listening on {url} (API under /pro-api/v2")

        created = httpx.post(
            f"{url}/pro-api/v2/tasks/Logistics/echo", headers={"apikey": "from-env"}, json={}, verify=False
        )
        refused = httpx.get(f"{url}/pro-api/v2/tasks", headers={"apikey": "demo-key"}, verify=False)

        assert created.status_code == 200
        assert created.json()["appVersion"] == "1.0"
        assert refused.status_code == 401
    finally:
        process.send_signal(signal.SIGTERM)
        # uvicorn re-raises the signal it caught once it has shut down cleanly.
        assert process.wait(timeout=10) in (0, -signal.SIGTERM)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--port", "99999"], "99999 is not a port number"),
        (["--clock-speed", "nan"], "clock_speed must be a positive finite number"),
    ],
)
def test_impossible_settings_are_refused_before_listening(arguments: list[str], message: str) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "airflow_provider_aimms.emulator.cli", *arguments],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert message in result.stderr
