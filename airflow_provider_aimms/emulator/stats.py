"""Task statistics for ``/tasks/stats`` and ``/tasks/stats/current``; both shapes are guesses (U7)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pendulum

from airflow_provider_aimms.emulator.errors import ApiError
from airflow_provider_aimms.emulator.schedule import parse_date
from airflow_provider_aimms.emulator.store import ACTIVE_STATES, TaskRun
from airflow_provider_aimms.emulator.timefmt import format_timestamp

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

RESOLUTIONS = ("auto", "hour", "day", "week", "month")
MAX_BUCKETS = 2000


def _filtered(runs: Sequence[TaskRun], params: Mapping[str, str]) -> list[TaskRun]:
    app_name, app_version = params.get("appName") or None, params.get("appVersion") or None
    return [
        run
        for run in runs
        if (app_name is None or run.app_name == app_name)
        and (app_version is None or run.app_version == app_version)
    ]


def current_stats(runs: Sequence[TaskRun], params: Mapping[str, str]) -> dict[str, int]:
    """Count queued tasks, tasks in progress (assigned, running, solving) and every task."""
    chosen = _filtered(runs, params)
    return {
        "queued": sum(1 for run in chosen if run.state == "queued"),
        "running": sum(1 for run in chosen if run.state in ACTIVE_STATES),
        "total": len(chosen),
    }


def _summary(values: list[float]) -> dict[str, float | None]:
    if not values:
        return {"min": None, "avg": None, "max": None}
    return {
        "min": round(min(values), 6),
        "avg": round(sum(values) / len(values), 6),
        "max": round(max(values), 6),
    }


def _resolution(requested: str, span: float) -> str:
    if requested not in RESOLUTIONS:
        raise ApiError(400, f"Invalid resolution {requested!r}; expected one of {', '.join(RESOLUTIONS)}.")
    if requested != "auto":
        return requested
    if span <= 2 * 86400:
        return "hour"
    if span <= 62 * 86400:
        return "day"
    return "week" if span <= 366 * 86400 else "month"


def task_stats(runs: Sequence[TaskRun], params: Mapping[str, str], now: float) -> dict[str, Any]:
    """Bucket tasks by creation time; per bucket give the count and min/avg/max run and queue times."""
    chosen = _filtered(runs, params)
    end = parse_date(params["end"], "end") if params.get("end") else now
    if params.get("begin"):
        begin = parse_date(params["begin"], "begin")
    else:
        begin = min((run.created_at for run in chosen), default=end - 86400)
    if begin >= end:
        raise ApiError(400, "begin must be before end.")
    resolution = _resolution(params.get("resolution", "auto").lower(), end - begin)

    buckets: list[dict[str, Any]] = []
    start = pendulum.from_timestamp(begin, tz="UTC").start_of(resolution)
    while start.timestamp() < end:
        stop = start.add(**{f"{resolution}s": 1})
        low, high = start.timestamp(), stop.timestamp()
        inside = [run for run in chosen if low <= run.created_at < high]
        run_times = [run.ended_at - run.running_at for run in inside if run.ended_at and run.running_at]
        queue_times = [run.running_at - run.created_at for run in inside if run.running_at]
        buckets.append(
            {
                "begin": format_timestamp(low),
                "end": format_timestamp(high),
                "count": len(inside),
                "runTime": _summary(run_times),
                "queueTime": _summary(queue_times),
            }
        )
        if len(buckets) > MAX_BUCKETS:
            raise ApiError(400, f"Too many buckets; choose a coarser resolution than {resolution}.")
        start = stop
    return {
        "resolution": resolution,
        "begin": format_timestamp(begin),
        "end": format_timestamp(end),
        "buckets": buckets,
    }
