"""
Request economy: HTTP requests per AIMMS task and the delay to the event, fixed against adaptive polling.

Run: ``.venv-airflow-3/bin/python bench/request_economy.py`` (about 3 minutes). For remote durations of
10 s, 10 min and 2 h it runs the real ``AimmsTaskTrigger.run()`` against the emulator in a separate
process, in *virtual time*: the trigger's ``asyncio.sleep`` and ``time.time`` are replaced by a clock
that, once every trigger is asleep, moves the emulator's clock (``POST /_emulator/clock/advance``) to the
earliest wake-up and wakes the triggers due then. Requests are real HTTP requests, counted per task at the
emulator; the delay is the emulated instant of the event minus the task's ``endedAt``. No wait is scaled,
and the time a request takes does not leak into the figures (the emulator's own clock runs at 10^-6).
"""

from __future__ import annotations

import argparse
import asyncio
import heapq
import itertools
import json
import os
import random
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common
from emulator_proc import API_KEY, APP, SERVICE

BENCH = "request_economy"
DURATIONS = {"10 s": 10.0, "10 min": 600.0, "2 h": 7200.0}
#: The polling set-ups compared: (label, poll_interval, adaptive_polling). min_poll_interval stays 2 s.
SETUPS = (
    ("fixed 10 s", 10.0, False),
    ("fixed 30 s", 30.0, False),
    ("adaptive 2-10 s (default)", 10.0, True),
    ("adaptive 2-30 s", 30.0, True),
    ("adaptive 2-150 s", 150.0, True),
)
#: Tasks per set-up and duration; their durations are spread evenly over +-10 % of the nominal one.
TASKS_PER_SETUP = 20
SPREAD = 0.1
#: The trigger starts this long after the task is created: the operator's create, defer and the
#: triggerer picking the trigger up.
DEFER_LATENCY = 1.0
#: The emulator's own clock speed: so slow that real time moves emulated time by microseconds.
FROZEN = 1e-6


def _parse(stamp: str) -> float:
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S.%f").replace(tzinfo=UTC).timestamp()


class VirtualTime:
    """
    A clock for triggers: sleeping registers a wake-up; when every trigger sleeps, time jumps.

    ``active`` counts the coroutines that are running (in a request, say); time moves only when it is 0,
    so no request ever sees time move under it.
    """

    def __init__(self, admin: httpx.AsyncClient, now: float) -> None:
        self.admin = admin
        self.now = now
        self.active = 0
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self._idle = asyncio.Event()

    def time(self) -> float:
        """Return the virtual epoch seconds (what ``time.time()`` gives the trigger)."""
        return self.now

    async def sleep(self, seconds: float) -> None:
        """Sleep ``seconds`` of virtual time."""
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._order), future))
        self._leave()
        await future

    def _leave(self) -> None:
        self.active -= 1
        if self.active == 0:
            self._idle.set()

    def finished(self) -> None:
        """Note that a coroutine ended."""
        self._leave()

    async def drive(self) -> int:
        """Move time from one wake-up to the next until nobody sleeps; return the number of jumps."""
        jumps = 0
        while True:
            await self._idle.wait()
            self._idle.clear()
            if not self._sleepers:
                return jumps
            wake = self._sleepers[0][0]
            if wake > self.now:
                response = await self.admin.post(
                    "/_emulator/clock/advance", json={"seconds": wake - self.now}
                )
                response.raise_for_status()
                self.now = wake
                jumps += 1
            while self._sleepers and self._sleepers[0][0] <= self.now:
                _, _, future = heapq.heappop(self._sleepers)
                self.active += 1
                future.set_result(None)


