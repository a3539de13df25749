"""
Match raw request paths to the Tasks API operations.

Matching happens on the raw path, before percent-decoding, so that an app called ``Supply Chain/EU``
(sent as ``Supply%20Chain%2FEU``) stays one segment.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote

from airflow_provider_aimms.emulator.errors import ApiError

API_PREFIX = "/pro-api/v2"


@dataclass(frozen=True)
class RouteMatch:
    """An operation (named as in fault rules) and its decoded path parameters."""

    name: str
    handler: str
    params: tuple[str, ...]


def api_segments(raw_path: bytes) -> list[str] | None:
    """Return the decoded segments after ``/pro-api/v2``, or None for a path outside the API."""
    path = raw_path.decode("latin-1").split("?", 1)[0]
    if path != API_PREFIX and not path.startswith(API_PREFIX + "/"):
        return None
    # A trailing slash is tolerated everywhere, as AIMMS's own samples send one.
    rest = path[len(API_PREFIX) :].strip("/")
    return [unquote(segment, errors="strict") for segment in rest.split("/")] if rest else []


def _candidates(segments: list[str]) -> dict[str, RouteMatch]:
    if not segments or segments[0] != "tasks":
        return {}
    rest = segments[1:]
    if len(rest) == 0:
        return {"GET": RouteMatch("list", "list_tasks", ())}
    if len(rest) == 1:
        if rest[0] == "stats":
            return {"GET": RouteMatch("stats", "stats", ())}
        return {
            "GET": RouteMatch("get", "get_task", (rest[0],)),
            "PUT": RouteMatch("interrupt", "interrupt_task", (rest[0],)),
            "DELETE": RouteMatch("delete", "delete_task", (rest[0],)),
        }
    if len(rest) == 2:
        found = {"POST": RouteMatch("create", "create_task", (rest[0], rest[1]))}
        if rest == ["stats", "current"]:
            found["GET"] = RouteMatch("stats", "stats_current", ())
        elif rest[1] == "response":
            found["GET"] = RouteMatch("response", "get_response", (rest[0],))
        elif rest[1] == "logs":
            found["GET"] = RouteMatch("logs", "get_logs", (rest[0],))
        return found
    if len(rest) == 3:
        found = {"POST": RouteMatch("create", "create_task", (rest[0], rest[1], rest[2]))}
        if rest[1:] == ["logs", "download"]:
            found["GET"] = RouteMatch("logs", "download_logs", (rest[0],))
        return found
    return {}


def resolve(method: str, raw_path: bytes) -> RouteMatch:
    """Return the operation for a request: 404 for an unknown path, 405 for a known path and wrong method."""
    segments = api_segments(raw_path)
    if segments is None:
        raise ApiError(404, "Not found.")
    candidates = _candidates(segments)
    if not candidates:
        raise ApiError(404, f"No such resource: {raw_path.decode('latin-1')}.")
    match = candidates.get(method.upper())
    if match is None:
        allowed = ", ".join(sorted(candidates))
        raise ApiError(405, f"Method {method} is not allowed here; allowed: {allowed}.", {"Allow": allowed})
    return match


def route_name(method: str, raw_path: bytes) -> str | None:
    """Return the fault-rule name of a request's operation, or None when it matches none."""
    try:
        return resolve(method, raw_path).name
    except (ApiError, UnicodeDecodeError):
        return None
