"""The emulator's configuration: apps and their services, API keys, parallelism, clock and faults."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_aimms.emulator.faults import FaultRule
    from airflow_provider_aimms.emulator.services import Service

# App permission bits, as in the PRO Apps API.
EXECUTE = 1
WRITE = 2
READ = 4
TASK_SCOPES = frozenset({"tasks", "task"})


@dataclass(frozen=True)
class ApiKey:
    """An API key: its secret, scopes, owner and permissions per app name (``"*"`` for every app)."""

    key: str
    scopes: tuple[str, ...] = ("Tasks",)
    permissions: Mapping[str, int] = field(default_factory=lambda: {"*": READ | EXECUTE})
    user_name: str = "emulator-user"
    user_environment: str = "ROOT"

    def has_task_scope(self) -> bool:
        """Tell whether the key may use the Tasks API; ``Task`` is accepted too, as the docs use both."""
        return any(scope.lower() in TASK_SCOPES for scope in self.scopes)

    def permission_for(self, app_name: str) -> int:
        """Return the permission bits the key's user holds on an app."""
        return self.permissions.get(app_name, self.permissions.get("*", 0))

    def may(self, app_name: str, required: int) -> bool:
        """Tell whether the key holds every bit of ``required`` on the app."""
        return self.permission_for(app_name) & required == required


@dataclass(frozen=True)
class AppVersion:
    """One published version of an app and the services its model exposes."""

    name: str
    version: str
    services: Mapping[str, Service]
    latest: bool = False


@dataclass(frozen=True)
class EmulatorConfig:
    """
    Everything an emulator instance needs; see ``docs/emulator.md`` for the file format.

    ``parallelism`` is the account's maximum number of tasks between assigned and their end.
    ``clock_speed`` is how many emulated seconds pass per real second. ``tick_interval`` is how often,
    in real seconds, the background ticker moves tasks on. ``hook_timeout`` bounds each state hook call.
    """

    apps: tuple[AppVersion, ...] = ()
    api_keys: tuple[ApiKey, ...] = ()
    parallelism: int = 4
    clock_speed: float = 1.0
    enable_admin: bool = False
    seed: int | None = None
    faults: tuple[FaultRule, ...] = ()
    hook_timeout: float = 2.0
    tick_interval: float = 0.01

    def __post_init__(self) -> None:
        if self.parallelism < 1:
            raise ValueError("parallelism must be at least 1")
        if not math.isfinite(self.clock_speed) or self.clock_speed <= 0:
            raise ValueError(f"clock_speed must be a positive finite number, got {self.clock_speed!r}")
        if self.tick_interval <= 0:
            raise ValueError("tick_interval must be positive")
        seen: set[tuple[str, str]] = set()
        latest: set[str] = set()
        for app in self.apps:
            if (app.name, app.version) in seen:
                raise ValueError(f"app {app.name!r} version {app.version!r} is configured twice")
            seen.add((app.name, app.version))
            if app.latest:
                if app.name in latest:
                    raise ValueError(f"app {app.name!r} has more than one version with the latest tag")
                latest.add(app.name)

    def find_app(self, name: str, version: str | None) -> AppVersion | None:
        """Return the app version, or the one with the latest tag when ``version`` is None."""
        for app in self.apps:
            if app.name == name and (app.version == version if version is not None else app.latest):
                return app
        return None

    def find_key(self, secret: str) -> ApiKey | None:
        """Return the configured key with this secret."""
        for key in self.api_keys:
            if key.key == secret:
                return key
        return None
