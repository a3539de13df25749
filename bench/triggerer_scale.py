"""
Triggerer scale: N waiting triggers in one asyncio process, ours against the HTTP provider's.

Run: ``.venv-airflow-3/bin/python bench/triggerer_scale.py`` (about 7 minutes on 2 cores). It starts the
emulator in a separate process, creates the tasks there, then for each N in 100, 1000, 5000 runs
``AimmsTaskTrigger`` (on aiohttp, then on the httpx fallback) and ``HttpSensorTrigger`` in turn, each in
a fresh child process polling the same
task URLs every 10 s for a fixed wall time. It prints one JSON line per run and one per ratio, writes
``docs/img/triggerer_scale.png`` and refreshes the ``triggerer-scale`` section of docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

BENCH = "triggerer_scale"
SIZES = (100, 1000, 5000)
POLL_INTERVAL = 10.0
WALL_SECONDS = {100: 30.0, 1000: 30.0, 5000: 30.0}
#: Distinct AIMMS tasks created; trigger i watches task i mod this. The emulator's create is O(live tasks),
#: so 5000 creates would take minutes; which task a trigger polls does not change what polling costs.
TASKS = 1000
LAG_PROBE_SECONDS = 0.05
#: ``aimms`` is the shared client as a triggerer with aiohttp gets it; ``aimms-httpx`` forces the httpx
#: fallback (what a triggerer without aiohttp gets); ``http`` is the HTTP provider's HttpSensorTrigger.
IMPLEMENTATIONS = ("aimms", "aimms-httpx", "http")


def _make_triggers(impl: str, task_ids: list[str], n: int) -> list[Any]:
    if impl.startswith("aimms"):
        from airflow_provider_aimms import _async_clients
        from airflow_provider_aimms.triggers.aimms import AimmsTaskTrigger

        _async_clients.ASYNC_HTTP_LIBRARY = "httpx" if impl == "aimms-httpx" else "aiohttp"

        return [
            AimmsTaskTrigger(
                aimms_task_id=task_ids[i % len(task_ids)],
                aimms_conn_id="aimms_bench",
                poll_interval=POLL_INTERVAL,
            )
            for i in range(n)
        ]
    from airflow.providers.http.triggers.http import HttpSensorTrigger

    # The emulator answers these 404 after doing the full work, so the sensor keeps polling (see
    # bench/emulator_proc.py); the apikey header comes from the connection's extras.
    return [
        HttpSensorTrigger(
            endpoint=f"pro-api/v2/tasks/{task_ids[i % len(task_ids)]}",
            http_conn_id="http_bench",
            headers={"X-Bench-Status": "404"},
            poke_interval=POLL_INTERVAL,
        )
        for i in range(n)
    ]


async def _child_run(impl: str, task_ids: list[str], n: int, wall: float, reset_url: str) -> dict[str, Any]:
    process = psutil.Process()
    triggers = _make_triggers(impl, task_ids, n)
    events = 0

    async def consume(trigger: Any) -> None:
        nonlocal events
        async for _ in trigger.run():
            events += 1

    lags: list[float] = []
    peak_rss = 0

    async def probe() -> None:
        nonlocal peak_rss
        loop = asyncio.get_running_loop()
        ticks = 0
        while True:
            before = loop.time()
            await asyncio.sleep(LAG_PROBE_SECONDS)
            lags.append(max(0.0, loop.time() - before - LAG_PROBE_SECONDS))
            ticks += 1
            if ticks % 10 == 0:
                peak_rss = max(peak_rss, process.memory_info().rss)

    # Warm up with one trigger first: both providers import a good deal of Airflow lazily on their first
    # poll (connection lookup, secrets backends), seconds of CPU that belong to no poll in particular.
    warm_up = asyncio.create_task(consume(_make_triggers(impl, task_ids, 1)[0]))
    await asyncio.sleep(2.5)
    warm_up.cancel()
    await asyncio.gather(warm_up, return_exceptions=True)
    gc.collect()
    baseline_rss = process.memory_info().rss
    # Count only the measured window's polls and connections (a blocking call, before any trigger runs).
    httpx.post(f"{reset_url}/_bench/reset")  # noqa: ASYNC210
    probe_task = asyncio.create_task(probe())
    cpu_start, started = process.cpu_times(), time.monotonic()
    tasks = [asyncio.create_task(consume(trigger)) for trigger in triggers]
    await asyncio.sleep(wall)
    cpu_end = process.cpu_times()
    peak_rss = max(peak_rss, process.memory_info().rss)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    probe_task.cancel()
    leftover_clients = None
    if impl.startswith("aimms"):
        from airflow_provider_aimms._async_clients import open_client_count

        leftover_clients = open_client_count()
    lags.sort()
    return {
        "impl": impl,
        "n": n,
        "wall_s": round(time.monotonic() - started, 1),
        "cpu_s": round((cpu_end.user + cpu_end.system) - (cpu_start.user + cpu_start.system), 3),
        "peak_rss_mb": round(peak_rss / 2**20, 1),
        "rss_per_trigger_kb": round((peak_rss - baseline_rss) / 1024 / n, 2),
        "loop_lag_p50_ms": round(1000 * lags[len(lags) // 2], 2),
        "loop_lag_p99_ms": round(1000 * lags[int(len(lags) * 0.99)], 2),
        "loop_lag_max_ms": round(1000 * lags[-1], 2),
        "events_fired": events,
        "clients_open_after_cancel": leftover_clients,
    }


def child(arguments: argparse.Namespace) -> None:
    """Run N triggers of one implementation and print one JSON line (the parent adds server counts)."""
    common.isolated_airflow_home()
    os.environ.update(common.connection_env(arguments.url))
    task_ids = json.loads(Path(arguments.tasks_file).read_text())
    result = asyncio.run(
        _child_run(arguments.impl, task_ids, arguments.n, arguments.wall, arguments.reset_url)
    )
    print(json.dumps(result), flush=True)


def run_one(emulator: common.Emulator, impl: str, n: int, tasks_file: Path) -> dict[str, Any]:
    """Run one child and add what the emulator saw: requests (polls) and TCP connections."""
    # Each side logs as it would in a triggerer (ours on state changes, the sensor a warning per 404);
    # the lines go to a file, not a terminal.
    log = common.RESULTS / f"scale_{impl}_{n}.log"
    with log.open("w") as stderr:
        output = subprocess.run(
        [sys.executable, __file__, "--child", "--impl", impl, "--n", str(n), "--wall", str(WALL_SECONDS[n]),
             "--url", emulator.url, "--tasks-file", str(tasks_file), "--reset-url", emulator.url],
            stdout=subprocess.PIPE, stderr=stderr, text=True, check=True,
        )  # fmt: skip
    result = json.loads(output.stdout.strip().splitlines()[-1])
    counts = emulator.counters()
    polls = counts["requests"]
    result.update(
        polls=polls,
        polls_per_s=round(polls / result["wall_s"], 1),
        cpu_ms_per_poll=round(1000 * result["cpu_s"] / max(polls, 1), 3),
        tcp_connections=counts["connections"],
    )
    return common.emit(BENCH, kind="run", **result)


def plot(results: list[dict[str, Any]]) -> Path:
    """Draw the four measures against N, one line per implementation."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    measures = [
        ("cpu_ms_per_poll", "CPU ms per poll"),
        ("rss_per_trigger_kb", "peak RSS per trigger (KiB)"),
        ("tcp_connections", "TCP connections opened"),
        ("loop_lag_p99_ms", "event-loop lag p99 (ms)"),
    ]
    labels = {
        "aimms": "AimmsTaskTrigger (aiohttp)",
        "aimms-httpx": "AimmsTaskTrigger (httpx)",
        "http": "HttpSensorTrigger",
    }
    figure, axes = plt.subplots(1, 4, figsize=(16, 4))
    for axis, (key, title) in zip(axes, measures, strict=True):
        for impl in IMPLEMENTATIONS:
            rows = sorted((r for r in results if r["impl"] == impl), key=lambda r: r["n"])
            axis.plot([r["n"] for r in rows], [r[key] for r in rows], marker="o", label=labels[impl])
        axis.set_xscale("log")
        if key in ("tcp_connections", "loop_lag_p99_ms"):
            axis.set_yscale("log")
        axis.set_title(title)
        axis.set_xlabel("waiting triggers (N)")
        axis.grid(True, alpha=0.3)
    axes[0].legend()
    figure.suptitle(
        f"One triggerer process, poll interval {POLL_INTERVAL:.0f} s, emulator in another process"
    )
    figure.tight_layout()
    common.IMAGES.mkdir(parents=True, exist_ok=True)
    path = common.IMAGES / "triggerer_scale.png"
    figure.savefig(path, dpi=90)
    return path


