"""
Build and verify ``taskStateHook`` URLs.

AIMMS calls the hook URL with ``PUT`` and the query parameters ``task_uuid``, ``task_state``, ``at`` and,
when the URL carried a ``key``, ``hmac``; it removes ``key`` from the call. AIMMS does not document the
HMAC algorithm nor the format of ``at``. We assume **HMAC-SHA256 over the task UUID, as lowercase hex**,
and an ISO 8601 (or epoch seconds) ``at``. Both assumptions live in this module only: if AIMMS turns out
to differ, change :func:`state_hook_hmac` and :func:`_parse_at` and nothing else.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import pendulum

from airflow_provider_aimms.exceptions import AimmsParameterError, StateHookVerificationError
from airflow_provider_aimms.models import parse_timestamp

if TYPE_CHECKING:
    from collections.abc import Mapping

#: How old an ``at`` may be before a call counts as a replay, by default.
DEFAULT_MAX_AGE_SECONDS = 300.0


def state_hook_hmac(key: str, task_uuid: str) -> str:
    """Compute the HMAC AIMMS sends as ``hmac`` (our assumption: SHA-256, lowercase hex)."""
    return hmac.new(key.encode(), task_uuid.encode(), hashlib.sha256).hexdigest()


def build_state_hook_url(url: str, key: str) -> str:
    """
    Add a secret ``key`` to a hook URL, so that AIMMS signs each call to it.

    :param url: the receiving endpoint, e.g. ``https://hooks.example.com/aimms``. It must not carry a
        ``key`` of its own.
    :param key: a long random secret shared only with the receiver, e.g. ``secrets.token_urlsafe(32)``.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise AimmsParameterError("url", f"{url!r} is not an http(s) URL", "Pass an absolute URL.")
    if not key:
        raise AimmsParameterError("key", "the key is empty", "Pass a long random secret.")
    query = parse_qsl(parts.query, keep_blank_values=True)
    if any(name == "key" for name, _ in query):
        raise AimmsParameterError("url", "the URL already has a `key` parameter", "Remove it from the URL.")
    return urlunsplit(parts._replace(query=urlencode([*query, ("key", key)])))


@dataclass(frozen=True)
class StateHookCall:
    """A verified ``taskStateHook`` call."""

    task_uuid: str
    task_state: str
    at: pendulum.DateTime


def verify_state_hook_call(
    query: Mapping[str, str] | str,
    key: str,
    *,
    max_age_seconds: float = DEFAULT_MAX_AGE_SECONDS,
    now: pendulum.DateTime | None = None,
) -> StateHookCall:
    """
    Check that an incoming hook call came from AIMMS and is fresh; return what it says.

    :param query: the call's query parameters, as a mapping or as the raw query string.
    :param key: the secret given to :func:`build_state_hook_url`.
    :param max_age_seconds: how far ``at`` may lie from now, either way, before the call counts as a
        replay (or a badly skewed clock).
    :raises StateHookVerificationError: when a parameter is missing, the HMAC does not match, or
        ``at`` is outside the freshness window.
    """
    params = dict(parse_qsl(query, keep_blank_values=True)) if isinstance(query, str) else dict(query)
    missing = [name for name in ("task_uuid", "task_state", "at", "hmac") if not params.get(name)]
    if missing:
        raise StateHookVerificationError(f"The hook call lacks {', '.join(missing)}")
    expected = state_hook_hmac(key, params["task_uuid"])
    # compare_digest takes as long for a near miss as for a wild guess, so timing tells an attacker nothing.
    if not hmac.compare_digest(expected, params["hmac"].lower()):
        raise StateHookVerificationError("The hook call's hmac does not match its task_uuid")
    at = _parse_at(params["at"])
    now = now or pendulum.now("UTC")
    age = abs((now - at).total_seconds())
    if age > max_age_seconds:
        raise StateHookVerificationError(
            f"The hook call's `at` ({at.to_iso8601_string()}) is {age:.0f} s from now; "
            f"at most {max_age_seconds:.0f} s is accepted"
        )
    return StateHookCall(task_uuid=params["task_uuid"], task_state=params["task_state"], at=at)


def _parse_at(raw: str) -> pendulum.DateTime:
    try:
        return pendulum.from_timestamp(float(raw), tz="UTC")
    except ValueError:
        pass
    try:
        parsed = parse_timestamp(raw)
    except ValueError as err:
        raise StateHookVerificationError(f"The hook call's `at` ({raw!r}) is not a time") from err
    assert parsed is not None
    return parsed
