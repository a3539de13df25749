from __future__ import annotations

import hashlib
import hmac
from urllib.parse import parse_qs, urlsplit

import pendulum
import pytest

from airflow_provider_aimms.exceptions import AimmsParameterError, StateHookVerificationError
from airflow_provider_aimms.state_hooks import build_state_hook_url, state_hook_hmac, verify_state_hook_call

KEY = "s3cret-shared-key"
TASK = "efa680a0-748e-43d0-9099-cf40937b13f4"
NOW = pendulum.datetime(2026, 12, 3, 12, 0, tz="UTC")


def test_hmac_is_sha256_hex_of_the_task_uuid() -> None:
    assert state_hook_hmac(KEY, TASK) == hmac.new(KEY.encode(), TASK.encode(), hashlib.sha256).hexdigest()


def test_build_url_keeps_existing_parameters_and_adds_the_key() -> None:
    url = build_state_hook_url("https://hooks.example.com/aimms?team=ops", KEY)
    parts = urlsplit(url)
    assert (parts.netloc, parts.path) == ("hooks.example.com", "/aimms")
    assert parse_qs(parts.query) == {"team": ["ops"], "key": [KEY]}


@pytest.mark.parametrize("url", ["hooks.example.com/x", "ftp://example.com", "https://x.example.com/?key=1"])
def test_build_url_refuses_bad_urls(url: str) -> None:
    with pytest.raises(AimmsParameterError, match="`url`"):
        build_state_hook_url(url, KEY)


def _call(**overrides: str) -> dict[str, str]:
    params = {"task_uuid": TASK, "task_state": "completed", "at": "2026-12-03T11:59:30Z"}
    params["hmac"] = state_hook_hmac(KEY, TASK)
    params.update(overrides)
    return params


def test_a_genuine_fresh_call_verifies() -> None:
    call = verify_state_hook_call(_call(), KEY, now=NOW)
    assert (call.task_uuid, call.task_state, call.at) == (TASK, "completed", NOW.subtract(seconds=30))


def test_a_raw_query_string_and_epoch_at_verify_too() -> None:
    query = f"task_uuid={TASK}&task_state=running&at={NOW.timestamp() - 5}&hmac={state_hook_hmac(KEY, TASK)}"
    assert verify_state_hook_call(query, KEY, now=NOW).task_state == "running"


@pytest.mark.parametrize(
    ("overrides", "match"),
    [
        ({"hmac": "0" * 64}, "does not match"),
        ({"task_uuid": "another-task"}, "does not match"),
        ({"at": "2026-12-03T11:50:00Z"}, "600 s from now"),
        ({"at": "yesterday"}, "not a time"),
        ({"hmac": ""}, "lacks hmac"),
    ],
)
def test_forged_stale_or_incomplete_calls_are_refused(overrides: dict[str, str], match: str) -> None:
    with pytest.raises(StateHookVerificationError, match=match):
        verify_state_hook_call(_call(**overrides), KEY, now=NOW)


def test_the_freshness_window_is_configurable() -> None:
    old = _call(at="2026-12-03T11:50:00Z")
    assert verify_state_hook_call(old, KEY, now=NOW, max_age_seconds=900).task_uuid == TASK
