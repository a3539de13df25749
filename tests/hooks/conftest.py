"""An emulator for hook tests: the demo app, an app whose name needs encoding, and keys that lack rights."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from airflow_provider_aimms.emulator import READ, ApiKey, AppVersion, EmulatorServer, demo_config
from airflow_provider_aimms.emulator.demo import demo_services
from airflow_provider_aimms.hooks.aimms import AimmsHook
from tests.conftest import API_KEY, use_clean_emulator

NO_SCOPE_KEY = "key-without-tasks-scope"
READ_ONLY_KEY = "key-with-read-only"
AWKWARD_APP = "Supply Chain/EU"


@pytest.fixture(scope="session")
def hook_emulator() -> Iterator[EmulatorServer]:
    base = demo_config(api_key=API_KEY)
    config = dataclasses.replace(
        base,
        apps=(*base.apps, AppVersion(AWKWARD_APP, "2026.1 beta", demo_services(), latest=True)),
        api_keys=(
            *base.api_keys,
            ApiKey(NO_SCOPE_KEY, ("PublishApp",)),
            ApiKey(READ_ONLY_KEY, ("Tasks",), {"*": READ}),
        ),
    )
    with EmulatorServer(config) as server:
        yield server


@pytest.fixture
def server(hook_emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    yield from use_clean_emulator(hook_emulator, monkeypatch)


@pytest.fixture
def hook(server: EmulatorServer) -> AimmsHook:
    return AimmsHook()
