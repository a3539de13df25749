"""The admin API under ``/_emulator``: inspect tasks and hook calls, move the clock, set faults, reset."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from starlette.routing import BaseRoute, Route

from airflow_provider_aimms.emulator.errors import ApiError, error_response, json_response
from airflow_provider_aimms.emulator.hooks import redact_key
from airflow_provider_aimms.emulator.timefmt import format_timestamp

if TYPE_CHECKING:
    from starlette.requests import Request
    from starlette.responses import Response

    from airflow_provider_aimms.emulator.runtime import Emulator

ADMIN_PREFIX = "/_emulator"


async def _document(request: Request) -> dict[str, Any]:
    body = await request.body()
    try:
        document = json.loads(body) if body.strip() else {}
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ApiError(400, f"The body is not valid JSON: {error}.") from error
    if not isinstance(document, dict):
        raise ApiError(400, "The body must be a JSON object.")
    return document


def admin_routes(emulator: Emulator) -> list[BaseRoute]:
    """Return the admin routes bound to one emulator."""

    async def tasks(request: Request) -> Response:
        emulator.store.sync()
        rows = []
        for run, group in emulator.store.all_runs():
            row = emulator.store.task_json(run)
            row.update(
                deleted=run.deleted,
                deletedAt=format_timestamp(run.deleted_at),
                requestContentType=group.content_type,
                requestSize=len(group.body),
                taskStateHook=redact_key(group.hook_url) if group.hook_url else None,
            )
            rows.append(row)
        return json_response({"tasks": rows})

    async def hook_calls(request: Request) -> Response:
        return json_response({"calls": emulator.hooks.calls()})

    async def clock(request: Request) -> Response:
        return json_response({"now": format_timestamp(emulator.clock.now()), "speed": emulator.clock.speed})

    async def advance(request: Request) -> Response:
        seconds = (await _document(request)).get("seconds")
        if isinstance(seconds, bool) or not isinstance(seconds, int | float) or seconds < 0:
            raise ApiError(400, "Give 'seconds' as a non-negative number.")
        emulator.clock.advance(float(seconds))
        now = emulator.store.sync()
        return json_response({"now": format_timestamp(now), "speed": emulator.clock.speed})

    async def faults(request: Request) -> Response:
        if request.method == "PUT":
            document = await _document(request)
            rules, seed = document.get("rules", []), document.get("seed")
            if not isinstance(rules, list) or not (seed is None or isinstance(seed, int)):
                raise ApiError(400, "Give 'rules' as a list of rule objects and 'seed' as an integer.")
            try:
                emulator.faults.configure(rules, seed)
            except (TypeError, ValueError) as error:
                raise ApiError(400, f"Invalid fault rule: {error}") from error
        elif request.method == "DELETE":
            emulator.faults.clear()
        return json_response({"rules": [rule.to_json() for rule in emulator.faults.rules]})

    async def fault_log(request: Request) -> Response:
        return json_response({"faults": emulator.faults.log()})

    async def reset(request: Request) -> Response:
        emulator.reset()
        return json_response({"reset": True})

    def guarded(endpoint: Any) -> Any:
        async def run(request: Request) -> Response:
            try:
                response: Response = await endpoint(request)
                return response
            except ApiError as error:
                return error_response(error)

        return run

    return [
        Route(f"{ADMIN_PREFIX}/tasks", guarded(tasks), methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/hook-calls", guarded(hook_calls), methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/clock", guarded(clock), methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/clock/advance", guarded(advance), methods=["POST"]),
        Route(f"{ADMIN_PREFIX}/faults", guarded(faults), methods=["GET", "PUT", "DELETE"]),
        Route(f"{ADMIN_PREFIX}/faults/log", guarded(fault_log), methods=["GET"]),
        Route(f"{ADMIN_PREFIX}/reset", guarded(reset), methods=["POST"]),
    ]
