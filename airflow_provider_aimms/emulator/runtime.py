"""One running emulator: configuration, clock, task store, hook delivery and fault injection together."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_aimms.emulator.clock import EmulatorClock
from airflow_provider_aimms.emulator.faults import FaultInjector
from airflow_provider_aimms.emulator.hooks import HookDispatcher
from airflow_provider_aimms.emulator.store import TaskStore

if TYPE_CHECKING:
    from airflow_provider_aimms.emulator.config import EmulatorConfig


class Emulator:
    """Own the mutable state of one emulator instance; the app and the admin API both act on it."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.clock = EmulatorClock(config.clock_speed)
        self.hooks = HookDispatcher(self.clock, config.hook_timeout)
        self.store = TaskStore(config, self.clock, self.hooks.submit)
        self.faults = FaultInjector(config.faults, config.seed)

    def reset(self) -> None:
        """Forget tasks, hook calls, fault rules and the fault log; the clock keeps its time."""
        self.store.reset()
        self.hooks.reset()
        self.faults.reset()

    def close(self) -> None:
        """Stop the background threads; safe to call more than once."""
        self.hooks.stop()
        self.store.close()
