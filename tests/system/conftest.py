"""
Fixtures of the system test: the emulator and a real Airflow 3 as separate processes.

The system test is slow (a minute or two) and starts servers, so ``make test`` skips it; run it with
``scripts/system_test.sh`` (which sets ``AIMMS_SYSTEM_TEST=1``).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from tests.system.stack import AirflowStack, Emulator, copy_dags

if TYPE_CHECKING:
    from collections.abc import Iterator

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
ENABLED = os.environ.get("AIMMS_SYSTEM_TEST") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip this folder's tests unless ``AIMMS_SYSTEM_TEST=1``, or on Airflow 2."""
    from airflow_provider_aimms.version_compat import AIRFLOW_V_3_0_PLUS

    reason = None
    if not ENABLED:
        reason = "system test: run scripts/system_test.sh (sets AIMMS_SYSTEM_TEST=1)"
    elif not AIRFLOW_V_3_0_PLUS:
        reason = "the system test runs Airflow 3 components (api-server, dag-processor)"
    if reason:
        for item in items:
            if item.path.is_relative_to(HERE):
                item.add_marker(pytest.mark.skip(reason=reason))


@pytest.fixture(scope="session")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Hold the Airflow home, the DAGs folder and every component's log in one folder."""
    return tmp_path_factory.mktemp("system")


@pytest.fixture(scope="session")
def api_key() -> str:
    """Make a fresh AIMMS API key for this run."""
    return secrets.token_urlsafe(16)


@pytest.fixture(scope="session")
def emulator(workdir: Path, api_key: str) -> Iterator[Emulator]:
    """Run the AIMMS PRO emulator in its own process, on a free loopback port."""
    server = Emulator(workdir, HERE / "emulator.toml", api_key)
    try:
        server.start()
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def airflow(workdir: Path, emulator: Emulator, api_key: str) -> Iterator[AirflowStack]:
    """Run a real Airflow 3 with the example and system-test DAGs, ``aimms_default`` in every component."""
    dags = workdir / "dags"
    copy_dags(dags, REPO / "example_dags" / "example_aimms_knapsack.py", REPO / "example_dags" / "data",
              *sorted((HERE / "dags").glob("*.py")))  # fmt: skip
    connection = json.dumps({"conn_type": "aimms", "host": emulator.url, "password": api_key})
    stack = AirflowStack(workdir / "airflow-home", dags, connection)
    stack.home.mkdir()
    try:
        stack.migrate()
        stack.start()
        yield stack
    finally:
        stack.stop()
