"""Fixtures for the emulator's own tests: a shared server, reset per test, and API clients."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest
from emulator_support import TasksClient, custom_config

from airflow_provider_aimms.emulator import EmulatorServer

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture(scope="session")
def shared_server() -> Iterator[EmulatorServer]:
    with EmulatorServer(custom_config()) as server:
        yield server


@pytest.fixture
def server(shared_server: EmulatorServer) -> Iterator[EmulatorServer]:
    """Return the shared emulator, emptied of tasks, hook calls and faults."""
    shared_server.admin.reset()
    yield shared_server
    shared_server.admin.reset()


@pytest.fixture
def api(server: EmulatorServer) -> Iterator[TasksClient]:
    client = TasksClient(server.url)
    yield client
    client.close()


@pytest.fixture
def client_for(server: EmulatorServer) -> Iterator[Any]:
    """Return a factory of clients using other API keys (or none)."""
    clients: list[TasksClient] = []

    def make(key: str | None) -> TasksClient:
        clients.append(TasksClient(server.url, key))
        return clients[-1]

    yield make
    for client in clients:
        client.close()
