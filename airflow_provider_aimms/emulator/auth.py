"""Authenticate the ``apikey`` header and check scopes and app permissions."""

from __future__ import annotations

from typing import TYPE_CHECKING

from airflow_provider_aimms.emulator.config import EXECUTE, READ, ApiKey, EmulatorConfig
from airflow_provider_aimms.emulator.errors import ApiError

if TYPE_CHECKING:
    from collections.abc import Mapping

    from airflow_provider_aimms.emulator.store import Authorize

READ_EXECUTE = READ | EXECUTE


def authenticate(headers: Mapping[str, str], config: EmulatorConfig) -> ApiKey:
    """Return the key the request carries: 401 without a known key, 403 without the Tasks scope."""
    # Starlette's headers are case-insensitive, so 'apikey', 'apiKey' and 'APIKEY' all land here.
    secret = headers.get("apikey")
    if not secret:
        raise ApiError(401, "Missing API key: send it in the 'apikey' header.")
    key = config.find_key(secret)
    if key is None:
        raise ApiError(401, "Invalid or expired API key.")
    if not key.has_task_scope():
        raise ApiError(403, "The API key does not have the Tasks scope.")
    return key


def authorizer(key: ApiKey, required: int) -> Authorize:
    """Return a check that raises 403 unless the key's user holds ``required`` on the app it is given."""
    needed = "Read and Execute" if required == READ_EXECUTE else "Read"

    def check(app_name: str) -> None:
        if not key.may(app_name, required):
            raise ApiError(
                403,
                f"User {key.user_name}@{key.user_environment} needs {needed} permission on app {app_name}.",
            )

    return check
