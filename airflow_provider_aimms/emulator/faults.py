"""Fault rules: which requests to break, how, and a seeded record of every fault injected."""

from __future__ import annotations

import random
import threading
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

ROUTES = ("create", "list", "get", "response", "logs", "interrupt", "delete", "stats", "*")
KINDS = ("status", "latency", "drop", "malformed", "drop_after", "latency_after")
# Kinds that let the request do its work (e.g. create the task) before the answer is spoiled.
AFTER_THE_WORK = frozenset({"malformed", "drop_after", "latency_after"})


@dataclass(frozen=True)
class FaultRule:
    """
    Break matching requests with probability ``probability``, at most ``times`` times.

    ``status`` answers with that HTTP status and a JSON error instead of doing the work; ``retry_after``
    (seconds or an HTTP date) adds a ``Retry-After`` header. ``latency`` / ``latency_after`` wait
    ``seconds`` real seconds before / after the work. ``drop`` closes the connection without doing the work;
    ``drop_after`` does the work, then closes without answering. ``malformed`` does the work, then answers
    200 with a truncated body.
    """

    route: str = "*"
    kind: str = "status"
    method: str | None = None
    status: int = 503
    probability: float = 1.0
    times: int | None = None
    retry_after: str | None = None
    seconds: float = 1.0
    message: str | None = None

    def __post_init__(self) -> None:
        if self.route not in ROUTES:
            raise ValueError(f"unknown fault route {self.route!r}; expected one of {', '.join(ROUTES)}")
        if self.kind not in KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {', '.join(KINDS)}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError(f"fault probability must be within [0, 1], got {self.probability!r}")
        if self.times is not None and self.times < 0:
            raise ValueError("fault 'times' must not be negative")
        if not 100 <= self.status <= 599:
            raise ValueError(f"fault status must be an HTTP status, got {self.status!r}")
        if self.seconds < 0:
            raise ValueError("fault 'seconds' must not be negative")
        if self.method is not None:
            object.__setattr__(self, "method", self.method.upper())

    def matches(self, route: str, method: str) -> bool:
        """Tell whether this rule applies to a request of this route and method."""
        return self.route in ("*", route) and self.method in (None, method.upper())

    def to_json(self) -> dict[str, Any]:
        """Return the rule as the admin API shows it."""
        return asdict(self)


def parse_rule(raw: FaultRule | Mapping[str, Any]) -> FaultRule:
    """Build a rule from its JSON/TOML form, rejecting unknown keys so typos do not pass silently."""
    if isinstance(raw, FaultRule):
        return raw
    known = set(FaultRule.__dataclass_fields__)
    unknown = set(raw) - known
    if unknown:
        raise ValueError(f"unknown fault rule keys: {', '.join(sorted(unknown))}")
    values = dict(raw)
    if "retry_after" in values and values["retry_after"] is not None:
        values["retry_after"] = str(values["retry_after"])
    return FaultRule(**values)


@dataclass(frozen=True)
class Decision:
    """The fault chosen for one request, with its sequence number in the fault log."""

    rule: FaultRule
    sequence: int


class FaultInjector:
    """Decide per request whether to inject a fault, from a seeded RNG so that runs repeat."""

    def __init__(self, rules: Iterable[FaultRule] = (), seed: int | None = None) -> None:
        self._lock = threading.Lock()
        self._log: list[dict[str, Any]] = []
        self.configure(rules, seed)

    def configure(self, rules: Iterable[FaultRule | Mapping[str, Any]], seed: int | None = None) -> None:
        """Replace the rules and reseed; injection counts start again from zero, the log is kept."""
        parsed = [parse_rule(rule) for rule in rules]
        with self._lock:
            self._rules = parsed
            self._used = [0] * len(parsed)
            self._random = random.Random(seed)

    def clear(self) -> None:
        """Remove every rule; the fault log is kept."""
        self.configure(())

    def reset(self) -> None:
        """Remove every rule and forget the fault log."""
        self.clear()
        with self._lock:
            self._log.clear()

    @property
    def rules(self) -> list[FaultRule]:
        """Return the active rules."""
        with self._lock:
            return list(self._rules)

    def decide(self, route: str, method: str, path: str) -> Decision | None:
        """Pick the first matching rule that fires for this request, and log the injection."""
        with self._lock:
            for index, rule in enumerate(self._rules):
                if not rule.matches(route, method):
                    continue
                if rule.times is not None and self._used[index] >= rule.times:
                    continue
                # One draw per matching rule, so the same request sequence meets the same faults.
                if self._random.random() >= rule.probability:
                    continue
                self._used[index] += 1
                entry: dict[str, Any] = {
                    "sequence": len(self._log) + 1,
                    "rule": index,
                    "route": route,
                    "method": method,
                    "path": path,
                    "kind": rule.kind,
                    "status": rule.status if rule.kind == "status" else None,
                }
                self._log.append(entry)
                return Decision(rule, len(self._log))
        return None

    def log(self) -> list[dict[str, Any]]:
        """Return every fault injected so far, oldest first."""
        with self._lock:
            return [dict(entry) for entry in self._log]
