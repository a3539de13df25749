"""Deliver ``taskStateHook`` calls: a PUT per state change, one try, strict timeout, no redirects."""

from __future__ import annotations

import hashlib
import hmac
import logging
import queue
import threading
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from airflow_provider_aimms.emulator.timefmt import format_iso_z

if TYPE_CHECKING:
    from airflow_provider_aimms.emulator.clock import EmulatorClock

log = logging.getLogger(__name__)


def hook_signature(key: str, task_uuid: str) -> str:
    """
    Sign a task id for its hook: HMAC-SHA256 keyed by the URL's ``key``, as lowercase hex.

    The algorithm and encoding are a guess (the docs only say "an HMAC based on the key and the task's
    UUID"); this is the one place to change them.
    """
    return hmac.new(key.encode(), task_uuid.encode(), hashlib.sha256).hexdigest()


def hook_call_url(url: str, task_uuid: str, task_state: str, at: str) -> str:
    """Return the URL to PUT: the hook URL without ``key``, plus ``task_uuid``, ``task_state``, ``at``, ``hmac``."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    keys = [value for name, value in query if name == "key"]
    query = [(name, value) for name, value in query if name != "key"]
    query += [("task_uuid", task_uuid), ("task_state", task_state), ("at", at)]
    if keys:
        query.append(("hmac", hook_signature(keys[-1], task_uuid)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


def redact_key(url: str) -> str:
    """Return a hook URL without its ``key`` parameter, fit to show in the admin API."""
    parts = urlsplit(url)
    query = [(name, value) for name, value in parse_qsl(parts.query, keep_blank_values=True) if name != "key"]
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


class HookDispatcher:
    """Send hook calls in order from one background thread, and remember each call and its result."""

    def __init__(self, clock: EmulatorClock, timeout: float) -> None:
        self._clock = clock
        self._timeout = timeout
        self._queue: queue.Queue[tuple[str, str, str] | None] = queue.Queue()
        self._calls: list[dict[str, Any]] = []
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def submit(self, task_uuid: str, task_state: str, url: str) -> None:
        """Queue a call; the store calls this under its lock, so it must never block."""
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._deliver, name="aimms-emulator-hooks", daemon=True
                )
                self._thread.start()
        self._queue.put((task_uuid, task_state, url))

    def stop(self) -> None:
        """Stop the delivery thread; calls still queued are dropped."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=self._timeout + 1.0)

    def calls(self) -> list[dict[str, Any]]:
        """Return every call made so far, oldest first."""
        with self._lock:
            return [dict(call) for call in self._calls]

    def reset(self) -> None:
        """Forget the calls made so far."""
        with self._lock:
            self._calls.clear()

    def _deliver(self) -> None:
        # Imported here: httpx costs about half a second to import, and most runs never call a hook.
        import httpx

        with httpx.Client(timeout=self._timeout, follow_redirects=False) as client:
            while (item := self._queue.get()) is not None:
                task_uuid, task_state, url = item
                call_url = hook_call_url(url, task_uuid, task_state, format_iso_z(self._clock.now()))
                record: dict[str, Any] = {
                    "url": call_url,
                    "hook_url": redact_key(url),
                    "task_uuid": task_uuid,
                    "task_state": task_state,
                    "status": None,
                    "error": None,
                }
                try:
                    record["status"] = client.put(call_url).status_code
                except httpx.HTTPError as error:
                    # Semi-passive delivery: a failed call is recorded and never retried.
                    record["error"] = f"{type(error).__name__}: {error}"
                    log.warning("State hook for AIMMS task %s failed: %s", task_uuid, record["error"])
                with self._lock:
                    self._calls.append(record)
