"""
The transport-neutral core of the hook: settings, requests, payloads, error classification and retries.

The hook has two transports, ``requests`` for workers and ``httpx`` for the triggerer. Both send the same
:class:`ApiRequest` and hand back the same :class:`ApiResponse`, so that this module alone decides what a
status code means and whether a failure may be retried.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import logging
import mimetypes
import os
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlsplit

import httpx
import requests
import tenacity
import urllib3.exceptions

from airflow_provider_aimms import __version__
from airflow_provider_aimms.exceptions import (
    AimmsApiError,
    AimmsAuthenticationError,
    AimmsNotFoundError,
    AimmsParameterError,
    AimmsTaskMaybeCreatedError,
    AimmsTransportError,
)

if TYPE_CHECKING:
    from collections.abc import Mapping

log = logging.getLogger(__name__)

API_PREFIX = "/pro-api/v2"
USER_AGENT = f"airflow-provider-aimms/{__version__}"
DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRY_LIMIT = 3
DEFAULT_RETRY_DELAY = 1.0
#: The longest we sleep between two tries, whatever ``Retry-After`` asks for.
MAX_RETRY_WAIT = 60.0
# An error body is quoted in exceptions; a proxy's HTML error page should not fill the log.
_MAX_ERROR_TEXT = 500
_LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]")


@dataclass(frozen=True)
class ClientSettings:
    """Everything a transport needs to talk to one AIMMS account. ``api_key`` is kept out of ``repr``."""

    account_url: str
    api_key: str = field(repr=False)
    timeout: float = DEFAULT_TIMEOUT
    verify: bool | str = True
    proxies: Mapping[str, str] | None = None
    retry_limit: int = DEFAULT_RETRY_LIMIT
    retry_delay: float = DEFAULT_RETRY_DELAY

    @property
    def base_url(self) -> str:
        """The root of the Tasks v2 API, e.g. ``https://myaccount.aimms.cloud/pro-api/v2``."""
        return self.account_url + API_PREFIX

    @property
    def pool_key(self) -> tuple[str, str, float, str, str]:
        """What makes two settings share one HTTP client; the key enters only as a digest."""
        key_digest = hashlib.sha256(self.api_key.encode()).hexdigest()
        return (self.account_url, key_digest, self.timeout, str(self.verify), json.dumps(self.proxies))


def normalize_account_url(host: str | None, *, port: int | None = None, schema: str | None = None) -> str:
    """
    Turn the connection's host into an account URL such as ``https://myaccount.aimms.cloud``.

    A host without a scheme gets ``https://`` (or the connection's ``schema`` if that is ``http``), a
    trailing slash and a pasted ``/pro-api/v2`` suffix are dropped, and the port is added if the host
    has none.
    """
    url = (host or "").strip()
    if "://" not in url:
        scheme = schema if schema in ("http", "https") else "https"
        url = f"{scheme}://{url}"
    url = url.rstrip("/")
    if url.endswith(API_PREFIX):
        url = url[: -len(API_PREFIX)].rstrip("/")
    parts = urlsplit(url)
    if port and parts.port is None:
        url = url.replace(parts.netloc, f"{parts.netloc}:{port}", 1)
    if parts.scheme == "http" and parts.hostname not in _LOCAL_HOSTS:
        log.warning(
            "The AIMMS connection uses plain http:// to %s, so the API key travels unencrypted; "
            "use https:// for anything but a local emulator",
            parts.hostname,
        )
    return url


def task_path(*segments: object) -> str:
    """Build ``/tasks/...`` with every segment percent-encoded, so ``Supply Chain/EU`` stays one segment."""
    return "/tasks" + "".join("/" + quote(str(segment), safe="") for segment in segments)


@dataclass(frozen=True)
class MultipartFile:
    """
    A payload sent as ``multipart/form-data`` with one part, as the AIMMS samples upload Excel files.

    :param content: the file's bytes, or a path to read them from.
    :param filename: the name given to the part; defaults to the path's name.
    :param content_type: the part's type; guessed from the file name when left out.
    :param field_name: the part's form field; AIMMS samples use ``file``.
    """

    content: bytes | str | os.PathLike[str]
    filename: str | None = None
    content_type: str | None = None
    field_name: str = "file"

    def as_files(self) -> dict[str, tuple[str, bytes, str]]:
        """Return the part in the ``files=`` form that both requests and httpx accept."""
        if isinstance(self.content, bytes):
            data, name = self.content, self.filename or "payload"
        else:
            with open(self.content, "rb") as handle:
                data = handle.read()
            name = self.filename or os.path.basename(os.fspath(self.content))
        ctype = self.content_type or mimetypes.guess_type(name)[0] or "application/octet-stream"
        return {self.field_name: (name, data, ctype)}


@dataclass(frozen=True)
class EncodedPayload:
    """A request body ready for either transport."""

    content: bytes | None = None
    content_type: str | None = None
    files: dict[str, tuple[str, bytes, str]] | None = None


