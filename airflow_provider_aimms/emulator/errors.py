"""Errors of the emulated API and their JSON rendering."""

from __future__ import annotations

import json
import uuid
from typing import Any

from starlette.responses import Response


class ApiError(Exception):
    """Abort a request with an AIMMS-style error body; ``status`` doubles as the ``errorCode``."""

    def __init__(self, status: int, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.headers = headers or {}


def error_body(status: int, message: str) -> dict[str, Any]:
    """Build the ``Error`` model of the Tasks API, with a fresh correlation id."""
    return {"errorId": str(uuid.uuid4()), "errorCode": status, "message": message}


def json_response(
    payload: Any, status: int = 200, *, pretty: bool = False, headers: dict[str, str] | None = None
) -> Response:
    """Render ``payload`` as JSON, indented when the caller asked for ``prettyFormat``."""
    text = json.dumps(payload, indent=2 if pretty else None, ensure_ascii=False)
    return Response(text.encode(), status_code=status, media_type="application/json", headers=headers)


def error_response(error: ApiError, *, pretty: bool = False) -> Response:
    """Render an :class:`ApiError` the way PRO does: JSON with ``errorId``, ``errorCode``, ``message``."""
    return json_response(
        error_body(error.status, error.message), error.status, pretty=pretty, headers=error.headers
    )
