"""A small client for the admin API, for tests and scripts."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import httpx

from airflow_provider_aimms.emulator.admin import ADMIN_PREFIX
from airflow_provider_aimms.emulator.faults import FaultRule

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping
    from types import TracebackType


class AdminClient:
    """Call an emulator's ``/_emulator`` API; every method raises ``httpx.HTTPStatusError`` on failure."""

    def __init__(self, url: str, *, timeout: float = 10.0) -> None:
        # The emulator serves plain HTTP on loopback; not loading a CA bundle saves ~0.2 s per client.
        self._client = httpx.Client(base_url=url.rstrip("/") + ADMIN_PREFIX, timeout=timeout, verify=False)

    def _call(self, method: str, path: str, body: Mapping[str, Any] | None = None) -> Any:
        response = self._client.request(method, path, json=body)
        response.raise_for_status()
        return response.json()

    def tasks(self) -> list[dict[str, Any]]:
        """Return every run ever created, deleted ones included (``deleted: true``), oldest first."""
        rows: list[dict[str, Any]] = self._call("GET", "/tasks")["tasks"]
        return rows

    def hook_calls(self) -> list[dict[str, Any]]:
        """Return every state hook call made: ``url``, ``task_uuid``, ``task_state``, ``status``, ``error``."""
        calls: list[dict[str, Any]] = self._call("GET", "/hook-calls")["calls"]
        return calls

    def now(self) -> str:
        """Return the emulated time as ``YYYY-MM-DD HH:MM:SS.ffffff`` (UTC)."""
        now: str = self._call("GET", "/clock")["now"]
        return now

    def advance(self, seconds: float) -> str:
        """Move the emulated clock ``seconds`` ahead, apply what fell due, and return the new time."""
        now: str = self._call("POST", "/clock/advance", {"seconds": seconds})["now"]
        return now

    def set_faults(self, rules: Iterable[FaultRule | Mapping[str, Any]], seed: int | None = None) -> None:
        """Replace the fault rules; the same ``seed`` and requests give the same faults."""
        payload = [rule.to_json() if isinstance(rule, FaultRule) else dict(rule) for rule in rules]
        self._call("PUT", "/faults", {"rules": payload, "seed": seed})

    def clear_faults(self) -> None:
        """Remove every fault rule; the fault log is kept."""
        self._call("DELETE", "/faults")

    def fault_log(self) -> list[dict[str, Any]]:
        """Return each injected fault: ``sequence``, ``rule``, ``route``, ``method``, ``path``, ``kind``, ``status``."""
        faults: list[dict[str, Any]] = self._call("GET", "/faults/log")["faults"]
        return faults

    def reset(self) -> None:
        """Forget tasks, hook calls, fault rules and the fault log."""
        self._call("POST", "/reset")

    def close(self) -> None:
        """Close the underlying connection pool."""
        self._client.close()

    def __enter__(self) -> AdminClient:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.close()
