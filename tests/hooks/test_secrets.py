"""The API key must not leak: not in logs, exceptions, reprs, serialized triggers or XCom."""

from __future__ import annotations

import json

import pytest

from airflow_provider_aimms.exceptions import AimmsError
from airflow_provider_aimms.hooks.aimms import AimmsHook
from airflow_provider_aimms.triggers.aimms import AimmsTaskTrigger
from tests.conftest import connection_json

SECRET = "sEcReT-api-key-7731"


def test_the_key_appears_nowhere_a_user_can_see(server, monkeypatch, caplog, capsys) -> None:
    caplog.set_level("DEBUG")
    monkeypatch.setenv(
        "AIRFLOW_CONN_AIMMS_DEFAULT", connection_json(server.url, api_key=SECRET, retry_delay=0.01)
    )
    hook = AimmsHook()
    seen: list[str] = [repr(hook), repr(hook.settings), str(hook.settings.pool_key)]
    ok, message = hook.test_connection()  # the key is unknown to the emulator: a 401
    seen.append(message)
    for action in (
        lambda: hook.create_task("Logistics", "knapsack", {}),
        lambda: hook.get_task("nope"),
        lambda: AimmsHook(timeout=0.001).create_task("Logistics", "knapsack", {}),
    ):
        with pytest.raises(AimmsError) as info:
            action()
        seen += [str(info.value), repr(info.value)]
    trigger = AimmsTaskTrigger(aimms_task_id="t-1")
    seen.append(json.dumps(trigger.serialize()))
    seen += [caplog.text, *capsys.readouterr()]
    assert not ok
    leaks = [text for text in seen if SECRET in text]
    assert leaks == []
    # And the test itself can tell: the key was really sent and refused.
    assert "HTTP 401" in message