async def _run_duration(emulator: common.Emulator, label: str, tasks_per_setup: int) -> list[dict[str, Any]]:
    from airflow_provider_aimms.triggers import aimms as trigger_module

    async with httpx.AsyncClient(base_url=emulator.url, headers={"apikey": API_KEY}, timeout=60) as admin:
        clock = VirtualTime(admin, _parse((await admin.get("/_emulator/clock")).json()["now"]))
        # The trigger module's view of asyncio and time; everything else (the HTTP client) stays real.
        trigger_module.asyncio = SimpleNamespace(sleep=clock.sleep)  # type: ignore[assignment]
        trigger_module.time = SimpleNamespace(time=clock.time)  # type: ignore[assignment]
        plan = []
        for setup_index, (setup, poll_interval, adaptive) in enumerate(SETUPS):
            for index in range(tasks_per_setup):
                service = f"{SERVICE}_{index % tasks_per_setup}"
                created = await admin.post(f"/pro-api/v2/tasks/{APP}/{service}", json={})
                created.raise_for_status()
                plan.append(
                    (setup, poll_interval, adaptive, created.json()["id"], setup_index * 1000 + index)
                )
        emulator.reset_counters()
        events: dict[str, tuple[float, dict[str, Any]]] = {}

        async def follow(setup: str, poll_interval: float, adaptive: bool, task_id: str, seed: int) -> None:
            try:
                await clock.sleep(DEFER_LATENCY)
                trigger = trigger_module.AimmsTaskTrigger(
                    aimms_task_id=task_id,
                    aimms_conn_id="aimms_bench",
                    poll_interval=poll_interval,
                    adaptive_polling=adaptive,
                )
                trigger.schedule._rng = random.Random(seed)  # a repeatable jitter
                async for event in trigger.run():
                    events[task_id] = (clock.now, event.payload)
                    break
            finally:
                clock.finished()

        clock.active = len(plan)
        started = time.monotonic()
        followers = [asyncio.create_task(follow(*row)) for row in plan]
        jumps = await clock.drive()
        await asyncio.gather(*followers)
        real_seconds = time.monotonic() - started
        per_task = emulator.counters()["per_task"]
    results = []
    for setup, poll_interval, adaptive in SETUPS:
        rows = [row for row in plan if row[0] == setup]
        requests = [per_task.get(row[3], 0) for row in rows]
        delays, statuses = [], set()
        for row in rows:
            fired_at, payload = events[row[3]]
            statuses.add(payload["status"])
            delays.append(fired_at - _parse(payload["task"]["endedAt"]))
        durations = [
            _parse(events[row[3]][1]["task"]["endedAt"]) - _parse(events[row[3]][1]["task"]["createdAt"])
            for row in rows
        ]
        results.append(
            common.emit(
                BENCH,
                kind="run",
                duration=label,
                setup=setup,
                poll_interval=poll_interval,
                adaptive=adaptive,
                tasks=len(rows),
                statuses=sorted(statuses),
                mean_task_s=round(statistics.mean(durations), 1),
                requests_mean=round(statistics.mean(requests), 1),
                requests_min=min(requests),
                requests_max=max(requests),
                delay_mean_s=round(statistics.mean(delays), 2),
                delay_max_s=round(max(delays), 2),
                virtual_jumps=jumps,
                real_seconds=round(real_seconds, 1),
            )
        )
    return results


def plot(results: list[dict[str, Any]]) -> Path:
    """Draw requests per task and mean delay, one group of bars per duration."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    labels = [label for label in DURATIONS if any(r["duration"] == label for r in results)]
    figure, axes = plt.subplots(1, 2, figsize=(14, 4.5))
    width = 0.8 / len(SETUPS)
    for position, (setup, _, _) in enumerate(SETUPS):
        rows = {r["duration"]: r for r in results if r["setup"] == setup}
        xs = [index + position * width for index in range(len(labels))]
        axes[0].bar(xs, [rows[label]["requests_mean"] for label in labels], width, label=setup)
        axes[1].bar(xs, [rows[label]["delay_mean_s"] for label in labels], width, label=setup)
    titles = ("requests per task (mean)", "end-to-event delay, mean (emulated s)")
    for axis, title in zip(axes, titles, strict=True):
        axis.set_xticks([index + width * (len(SETUPS) - 1) / 2 for index in range(len(labels))], labels)
        axis.set_xlabel("remote task duration")
        axis.set_title(title)
        axis.grid(True, axis="y", alpha=0.3)
    axes[0].set_yscale("log")
    axes[0].axhline(60, color="grey", linestyle="--", linewidth=1)
    axes[1].legend(fontsize=8)
    figure.suptitle("AimmsTaskTrigger.run() against the emulator, virtual time, 20 tasks per bar")
    figure.tight_layout()
    path = common.IMAGES / "request_economy.png"
    figure.savefig(path, dpi=90)
    return path


def markdown(results: list[dict[str, Any]]) -> str:
    """Render the results as the docs section."""
    lines = [
        "| task | polling | requests/task mean (min-max) | delay mean s | delay max s |",
        "|---|---|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r['duration']} (mean {r['mean_task_s']} s) | {r['setup']} | {r['requests_mean']} "
            f"({r['requests_min']}-{r['requests_max']}) | {r['delay_mean_s']} | {r['delay_max_s']} |"
        )
    lines += ["", "![request economy](img/request_economy.png)"]
    return "\n".join(lines)


def main() -> None:
    """Run each duration against a fresh emulator, then plot and document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--tasks", type=int, default=TASKS_PER_SETUP, help="tasks per set-up and duration")
    parser.add_argument("--durations", default=",".join(DURATIONS), help="comma-separated: 10 s,10 min,2 h")
    parser.add_argument("--no-doc", action="store_true", help="do not touch docs/performance.md")
    arguments = parser.parse_args()
    common.isolated_airflow_home()
    common.start_results(BENCH)
    results = []
    for label in arguments.durations.split(","):
        duration = DURATIONS[label]
        with common.emulator_process(duration, FROZEN, variants=arguments.tasks, spread=SPREAD) as emulator:
            os.environ.update(common.connection_env(emulator.url))
            results += asyncio.run(_run_duration(emulator, label, arguments.tasks))
    image = plot(results)
    common.emit(BENCH, kind="plot", path=str(image.relative_to(common.REPO)))
    if not arguments.no_doc:
        common.write_doc_section(BENCH, markdown(results))
    print(json.dumps({"done": True}))


if __name__ == "__main__":
    main()
