"""The AIMMS PRO hook: authentication and every endpoint of the Tasks REST API v2."""

from __future__ import annotations

import asyncio
import json
import os
import time
from contextlib import asynccontextmanager
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import pendulum
import requests
import tenacity
from airflow.providers.common.compat.connection import get_async_connection
from airflow.providers.common.compat.sdk import BaseHook, mask_secret

from airflow_provider_aimms._async_clients import AsyncTransport, shared_async_client
from airflow_provider_aimms._checks import interrupt_mode, seconds
from airflow_provider_aimms._http import (
    DEFAULT_RETRY_DELAY,
    DEFAULT_RETRY_LIMIT,
    DEFAULT_TIMEOUT,
    ApiRequest,
    ApiResponse,
    ClientSettings,
    EncodedPayload,
    encode_payload,
    normalize_account_url,
    raise_for_status,
    retry_policy,
    task_path,
    transport_error,
)
from airflow_provider_aimms.exceptions import (
    AimmsApiError,
    AimmsConnectionConfigError,
    AimmsParameterError,
    AimmsTaskMaybeCreatedError,
    AimmsWaitTimeoutError,
)
from airflow_provider_aimms.models import AimmsTask, InterruptMode, TaskPage, TaskResponse
from airflow_provider_aimms.scheduling import Schedule

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import AsyncIterator, Iterator

    from airflow.providers.common.compat.sdk import Connection


def _extra(extras: dict[str, Any], name: str) -> Any:
    # Airflow 2 forms stored custom fields as ``extra__<conn_type>__<name>``; newer ones use the bare name.
    value = extras.get(name)
    return extras.get(f"extra__aimms__{name}") if value in (None, "") else value


def _group_params(group_index: int | None) -> dict[str, str | int]:
    if group_index is None:
        return {}
    if isinstance(group_index, bool) or not isinstance(group_index, int) or group_index < 0:
        raise AimmsParameterError(
            "group_index",
            f"{group_index!r} is not a run number",
            "Pass an int >= 0, or None for the last run.",
        )
    return {"groupIndex": group_index}


def _date_param(value: dt.date | str, parameter: str) -> str:
    if isinstance(value, str):
        try:
            value = pendulum.parse(value)  # type: ignore[assignment]
        except ValueError as err:
            raise AimmsParameterError(
                parameter, f"{value!r} is not a date", "Pass a date or 'YYYY-MM-DD'."
            ) from err
    # AIMMS filters on dates; its generated client sends them as YYYY-MM-DD.
    return value.strftime("%Y-%m-%d")  # type: ignore[union-attr]