def encode_payload(payload: object, content_type: str | None = None) -> EncodedPayload:
    """
    Encode a task payload.

    - ``None``: no body.
    - ``dict`` or ``list``: JSON.
    - ``str``: sent as UTF-8 text (``text/plain`` unless ``content_type`` says otherwise).
    - ``bytes``: sent as is (``application/octet-stream`` unless told otherwise).
    - a path (``pathlib.Path``): the file's bytes, with a type guessed from its name.
    - a binary file object: its bytes, read once, so that a retry can resend them.
    - :class:`MultipartFile`: a ``multipart/form-data`` body with one ``file`` part.
    """
    if payload is None:
        return EncodedPayload(content_type=content_type)
    if isinstance(payload, MultipartFile):
        return EncodedPayload(files=payload.as_files())
    if isinstance(payload, dict | list):
        try:
            # allow_nan=False: NaN and Infinity are not JSON, and a model would choke on them.
            body = json.dumps(payload, separators=(",", ":"), allow_nan=False).encode()
        except (TypeError, ValueError) as err:
            raise AimmsParameterError(
                "payload", f"it cannot be written as JSON ({err})", "Pass JSON-compatible values only."
            ) from err
        return EncodedPayload(body, content_type or "application/json")
    if isinstance(payload, str):
        return EncodedPayload(payload.encode(), content_type or "text/plain; charset=utf-8")
    if isinstance(payload, bytes | bytearray | memoryview):
        return EncodedPayload(bytes(payload), content_type or "application/octet-stream")
    if isinstance(payload, os.PathLike):
        try:
            with open(payload, "rb") as handle:
                body = handle.read()
        except OSError as err:
            raise AimmsParameterError(
                "payload",
                f"the file {os.fspath(payload)!r} cannot be read ({err.strerror})",
                "Check the path.",
            ) from err
        guessed = mimetypes.guess_type(os.fspath(payload))[0]
        return EncodedPayload(body, content_type or guessed or "application/octet-stream")
    if hasattr(payload, "read"):
        data = payload.read()
        if not isinstance(data, bytes):
            raise AimmsParameterError(
                "payload", "the file object is open in text mode", "Open it with mode 'rb'."
            )
        guessed = mimetypes.guess_type(str(getattr(payload, "name", "")))[0]
        return EncodedPayload(data, content_type or guessed or "application/octet-stream")
    raise AimmsParameterError(
        "payload",
        f"a {type(payload).__name__} cannot be sent",
        "Pass a dict or list (JSON), str, bytes, a pathlib.Path, a binary file object or a MultipartFile.",
    )


@dataclass(frozen=True)
class ApiRequest:
    """
    One call to the Tasks API, independent of the HTTP library that sends it.

    :param idempotent: whether sending it twice does no harm; only such requests are retried after
        AIMMS may have received them.
    :param creates_task: a lost answer to this request may hide a new task (see
        :class:`~airflow_provider_aimms.exceptions.AimmsTaskMaybeCreatedError`).
    :param action: what the call does, in words, for error messages.
    """

    method: str
    path: str
    action: str
    params: Mapping[str, str | int] = field(default_factory=dict)
    headers: Mapping[str, str] = field(default_factory=dict)
    body: EncodedPayload = field(default_factory=EncodedPayload)
    idempotent: bool = True
    creates_task: bool = False
    accept: str = "application/json"

    def all_headers(self, settings: ClientSettings) -> dict[str, str]:
        """Headers for the wire, the ``apikey`` included; never log the result."""
        headers = {"apikey": settings.api_key, "User-Agent": USER_AGENT, "Accept": self.accept}
        if self.body.content_type and self.body.files is None:
            headers["Content-Type"] = self.body.content_type
        headers.update(self.headers)
        return headers


@dataclass(frozen=True)
class ApiResponse:
    """A successful answer: status, headers (lower-case names) and body."""

    status_code: int
    headers: Mapping[str, str]
    content: bytes

    def json(self) -> Any:
        """Decode the body as JSON, or raise :class:`AimmsApiError` naming what came back instead."""
        try:
            return json.loads(self.content)
        except ValueError as err:
            raise AimmsApiError(
                f"AIMMS answered with a body that is not JSON: {self.content[:_MAX_ERROR_TEXT]!r}",
                status_code=self.status_code,
            ) from err


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Read ``Retry-After`` as seconds to wait; it may be a number of seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - (time.time() if now is None else now))


def raise_for_status(request: ApiRequest, status: int, headers: Mapping[str, str], body: bytes) -> None:
    """Raise the error that a non-2xx answer means, with AIMMS's ``errorCode`` and ``errorId``."""
    if 200 <= status < 300:
        return
    message, error_code, error_id = _read_error_body(body)
    text = (
        f"AIMMS refused to {request.action}: {message}" if message else f"AIMMS refused to {request.action}"
    )
    error_class: type[AimmsApiError] = AimmsApiError
    if status in (401, 403):
        error_class = AimmsAuthenticationError
        text += (
            ". Check that the connection's API key is valid, has the Tasks scope, and that its user has "
            "Read (and, to create, interrupt or delete, Execute) permission on the app"
        )
    elif status == 404:
        error_class = AimmsNotFoundError
    raise error_class(
        text,
        status_code=status,
        error_code=error_code,
        error_id=error_id,
        retry_after=parse_retry_after(headers.get("retry-after")),
    )


