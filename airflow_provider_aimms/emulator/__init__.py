"""
A local AIMMS PRO Tasks API v2 emulator: run DAGs and tests without an AIMMS account.

It never imports Airflow, so it starts fast and runs anywhere the ``emulator`` extra is installed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from airflow_provider_aimms.emulator.app import create_app
from airflow_provider_aimms.emulator.config import EXECUTE, READ, WRITE, ApiKey, AppVersion, EmulatorConfig
from airflow_provider_aimms.emulator.demo import demo_config
from airflow_provider_aimms.emulator.faults import FaultRule
from airflow_provider_aimms.emulator.loader import load_config
from airflow_provider_aimms.emulator.server import EmulatorServer
from airflow_provider_aimms.emulator.services import (
    PhaseTimings,
    Service,
    ServiceContext,
    ServiceFailure,
    ServiceResult,
    declarative_service,
)

if TYPE_CHECKING:
    from airflow_provider_aimms.emulator.admin_client import AdminClient


def __getattr__(name: str) -> Any:
    # AdminClient needs httpx, which takes about half a second to import; load it only when asked for.
    if name == "AdminClient":
        from airflow_provider_aimms.emulator.admin_client import AdminClient

        return AdminClient
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "EXECUTE",
    "READ",
    "WRITE",
    "AdminClient",
    "ApiKey",
    "AppVersion",
    "EmulatorConfig",
    "EmulatorServer",
    "FaultRule",
    "PhaseTimings",
    "Service",
    "ServiceContext",
    "ServiceFailure",
    "ServiceResult",
    "create_app",
    "declarative_service",
    "demo_config",
    "load_config",
]
