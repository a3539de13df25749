"""The emulator's clock: real time, sped up by ``clock_speed`` and moved on by :meth:`advance`."""

from __future__ import annotations

import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable


class EmulatorClock:
    """
    Tell emulated time, which starts at the real UTC time and runs ``speed`` times as fast.

    Every timestamp, schedule and phase duration of the emulator is read from this clock, so a test can
    run a one-day recurrence in seconds either with a high speed or with :meth:`advance`.
    """

    def __init__(
        self,
        speed: float = 1.0,
        *,
        start: float | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if speed <= 0:
            raise ValueError(f"clock speed must be positive, got {speed!r}")
        self._speed = speed
        self._monotonic = monotonic
        # Anchor on a monotonic reading so that wall-clock jumps on the host cannot move emulated time.
        self._real_anchor = monotonic()
        self._emulated_anchor = time.time() if start is None else start
        self._offset = 0.0
        self._lock = threading.Lock()

    @property
    def speed(self) -> float:
        """Return how many emulated seconds pass per real second."""
        return self._speed

    def now(self) -> float:
        """Return the current emulated instant (seconds since the epoch, UTC)."""
        with self._lock:
            elapsed = self._monotonic() - self._real_anchor
            return self._emulated_anchor + elapsed * self._speed + self._offset

    def advance(self, seconds: float) -> float:
        """Jump ``seconds`` ahead and return the new emulated instant; time never runs backwards."""
        if seconds < 0:
            raise ValueError(f"the clock cannot go back; got {seconds!r} seconds")
        with self._lock:
            self._offset += seconds
        return self.now()

    def real_seconds(self, emulated_seconds: float) -> float:
        """Convert an emulated duration into the real time it takes at the current speed."""
        return emulated_seconds / self._speed