def markdown(results: list[dict[str, Any]], ratios: list[dict[str, Any]]) -> str:
    """Render the results as the docs section."""
    lines = [
        "| N | trigger | wall s | polls | CPU ms/poll | RSS KiB/trigger | TCP conns | lag p50 ms | lag p99 ms | lag max ms |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in sorted(results, key=lambda r: (r["n"], r["impl"])):
        lines.append(
            f"| {r['n']} | {r['impl']} | {r['wall_s']} | {r['polls']} | {r['cpu_ms_per_poll']} | "
            f"{r['rss_per_trigger_kb']} | {r['tcp_connections']} | {r['loop_lag_p50_ms']} | "
            f"{r['loop_lag_p99_ms']} | {r['loop_lag_max_ms']} |"
        )
    lines += [
        "",
        "| N | ours | CPU per poll, ours/HttpSensorTrigger | memory per trigger, ours/HttpSensorTrigger |",
        "|---:|---|---:|---:|",
    ]
    lines += [
        f"| {r['n']} | {r['impl']} | {r['cpu_per_poll_ratio']} | {r['rss_per_trigger_ratio']} |"
        for r in ratios
    ]
    lines += ["", "![triggerer scale](img/triggerer_scale.png)"]
    return "\n".join(lines)


def main() -> None:
    """Run every size and implementation, then plot and document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--impl", choices=IMPLEMENTATIONS)
    parser.add_argument("--n", type=int)
    parser.add_argument("--wall", type=float)
    parser.add_argument("--url")
    parser.add_argument("--tasks-file")
    parser.add_argument("--reset-url")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="comma-separated N values")
    parser.add_argument("--no-doc", action="store_true", help="do not touch docs/performance.md")
    arguments = parser.parse_args()
    if arguments.child:
        child(arguments)
        return
    common.start_results(BENCH)
    sizes = [int(size) for size in arguments.sizes.split(",")]
    with common.emulator_process() as emulator:
        task_ids = emulator.create_tasks(min(TASKS, max(sizes)))
        tasks_file = common.RESULTS / "scale_tasks.json"
        tasks_file.write_text(json.dumps(task_ids))
        results = [run_one(emulator, impl, n, tasks_file) for n in sizes for impl in IMPLEMENTATIONS]
        states = {emulator.task(task_id)["state"] for task_id in task_ids[:20]}
        common.emit(BENCH, kind="check", task_states_after=sorted(states))
    ratios = []
    for n in sizes:
        rows = {r["impl"]: r for r in results if r["n"] == n}
        theirs = rows["http"]
        for impl in ("aimms", "aimms-httpx"):
            ours = rows[impl]
            ratios.append(
                common.emit(
                    BENCH,
                    kind="ratio",
                    n=n,
                    impl=impl,
                    cpu_per_poll_ratio=round(ours["cpu_ms_per_poll"] / theirs["cpu_ms_per_poll"], 3),
                    rss_per_trigger_ratio=round(
                        ours["rss_per_trigger_kb"] / max(theirs["rss_per_trigger_kb"], 1e-9), 3
                    ),
                )
            )
    image = plot(results)
    common.emit(BENCH, kind="plot", path=str(image.relative_to(common.REPO)))
    if not arguments.no_doc:
        common.write_doc_section(BENCH, markdown(results, ratios))


if __name__ == "__main__":
    main()
