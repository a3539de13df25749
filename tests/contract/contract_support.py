"""The account a contract check runs against: the in-process emulator or a real AIMMS account."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from airflow_provider_aimms.emulator import EmulatorServer


@dataclass
class Target:
    """The account under test and, for the emulator, its server."""

    url: str
    api_key: str
    app: str
    service: str
    version: str | None
    payload: bytes
    emulator: EmulatorServer | None

    def client(self, api_key: str | None = None) -> httpx.Client:
        key = self.api_key if api_key is None else api_key
        return httpx.Client(base_url=self.url + "/pro-api/v2", headers={"apikey": key}, timeout=30.0)

    def create_path(self) -> str:
        if self.version is None:
            return f"/tasks/{self.app}/{self.service}"
        return f"/tasks/{self.app}/{self.version}/{self.service}"