class AimmsHook(BaseHook):
    """
    Talk to the AIMMS PRO Tasks REST API v2 of one AIMMS Cloud account.

    The connection's host is the account URL (``https://myaccount.aimms.cloud``) and its password is
    an API key with the Tasks scope, sent as the ``apikey`` header. Extras, all optional: ``timeout``,
    ``verify``, ``ca_bundle``, ``proxies``, ``retry_limit`` and ``retry_delay``.

    Transient failures are retried with exponential backoff and jitter, honouring ``Retry-After``. A
    create request is resent only when AIMMS provably did not act on it, so a retry never makes a
    second AIMMS task.

    :param aimms_conn_id: the Airflow connection to use.
    :param timeout: seconds one HTTP request may take; overrides the connection's ``timeout`` (60).
    :param retry_limit: how often a transient failure is retried; overrides the connection (3).
    :param retry_delay: base of the exponential backoff in seconds; overrides the connection (1).
    """

    conn_name_attr = "aimms_conn_id"
    default_conn_name = "aimms_default"
    conn_type = "aimms"
    hook_name = "AIMMS PRO"

    def __init__(
        self,
        aimms_conn_id: str = default_conn_name,
        *,
        timeout: float | None = None,
        retry_limit: int | None = None,
        retry_delay: float | None = None,
    ) -> None:
        super().__init__()
        self.aimms_conn_id = aimms_conn_id
        self._overrides = {"timeout": timeout, "retry_limit": retry_limit, "retry_delay": retry_delay}
        self._async_settings: ClientSettings | None = None
        self._async_client: AsyncTransport | None = None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(aimms_conn_id={self.aimms_conn_id!r})"

    # -- connection and settings -------------------------------------------------------------

    def _settings_from(self, conn: Connection) -> ClientSettings:
        if not conn.host:
            raise AimmsConnectionConfigError(
                f"The Airflow connection {self.aimms_conn_id!r} has no host. Set it to your AIMMS account "
                "URL, e.g. https://myaccount.aimms.cloud"
            )
        if not conn.password:
            raise AimmsConnectionConfigError(
                f"The Airflow connection {self.aimms_conn_id!r} has no API key. Put an AIMMS PRO API key "
                "with the Tasks scope in its password field"
            )
        mask_secret(conn.password)
        extras = conn.extra_dejson
        proxies = _extra(extras, "proxies")
        if isinstance(proxies, str) and proxies.strip():
            try:
                proxies = json.loads(proxies)
            except ValueError as err:
                raise AimmsConnectionConfigError(
                    f"The `proxies` extra of connection {self.aimms_conn_id!r} is not JSON, e.g. "
                    '{"https": "http://proxy:3128"}'
                ) from err
        verify: bool | str = _extra(extras, "ca_bundle") or _extra(extras, "verify")
        if verify in (None, ""):
            verify = True
        elif isinstance(verify, str) and verify.lower() in ("true", "false"):
            verify = verify.lower() == "true"

        def setting(name: str, default: float, kind: type) -> Any:
            value = self._overrides[name]
            if value is None:
                value = _extra(extras, name)
            if value in (None, ""):
                return default
            try:
                number = kind(value)
            except (TypeError, ValueError):
                raise AimmsParameterError(
                    name, f"{value!r} is not a number", f"Set {name} to a number in the hook or connection."
                ) from None
            if number < 0 or (name == "timeout" and number == 0):
                raise AimmsParameterError(name, f"{value!r} is out of range", f"Set {name} above zero.")
            return number

        return ClientSettings(
            account_url=normalize_account_url(conn.host, port=conn.port, schema=conn.schema),
            api_key=conn.password,
            timeout=setting("timeout", DEFAULT_TIMEOUT, float),
            verify=verify,
            proxies=proxies or None,
            retry_limit=setting("retry_limit", DEFAULT_RETRY_LIMIT, int),
            retry_delay=setting("retry_delay", DEFAULT_RETRY_DELAY, float),
        )

    @cached_property
    def settings(self) -> ClientSettings:
        """The resolved connection settings, read once (sync path)."""
        return self._settings_from(self.get_connection(self.aimms_conn_id))

    async def asettings(self) -> ClientSettings:
        """Return the resolved connection settings, read once without blocking the event loop."""
        if self._async_settings is None:
            # get_async_connection is the triggerer-safe lookup: a sync lookup inside the event loop
            # breaks on Airflow 3 (secret masking across loops) and blocks every other trigger.
            conn = await get_async_connection(self.aimms_conn_id)
            self._async_settings = self._settings_from(conn)
        return self._async_settings

    @property
    def account_url(self) -> str:
        """The account URL, e.g. ``https://myaccount.aimms.cloud``."""
        return self.settings.account_url

    def get_conn(self) -> requests.Session:
        """Return the hook's pooled ``requests.Session``, authenticated by the ``apikey`` header."""
        return self._session

    @cached_property
    def _session(self) -> requests.Session:
        session = requests.Session()
        session.verify = self.settings.verify
        if self.settings.proxies:
            session.proxies.update(self.settings.proxies)
        return session

    # -- sync transport ----------------------------------------------------------------------

    def _send(self, request: ApiRequest, *, stream_to: Path | None = None) -> ApiResponse:
        settings = self.settings
        self.log.debug("AIMMS %s %s %s", request.method, request.path, dict(request.params))
        try:
            response = self._session.request(
                request.method,
                settings.base_url + request.path,
                params=dict(request.params),
                headers=request.all_headers(settings),
                data=request.body.content,
                files=request.body.files,
                timeout=settings.timeout,
                allow_redirects=False,
                stream=stream_to is not None,
            )
        except requests.RequestException as exc:
            raise transport_error(request, exc) from None
        headers = {name.lower(): value for name, value in response.headers.items()}
        with response:
            if stream_to is None or not 200 <= response.status_code < 300:
                raise_for_status(request, response.status_code, headers, response.content)
                return ApiResponse(response.status_code, headers, response.content)
            try:
                _stream_atomically(stream_to, response.iter_content(chunk_size=1 << 16))
            except requests.RequestException as exc:
                raise transport_error(request, exc) from None
            return ApiResponse(response.status_code, headers, b"")

    def _call(self, request: ApiRequest, *, stream_to: Path | None = None) -> ApiResponse:
        for attempt in tenacity.Retrying(**retry_policy(self.settings, request)):
            with attempt:
                return self._send(request, stream_to=stream_to)
        raise AssertionError("tenacity ends with a result or an exception")  # pragma: no cover

    # -- async transport ---------------------------------------------------------------------

    @asynccontextmanager
    async def async_session(self) -> AsyncIterator[AimmsHook]:
        """
        Hold the account's shared async client for several calls.

        ``async with hook.async_session(): ...`` makes every async call inside reuse one pooled client
        that all triggers of the account share; outside such a block each call borrows it briefly.
        """
        async with shared_async_client(await self.asettings()) as client:
            previous, self._async_client = self._async_client, client
            try:
                yield self
            finally:
                self._async_client = previous

    async def _asend(self, client: AsyncTransport, request: ApiRequest) -> ApiResponse:
        settings = await self.asettings()
        try:
            response = await client.request(
                request.method,
                settings.base_url + request.path,
                params=dict(request.params),
                headers=request.all_headers(settings),
                content=request.body.content,
                files=request.body.files,
            )
        except httpx.TransportError as exc:
            raise transport_error(request, exc) from None
        headers = {name.lower(): value for name, value in response.headers.items()}
        raise_for_status(request, response.status_code, headers, response.content)
        return ApiResponse(response.status_code, headers, response.content)

    async def _acall(self, request: ApiRequest) -> ApiResponse:
        if self._async_client is None:
            async with self.async_session():
                return await self._acall(request)
        client = self._async_client
        async for attempt in tenacity.AsyncRetrying(**retry_policy(await self.asettings(), request)):
            with attempt:
                return await self._asend(client, request)
        raise AssertionError("tenacity ends with a result or an exception")  # pragma: no cover

    # -- requests, built once for both transports --------------------------------------------

    @staticmethod
    def _get_task_request(aimms_task_id: str, group_index: int | None) -> ApiRequest:
        return ApiRequest(
            "GET",
            task_path(_task_id(aimms_task_id)),
            f"get AIMMS task {aimms_task_id}",
            params=_group_params(group_index),
        )

    @staticmethod
    def _response_request(aimms_task_id: str, group_index: int | None) -> ApiRequest:
        return ApiRequest(
            "GET",
            task_path(_task_id(aimms_task_id), "response"),
            f"get the response of AIMMS task {aimms_task_id}",
            params=_group_params(group_index),
            accept="application/octet-stream, application/json, */*",
        )

    @staticmethod
    def _interrupt_request(
        aimms_task_id: str, mode: InterruptMode | str, group_index: int | None
    ) -> ApiRequest:
        mode = interrupt_mode(mode)
        return ApiRequest(
            "PUT",
            task_path(_task_id(aimms_task_id)),
            f"{mode.value} AIMMS task {aimms_task_id}",
            params=_group_params(group_index),
            body=EncodedPayload(json.dumps({"setstatus": mode.value}).encode(), "application/json"),
        )

    # -- endpoints: create -------------------------------------------------------------------

    def create_task(
        self,
        app_name: str,
        service_name: str,
        payload: object = None,
        *,
        app_version: str | None = None,
        content_type: str | None = None,
        schedule_for: object = None,
        schedule_in: object = None,
        schedule_interval: object = None,
        state_hook_url: str | None = None,
    ) -> AimmsTask:
        """
        Create an AIMMS task: run ``service_name`` of the app with ``payload`` as its request file.

        :param app_name: the published app, e.g. ``"Logistics"``.
        :param service_name: the service (the DEX ``dex::ServiceName`` of a procedure).
        :param payload: the request body; see :func:`~airflow_provider_aimms._http.encode_payload` for
            the types accepted (dict or list as JSON, str, bytes, a path, a binary file, a MultipartFile).
        :param app_version: the app version; left out, AIMMS runs the version tagged *latest*.
        :param content_type: the body's type, when the default for ``payload`` is wrong.
        :param schedule_for: do not start before this time (aware datetime or string; UTC if no offset).
        :param schedule_in: do not start before this delay has passed (timedelta, ``"PT30M"``, ``"1 day"``).
        :param schedule_interval: repeat the task at this interval; each run gets a new group index.
        :param state_hook_url: AIMMS calls this URL (``PUT``) on every state change of the task.
        """
        for name, value in (("app_name", app_name), ("service_name", service_name)):
            if not isinstance(value, str) or not value.strip():
                raise AimmsParameterError(name, f"{value!r} is empty", f"Pass the {name.replace('_', ' ')}.")
        if app_version is not None and not str(app_version).strip():
            raise AimmsParameterError("app_version", "it is empty", "Pass a version, or None for the latest.")
        schedule = Schedule.from_arguments(
            schedule_for=schedule_for, schedule_in=schedule_in, schedule_interval=schedule_interval
        )
        headers: dict[str, str] = {}
        if state_hook_url:
            if not str(state_hook_url).startswith(("http://", "https://")):
                raise AimmsParameterError(
                    "state_hook_url", f"{state_hook_url!r} is not an http(s) URL", "Pass an absolute URL."
                )
            headers["taskStateHook"] = state_hook_url
        segments = [app_name] if app_version is None else [app_name, app_version]
        request = ApiRequest(
            "POST",
            task_path(*segments, service_name),
            f"create a task for service {service_name!r} of app {app_name!r}",
            params=schedule.query_params(),
            headers=headers,
            body=encode_payload(payload, content_type),
            idempotent=False,
            creates_task=True,
        )
        response = self._call(request)
        try:
            task = AimmsTask.from_json(response.json())
        except (AimmsApiError, ValueError) as err:
            # AIMMS said 2xx, so it acted on the request; only its answer is unreadable.
            raise AimmsTaskMaybeCreatedError(
                f"AIMMS accepted the request to {request.action}, but its answer could not be read ({err}). "
                "The task may exist: look for it in the AIMMS portal or with "
                "AimmsHook.list_tasks(app_name=...) before trying again"
            ) from err
        self.log.info("Created AIMMS task %s (%s/%s, state %s)", task.id, app_name, service_name, task.state)
        return task

    # -- endpoints: read ---------------------------------------------------------------------

    def list_tasks(
        self,
        *,
        app_name: str | None = None,
        app_version: str | None = None,
        created_before: dt.date | str | None = None,
        created_after: dt.date | str | None = None,
        offset: int | None = None,
        limit: int | None = None,
    ) -> TaskPage:
        """
        List tasks the key's user can see: one page, and the total that matches.

        :param created_before: only tasks created before this date.
        :param created_after: only tasks created on or after this date.
        :param offset: index of the first task of the page.
        :param limit: the page size.
        """
        params: dict[str, str | int] = {}
        if app_name:
            params["appName"] = app_name
        if app_version:
            params["appVersion"] = app_version
        if created_before is not None:
            params["before"] = _date_param(created_before, "created_before")
        if created_after is not None:
            params["after"] = _date_param(created_after, "created_after")
        for name, value, minimum in (("offset", offset, 0), ("limit", limit, 1)):
            if value is not None:
                if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                    raise AimmsParameterError(name, f"{value!r} is not valid", f"Pass an int >= {minimum}.")
                params[name] = value
        data = self._call(ApiRequest("GET", task_path(), "list tasks", params=params)).json()
        return TaskPage(
            total=int(data.get("total_tasks", 0)),
            tasks=[AimmsTask.from_json(item) for item in data.get("current_batch") or []],
        )

    def iter_tasks(self, *, page_size: int = 100, **filters: Any) -> Iterator[AimmsTask]:
        """Yield every task that matches ``filters`` (those of :meth:`list_tasks`), page by page."""
        offset = 0
        while True:
            page = self.list_tasks(offset=offset, limit=page_size, **filters)
            yield from page.tasks
            offset += len(page.tasks)
            if not page.tasks or offset >= page.total:
                return

    def get_task(self, aimms_task_id: str, group_index: int | None = None) -> AimmsTask:
        """Get one task; for a recurring task, run ``group_index`` (default: the last run)."""
        return AimmsTask.from_json(self._call(self._get_task_request(aimms_task_id, group_index)).json())

    def get_task_response(self, aimms_task_id: str, group_index: int | None = None) -> TaskResponse:
        """Get the raw response payload of a finished task, with its content type."""
        response = self._call(self._response_request(aimms_task_id, group_index))
        return TaskResponse(
            response.content, response.headers.get("content-type", "application/octet-stream")
        )

    def get_task_response_json(self, aimms_task_id: str, group_index: int | None = None) -> Any:
        """Get the response payload of a finished task, decoded as JSON."""
        return self.get_task_response(aimms_task_id, group_index).json()

    def get_task_logs(
        self,
        aimms_task_id: str,
        group_index: int | None = None,
        *,
        offset: int | None = None,
        limit: int | None = None,
        contains: str | None = None,
    ) -> Any:
        """
        Get a task's log entries, as AIMMS returns them.

        AIMMS does not document this answer's shape. The emulator answers
        ``{"total": N, "logs": [{"timestamp": ..., "message": ...}]}``; treat it as a guess.
        """
        params = _group_params(group_index)
        params.update(
            {k: v for k, v in (("offset", offset), ("limit", limit), ("contains", contains)) if v is not None}
        )
        return self._call(
            ApiRequest(
                "GET",
                task_path(_task_id(aimms_task_id), "logs"),
                f"get the logs of AIMMS task {aimms_task_id}",
                params=params,
            )
        ).json()

    def get_task_log_lines(
        self, aimms_task_id: str, group_index: int | None = None, *, last: int = 50
    ) -> list[str]:
        """Get up to ``last`` of a task's log lines as text, oldest first."""
        logs = self.get_task_logs(aimms_task_id, group_index)
        entries = logs.get("logs", []) if isinstance(logs, dict) else logs
        lines = [
            f"{entry.get('timestamp', '')} {entry.get('message', '')}".strip()
            if isinstance(entry, dict)
            else str(entry)
            for entry in entries or []
        ]
        return lines[-last:] if last else lines

    def download_task_logs(
        self, aimms_task_id: str, path: str | os.PathLike[str], group_index: int | None = None
    ) -> Path:
        """Stream a task's full log into ``path``; a large log never sits in memory. Return the path."""
        target = Path(path)
        request = ApiRequest(
            "GET",
            task_path(_task_id(aimms_task_id), "logs", "download"),
            f"download the logs of AIMMS task {aimms_task_id}",
            params=_group_params(group_index),
            accept="text/plain, */*",
        )
        self._call(request, stream_to=target)
        return target

    def get_task_stats(self, **filters: str | int) -> Any:
        """
        Get task statistics over time (``GET /tasks/stats``).

        The filters are passed as query parameters as given, e.g. ``appName``, ``begin``, ``end``,
        ``resolution``. AIMMS documents neither filters nor answer; the emulator's are guesses.
        """
        return self._call(ApiRequest("GET", task_path("stats"), "get task stats", params=filters)).json()

    def get_current_task_stats(self) -> Any:
        """Get the current task counters (``GET /tasks/stats/current``), e.g. running and total."""
        return self._call(ApiRequest("GET", task_path("stats", "current"), "get current task stats")).json()

    # -- endpoints: change -------------------------------------------------------------------

    def interrupt_task(
        self,
        aimms_task_id: str,
        mode: InterruptMode | str = InterruptMode.EXECUTION,
        group_index: int | None = None,
    ) -> None:
        """
        Interrupt a task.

        :param mode: ``interrupt-execution`` stops the procedure and the task ends ``failed``;
            ``interrupt-solve`` stops only the solve and the task ends ``completed``.
        """
        self._call(self._interrupt_request(aimms_task_id, mode, group_index))
        self.log.info("Asked AIMMS to %s task %s", interrupt_mode(mode).value, aimms_task_id)

    def delete_task(self, aimms_task_id: str, group_index: int | None = None) -> None:
        """
        Delete a task (AIMMS allows it for queued and completed tasks).

        Without ``group_index`` the last run is deleted, which also stops a recurring task.
        """
        self._call(
            ApiRequest(
                "DELETE",
                task_path(_task_id(aimms_task_id)),
                f"delete AIMMS task {aimms_task_id}",
                params=_group_params(group_index),
            )
        )
        self.log.info(
            "Deleted AIMMS task %s (run %s)", aimms_task_id, "last" if group_index is None else group_index
        )

    def wait_for_task(
        self,
        aimms_task_id: str,
        group_index: int | None = None,
        *,
        poll_interval: float = 10.0,
        timeout: float | None = None,
    ) -> AimmsTask:
        """
        Block until a task has ended and return it; ``timeout`` (seconds) limits the wait only.

        :raises AimmsWaitTimeoutError: when ``timeout`` passes first. The task is left alone.
        """
        poll_interval = seconds(poll_interval, "poll_interval")
        if timeout is not None:
            timeout = seconds(timeout, "timeout", allow_zero=True)
        deadline = None if timeout is None else time.monotonic() + timeout
        last_state = None
        while True:
            task = self.get_task(aimms_task_id, group_index)
            if task.state != last_state:
                self.log.info("AIMMS task %s is %s", aimms_task_id, task.state)
                last_state = task.state
            if task.is_terminal:
                return task
            if deadline is not None and time.monotonic() + poll_interval > deadline:
                raise AimmsWaitTimeoutError(
                    f"AIMMS task {aimms_task_id} was still {task.state} after waiting {timeout:.0f} s; "
                    "it was left running"
                )
            time.sleep(poll_interval)

    # -- async endpoints (for triggers) ------------------------------------------------------

    async def aget_task(self, aimms_task_id: str, group_index: int | None = None) -> AimmsTask:
        """Get one task without blocking the event loop."""
        response = await self._acall(self._get_task_request(aimms_task_id, group_index))
        return AimmsTask.from_json(response.json())

    async def aget_task_response(self, aimms_task_id: str, group_index: int | None = None) -> TaskResponse:
        """Get a finished task's response without blocking the event loop."""
        response = await self._acall(self._response_request(aimms_task_id, group_index))
        return TaskResponse(
            response.content, response.headers.get("content-type", "application/octet-stream")
        )

    async def ainterrupt_task(
        self,
        aimms_task_id: str,
        mode: InterruptMode | str = InterruptMode.EXECUTION,
        group_index: int | None = None,
    ) -> None:
        """Interrupt a task without blocking the event loop."""
        await self._acall(self._interrupt_request(aimms_task_id, mode, group_index))
        self.log.info("Asked AIMMS to %s task %s", interrupt_mode(mode).value, aimms_task_id)

    async def await_task_end(
        self, aimms_task_id: str, group_index: int | None, *, within: float, poll: float = 1.0
    ) -> AimmsTask | None:
        """Poll until a task has ended or ``within`` seconds pass; return the ended task or ``None``."""
        deadline = time.monotonic() + within
        while True:
            task = await self.aget_task(aimms_task_id, group_index)
            if task.is_terminal or time.monotonic() + poll > deadline:
                return task if task.is_terminal else None
            await asyncio.sleep(poll)

    # -- connection test and form ------------------------------------------------------------

    def test_connection(self) -> tuple[bool, str]:
        """Check that the account answers and that the key holds the Tasks scope (lists one task)."""
        try:
            self.list_tasks(limit=1)
        except (AimmsApiError, AimmsConnectionConfigError, AimmsParameterError) as err:
            return False, str(err)
        return True, f"Connected to {self.account_url}: the API key works and holds the Tasks scope."

    @classmethod
    def get_ui_field_behaviour(cls) -> dict[str, Any]:
        """Relabel and hide the standard connection fields (Airflow 2 forms; Airflow 3 reads provider info)."""
        from airflow_provider_aimms.get_provider_info import UI_FIELD_BEHAVIOUR

        return {
            "hidden_fields": UI_FIELD_BEHAVIOUR["hidden-fields"],
            "relabeling": UI_FIELD_BEHAVIOUR["relabeling"],
            "placeholders": UI_FIELD_BEHAVIOUR["placeholders"],
        }

    @classmethod
    def get_connection_form_widgets(cls) -> dict[str, Any]:
        """Add the extras to the Airflow 2 connection form (Airflow 3 reads ``conn-fields`` instead)."""
        try:
            from flask_appbuilder.fieldwidgets import BS3TextFieldWidget
            from flask_babel import lazy_gettext
            from wtforms import BooleanField, StringField
        except ImportError:  # Airflow 3 installs without the old web stack.
            return {}
        from airflow_provider_aimms.get_provider_info import CONNECTION_EXTRA_FIELDS

        widgets: dict[str, Any] = {}
        for name, spec in CONNECTION_EXTRA_FIELDS.items():
            if "boolean" in spec["schema"]["type"]:
                widgets[name] = BooleanField(lazy_gettext(spec["label"]), default=True)
            else:
                widgets[name] = StringField(
                    lazy_gettext(spec["label"]), widget=BS3TextFieldWidget(), description=spec["description"]
                )
        return widgets


def _task_id(aimms_task_id: str) -> str:
    if not isinstance(aimms_task_id, str) or not aimms_task_id.strip():
        raise AimmsParameterError(
            "aimms_task_id",
            f"{aimms_task_id!r} is empty",
            "Pass the id AIMMS returned when the task was created.",
        )
    return aimms_task_id.strip()


def _stream_atomically(target: Path, chunks: Iterator[bytes]) -> None:
    # Write next to the target and rename, so a broken download never leaves a half file under its name.
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".part")
    try:
        with open(partial, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        os.replace(partial, target)
    finally:
        partial.unlink(missing_ok=True)