def _read_error_body(body: bytes) -> tuple[str, int | None, str | None]:
    try:
        data = json.loads(body)
    except ValueError:
        return body[:_MAX_ERROR_TEXT].decode("utf-8", "replace").strip(), None, None
    if not isinstance(data, dict):
        return str(data)[:_MAX_ERROR_TEXT], None, None
    code = data.get("errorCode")
    return (
        str(data.get("message") or "").strip(),
        int(code) if isinstance(code, int | float | str) and str(code).isdigit() else None,
        str(data["errorId"]) if data.get("errorId") else None,
    )


def transport_error(request: ApiRequest, exc: Exception) -> AimmsTransportError:
    """
    Translate a requests or httpx failure into our own error, noting whether AIMMS may have seen it.

    Only a failure to *connect* proves the request never arrived. After that, a timeout or a dropped
    connection leaves us not knowing, which for a create means a task may exist.
    """
    reached = _may_have_reached_server(exc)
    kind = type(exc).__name__
    if reached and request.creates_task:
        return AimmsTaskMaybeCreatedError(
            f"The request to {request.action} was sent, but its answer was lost ({kind}). The task may "
            "exist in AIMMS, so it was not sent again. Look for it before retrying: list the app's tasks "
            "created in the last minutes (AimmsHook.list_tasks(app_name=..., created_after=...)) or check "
            "the AIMMS portal"
        )
    error = AimmsTransportError(f"Could not {request.action}: {kind}: {_short(exc)}")
    error.reached_server = reached  # type: ignore[attr-defined]
    return error


def _short(exc: Exception) -> str:
    return str(exc)[:_MAX_ERROR_TEXT]


def _may_have_reached_server(exc: Exception) -> bool:
    if isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout):
        return False
    if isinstance(exc, httpx.TransportError):
        return True
    if isinstance(exc, requests.exceptions.ConnectTimeout | requests.exceptions.InvalidURL):
        return False
    if isinstance(exc, requests.exceptions.ConnectionError):
        # requests folds "could not connect" and "connection dropped mid-answer" into one class; the
        # urllib3 cause tells them apart.
        cause: BaseException | None = (
            exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else None
        )
        if isinstance(cause, urllib3.exceptions.MaxRetryError):
            cause = cause.reason
        return not isinstance(
            cause, urllib3.exceptions.NewConnectionError | urllib3.exceptions.ConnectTimeoutError
        )
    return True


def is_retryable(request: ApiRequest, exc: BaseException) -> bool:
    """
    Decide whether a failed call may be sent again.

    - A connection that never opened: always, since AIMMS saw nothing.
    - 429 and 503: always; AIMMS (or its gateway) turned the request away without acting on it.
    - 502, 504, read timeouts and dropped connections: only for idempotent requests, because AIMMS may
      have acted on it. A create is never resent in these cases.
    """
    if isinstance(exc, AimmsTaskMaybeCreatedError):
        return False
    if isinstance(exc, AimmsTransportError):
        return request.idempotent or not getattr(exc, "reached_server", True)
    if isinstance(exc, AimmsApiError):
        if exc.status_code in (429, 503):
            return True
        return exc.status_code in (502, 504) and request.idempotent
    return False


class WaitRetryAfterOrBackoff(tenacity.wait.wait_base):
    """Wait as long as ``Retry-After`` asks (capped), else back off exponentially with full jitter."""

    def __init__(self, retry_delay: float, max_wait: float = MAX_RETRY_WAIT) -> None:
        self.max_wait = max_wait
        self.backoff = tenacity.wait_random_exponential(multiplier=retry_delay, max=max_wait)

    def __call__(self, retry_state: tenacity.RetryCallState) -> float:
        outcome = retry_state.outcome
        exc = outcome.exception() if outcome is not None else None
        retry_after = getattr(exc, "retry_after", None)
        if retry_after is not None:
            return float(min(retry_after, self.max_wait))
        return float(self.backoff(retry_state))


def retry_policy(settings: ClientSettings, request: ApiRequest) -> dict[str, Any]:
    """Keyword arguments for ``tenacity.Retrying`` / ``AsyncRetrying`` around one call."""

    def log_retry(retry_state: tenacity.RetryCallState) -> None:
        exc = retry_state.outcome.exception() if retry_state.outcome else None
        log.warning(
            "Attempt %d to %s failed (%s); retrying in %.1f s",
            retry_state.attempt_number,
            request.action,
            exc,
            retry_state.upcoming_sleep,
        )

    return {
        "stop": tenacity.stop_after_attempt(settings.retry_limit + 1),
        "wait": WaitRetryAfterOrBackoff(settings.retry_delay),
        "retry": tenacity.retry_if_exception(lambda exc: is_retryable(request, exc)),
        "before_sleep": log_retry,
        "reraise": True,
    }
