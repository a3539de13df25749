"""Handlers of the Tasks API v2 under ``/pro-api/v2``."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.responses import PlainTextResponse, Response

from airflow_provider_aimms.emulator.auth import READ_EXECUTE, authenticate, authorizer
from airflow_provider_aimms.emulator.config import READ, ApiKey
from airflow_provider_aimms.emulator.errors import ApiError, error_response, json_response
from airflow_provider_aimms.emulator.routes import resolve
from airflow_provider_aimms.emulator.schedule import Interval, parse_date, parse_instant, parse_interval
from airflow_provider_aimms.emulator.services import content_type_for
from airflow_provider_aimms.emulator.stats import current_stats, task_stats
from airflow_provider_aimms.emulator.timefmt import format_log_time

if TYPE_CHECKING:
    from starlette.requests import Request

    from airflow_provider_aimms.emulator.runtime import Emulator
    from airflow_provider_aimms.emulator.store import TaskRun


def _flag(request: Request, name: str) -> bool:
    return request.query_params.get(name, "").strip().lower() in ("true", "1", "yes")


def _integer(request: Request, name: str, minimum: int) -> int | None:
    raw = request.query_params.get(name)
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise ApiError(400, f"Invalid {name} {raw!r}: expected an integer.") from None
    if value < minimum:
        raise ApiError(400, f"Invalid {name} {value}: it must be at least {minimum}.")
    return value


def _page(items: list[Any], request: Request) -> list[Any]:
    offset = _integer(request, "offset", 0) or 0
    limit = _integer(request, "limit", 1)
    return items[offset:] if limit is None else items[offset : offset + limit]


class TasksApi:
    """Serve the Tasks API of one :class:`Emulator`."""

    def __init__(self, emulator: Emulator) -> None:
        self.emulator = emulator
        self.store = emulator.store

    async def handle(self, request: Request) -> Response:
        """Authenticate, route on the raw path, and render any :class:`ApiError` as PRO does."""
        pretty = _flag(request, "prettyFormat")
        try:
            key = authenticate(request.headers, self.emulator.config)
            match = resolve(request.method, request.scope.get("raw_path") or request.url.path.encode())
            self.store.sync()
            handler = getattr(self, match.handler)
            response: Response = await handler(request, key, pretty, *match.params)
            return response
        except ApiError as error:
            return error_response(error, pretty=pretty)

    # ----------------------------------------------------------------------------------------- create

    async def create_task(self, request: Request, key: ApiKey, pretty: bool, *path: str) -> Response:
        """Queue a task: ``/tasks/{app}/{version}/{service}`` or ``/tasks/{app}/{service}`` (latest tag)."""
        config = self.emulator.config
        if len(path) == 2:
            app_name, service_name = path
            app = config.find_app(app_name, None)
            if app is None:
                raise ApiError(404, f"App {app_name} with latest tag doesn't exist.")
        else:
            app_name, version, service_name = path
            app = config.find_app(app_name, version)
            if app is None:
                raise ApiError(404, f"App {app_name} with version {version} doesn't exist.")
        authorizer(key, READ_EXECUTE)(app.name)
        if service_name not in app.services:
            raise ApiError(
                404, f"Service {service_name} doesn't exist in app {app.name} version {app.version}."
            )

        schedule_for, schedule_in, interval = self._schedule(request)
        hook_url = request.headers.get("taskStateHook")
        if hook_url is not None:
            parts = urlsplit(hook_url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                raise ApiError(400, f"Invalid taskStateHook {hook_url!r}: expected an absolute http(s) URL.")

        body = await request.body()
        run = self.store.create(
            owner=key,
            app=app,
            service_name=service_name,
            body=body,
            content_type=request.headers.get("content-type"),
            schedule_for=schedule_for,
            schedule_in=schedule_in,
            interval=interval,
            hook_url=hook_url,
        )
        return json_response(self.store.task_json(run), pretty=pretty)

    def _schedule(self, request: Request) -> tuple[float | None, Interval | None, Interval | None]:
        params = request.query_params
        schedule_for_text, schedule_in_text = params.get("scheduleFor"), params.get("scheduleIn")
        if schedule_for_text and schedule_in_text:
            raise ApiError(400, "Give either scheduleFor or scheduleIn, not both.")
        schedule_for = parse_instant(schedule_for_text, "scheduleFor") if schedule_for_text else None
        schedule_in = parse_interval(schedule_in_text, "scheduleIn") if schedule_in_text else None
        interval_text = params.get("scheduleInterval")
        interval = parse_interval(interval_text, "scheduleInterval") if interval_text else None
        return schedule_for, schedule_in, interval

    # -------------------------------------------------------------------------------------- retrieval

    async def list_tasks(self, request: Request, key: ApiKey, pretty: bool) -> Response:
        """List the runs the key may read, newest first, filtered and paged."""
        params = request.query_params
        app_name, app_version = params.get("appName") or None, params.get("appVersion") or None
        before = parse_date(params["before"], "before") if params.get("before") else None
        after = parse_date(params["after"], "after") if params.get("after") else None

        def wanted(run: TaskRun) -> bool:
            return (
                key.may(run.app_name, READ)
                and (app_name is None or run.app_name == app_name)
                and (app_version is None or run.app_version == app_version)
                and (before is None or run.created_at < before)
                and (after is None or run.created_at >= after)
            )

        runs = self.store.runs(wanted)
        batch = [self.store.task_json(run) for run in _page(runs, request)]
        return json_response({"total_tasks": len(runs), "current_batch": batch}, pretty=pretty)

    def _run(self, request: Request, key: ApiKey, task_id: str, required: int = READ) -> Any:
        group_index = _integer(request, "groupIndex", 0)
        return self.store.run(task_id, group_index, authorizer(key, required))

    async def get_task(self, request: Request, key: ApiKey, pretty: bool, task_id: str) -> Response:
        """Return one run of a task (default: the last)."""
        _, run = self._run(request, key, task_id)
        return json_response(self.store.task_json(run), pretty=pretty)

    async def get_response(self, request: Request, key: ApiKey, pretty: bool, task_id: str) -> Response:
        """Return the raw response file, typed by its file name."""
        _, run = self._run(request, key, task_id)
        if not run.finished:
            raise ApiError(404, f"Task {task_id} has not finished yet (state {run.state}); no response.")
        if run.response is None or run.response_filename is None:
            raise ApiError(404, f"Task {task_id} has no response.")
        return Response(run.response, media_type=content_type_for(run.response_filename))

    async def get_logs(self, request: Request, key: ApiKey, pretty: bool, task_id: str) -> Response:
        """Return log lines as ``{"total": N, "logs": [{"timestamp", "message"}]}`` (shape guessed, U6)."""
        _, run = self._run(request, key, task_id)
        lines = self._filtered_logs(request, run)
        page = [
            {"timestamp": format_log_time(at), "message": message} for at, message in _page(lines, request)
        ]
        return json_response({"total": len(lines), "logs": page}, pretty=pretty)

    async def download_logs(self, request: Request, key: ApiKey, pretty: bool, task_id: str) -> Response:
        """Return the log as a text attachment, one ``YYYY-MM-DD HH:MM:SS.mmm message`` line each."""
        _, run = self._run(request, key, task_id)
        lines = self._filtered_logs(request, run)
        text = "".join(f"{format_log_time(at)} {message}\n" for at, message in lines)
        suffix = "" if run.group_index is None else f"-{run.group_index}"
        headers = {"Content-Disposition": f'attachment; filename="task-{task_id}{suffix}.log"'}
        return PlainTextResponse(text, headers=headers)

    def _filtered_logs(self, request: Request, run: TaskRun) -> list[tuple[float, str]]:
        params = request.query_params
        contains = (params.get("contains") or "").lower()
        begin = parse_date(params["begin"], "begin") if params.get("begin") else None
        end = parse_date(params["end"], "end") if params.get("end") else None
        return [
            (at, message)
            for at, message in self.store.logs(run)
            if contains in message.lower() and (begin is None or at >= begin) and (end is None or at < end)
        ]

    async def stats(self, request: Request, key: ApiKey, pretty: bool) -> Response:
        """Return run and queue time statistics per time bucket (shape guessed, U7)."""
        runs = self.store.runs(lambda run: key.may(run.app_name, READ))
        body = task_stats(runs, request.query_params, self.emulator.clock.now())
        return json_response(body, pretty=pretty)

    async def stats_current(self, request: Request, key: ApiKey, pretty: bool) -> Response:
        """Return the counts of queued, running and all tasks (shape guessed, U7)."""
        runs = self.store.runs(lambda run: key.may(run.app_name, READ))
        return json_response(current_stats(runs, request.query_params), pretty=pretty)

    # --------------------------------------------------------------------------------------- commands

    async def interrupt_task(self, request: Request, key: ApiKey, pretty: bool, task_id: str) -> Response:
        """Interrupt a run with ``{"setstatus": "interrupt-solve" | "interrupt-execution"}``."""
        group, run = self._run(request, key, task_id, READ_EXECUTE)
        body = await request.body()
        try:
            document = json.loads(body) if body.strip() else {}
        except (UnicodeDecodeError, json.JSONDecodeError):
            document = {}
        kind = document.get("setstatus") if isinstance(document, dict) else None
        self.store.interrupt(group, run, kind if isinstance(kind, str) else repr(kind))
        return json_response(self.store.task_json(run), pretty=pretty)

    async def delete_task(self, request: Request, key: ApiKey, pretty: bool, task_id: str) -> Response:
        """Delete a queued, completed or failed run; answer 200 with an empty body."""
        group, run = self._run(request, key, task_id, READ_EXECUTE)
        self.store.delete(group, run)
        return Response(b"", status_code=200)
