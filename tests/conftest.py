"""
Test-wide set-up: an isolated Airflow home, configured before anything imports Airflow.

Airflow reads its configuration once, on first import, so these variables must be set here, at the top
of the root conftest, and not in a fixture.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
os.environ["AIRFLOW_HOME"] = os.environ.get("AIMMS_TEST_AIRFLOW_HOME") or tempfile.mkdtemp(
    prefix="aimms-airflow-"
)
# The DAG folder holds the test-only DAGs and, through a symlink, the example DAGs: dag.test() on
# Airflow 3 runs only DAGs that its DAG bundle (this folder) contains.
os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(REPO / "tests" / "dags")
os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
os.environ.pop("AIRFLOW_CONN_AIMMS_DEFAULT", None)

import json  # noqa: E402
from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402

from airflow_provider_aimms.emulator import EmulatorServer, demo_config  # noqa: E402

API_KEY = "test-key-5f2b9c"


def connection_json(url: str, api_key: str = API_KEY, **extra: object) -> str:
    """An ``AIRFLOW_CONN_*`` value for an AIMMS connection."""
    return json.dumps({"conn_type": "aimms", "host": url, "password": api_key, "extra": extra})


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    """One in-process AIMMS PRO emulator for the whole run, on a free loopback port."""
    with EmulatorServer(demo_config(api_key=API_KEY)) as server:
        yield server


def use_clean_emulator(server: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """Wipe ``server`` and point ``aimms_default`` at it, with fast retries; clear its faults afterwards."""
    server.admin.reset()
    monkeypatch.setenv("AIRFLOW_CONN_AIMMS_DEFAULT", connection_json(server.url, retry_delay=0.01))
    yield server
    server.admin.clear_faults()


@pytest.fixture
def aimms(emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """The shared emulator, wiped clean, with ``aimms_default`` pointing at it."""
    yield from use_clean_emulator(emulator, monkeypatch)


@pytest.fixture(scope="session")
def airflow_db() -> None:
    """Create Airflow's metadata database in the test Airflow home, once per run (for ``dag.test()``)."""
    from airflow.utils import db

    db.resetdb()
