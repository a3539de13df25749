"""
Contract fixtures: an in-process emulator by default, a real AIMMS account when configured.

Set ``AIMMS_URL`` (the account URL, e.g. ``https://acme.aimms.cloud``), ``AIMMS_API_KEY``, ``AIMMS_APP`` and
``AIMMS_SERVICE`` to run the same checks read-mostly against a real account; ``AIMMS_APP_VERSION`` (default:
the latest tag) and ``AIMMS_PAYLOAD`` (default ``{}``) are optional. Against a real account the checks
create at most one task and delete it once it has finished.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest
from contract_support import Target

from airflow_provider_aimms.emulator import EmulatorServer, demo_config

if TYPE_CHECKING:
    from collections.abc import Iterator

    import httpx

REAL_VARIABLES = ("AIMMS_URL", "AIMMS_API_KEY", "AIMMS_APP", "AIMMS_SERVICE")


def real_account_configured() -> bool:
    return all(os.environ.get(name) for name in REAL_VARIABLES)


@pytest.fixture(scope="session")
def target() -> Iterator[Target]:
    if real_account_configured():
        yield Target(
            url=os.environ["AIMMS_URL"].rstrip("/"),
            api_key=os.environ["AIMMS_API_KEY"],
            app=os.environ["AIMMS_APP"],
            service=os.environ["AIMMS_SERVICE"],
            version=os.environ.get("AIMMS_APP_VERSION") or None,
            payload=os.environ.get("AIMMS_PAYLOAD", "{}").encode(),
            emulator=None,
        )
        return
    with EmulatorServer(demo_config("contract-key")) as server:
        yield Target(server.url, "contract-key", "Logistics", "echo", None, b'{"contract": true}', server)


@pytest.fixture
def emulator(target: Target) -> EmulatorServer:
    """Return the emulator, or skip a check that only makes sense against it."""
    if target.emulator is None:
        pytest.skip("emulator-only check (admin API / fault injection); running against a real AIMMS account")
    target.emulator.admin.reset()
    return target.emulator


@pytest.fixture
def client(target: Target) -> Iterator[httpx.Client]:
    with target.client() as http:
        yield http
