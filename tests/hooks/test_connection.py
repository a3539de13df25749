"""The connection: how it is read, checked and tested."""

from __future__ import annotations

import json

import pytest

from airflow_provider_aimms.exceptions import AimmsConnectionConfigError, AimmsParameterError
from airflow_provider_aimms.hooks.aimms import AimmsHook
from tests.conftest import API_KEY, connection_json
from tests.hooks.conftest import NO_SCOPE_KEY, READ_ONLY_KEY


def test_extras_and_hook_arguments_set_timeout_and_retries(server, monkeypatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_AIMMS_DEFAULT",
        connection_json(server.url, timeout="12.5", retry_limit=5, retry_delay=0.2, verify="false"),
    )
    settings = AimmsHook().settings
    assert (settings.timeout, settings.retry_limit, settings.retry_delay, settings.verify) == (
        12.5,
        5,
        0.2,
        False,
    )
    assert AimmsHook(timeout=3, retry_limit=0).settings.timeout == 3.0
    assert AimmsHook(retry_limit=0).settings.retry_limit == 0


def test_defaults_are_a_60s_timeout_and_3_retries(server, monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AIMMS_DEFAULT", connection_json(server.url))
    settings = AimmsHook().settings
    assert (settings.timeout, settings.retry_limit) == (60.0, 3)


def test_airflow2_prefixed_extras_and_proxies_are_read(server, monkeypatch) -> None:
    monkeypatch.setenv(
        "AIRFLOW_CONN_AIMMS_DEFAULT",
        connection_json(server.url, extra__aimms__timeout="7", proxies='{"https": "http://proxy:3128"}'),
    )
    settings = AimmsHook().settings
    assert settings.timeout == 7.0
    assert settings.proxies == {"https": "http://proxy:3128"}


def test_a_bad_extra_names_itself(server, monkeypatch) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_AIMMS_DEFAULT", connection_json(server.url, timeout="soon"))
    with pytest.raises(AimmsParameterError, match="`timeout`"):
        AimmsHook().settings


def test_the_uri_form_and_a_pasted_api_suffix_work(server, monkeypatch) -> None:
    host_port = server.url.removeprefix("http://")
    monkeypatch.setenv("AIRFLOW_CONN_AIMMS_DEFAULT", f"aimms://:{API_KEY}@{host_port}/http")
    assert AimmsHook().list_tasks().total == 0
    monkeypatch.setenv("AIRFLOW_CONN_AIMMS_DEFAULT", connection_json(server.url + "/pro-api/v2/"))
    assert AimmsHook().account_url == server.url


@pytest.mark.parametrize(("field", "message"), [("host", "has no host"), ("password", "has no API key")])
def test_a_missing_host_or_key_names_the_connection(monkeypatch, field: str, message: str) -> None:
    conn = {"conn_type": "aimms", "host": "https://x.aimms.cloud", "password": "k" * 12}
    conn.pop(field)
    monkeypatch.setenv("AIRFLOW_CONN_MY_AIMMS", json.dumps(conn))
    with pytest.raises(AimmsConnectionConfigError, match=f"'my_aimms' {message}"):
        AimmsHook("my_aimms").settings


def test_test_connection_reports_success_and_each_failure(server, monkeypatch) -> None:
    assert AimmsHook().test_connection() == (
        True,
        f"Connected to {server.url}: the API key works and holds the Tasks scope.",
    )
    for key, status in (("wrong-key-123", "401"), (NO_SCOPE_KEY, "403")):
        monkeypatch.setenv("AIRFLOW_CONN_AIMMS_DEFAULT", connection_json(server.url, api_key=key))
        ok, message = AimmsHook().test_connection()
        assert not ok
        assert f"HTTP {status}" in message
        assert "Tasks scope" in message


def test_a_read_only_key_can_read_but_not_create(server, monkeypatch) -> None:
    task = AimmsHook().create_task("Logistics", "echo", "x")
    monkeypatch.setenv("AIRFLOW_CONN_AIMMS_DEFAULT", connection_json(server.url, api_key=READ_ONLY_KEY))
    reader = AimmsHook()
    assert reader.get_task(task.id).id == task.id
    from airflow_provider_aimms.exceptions import AimmsAuthenticationError

    with pytest.raises(AimmsAuthenticationError) as info:
        reader.create_task("Logistics", "echo", "x")
    assert info.value.status_code == 403


def test_provider_info_declares_the_connection_form() -> None:
    from airflow_provider_aimms.get_provider_info import get_provider_info

    info = get_provider_info()
    (conn_type,) = info["connection-types"]
    assert conn_type["connection-type"] == "aimms"
    assert conn_type["ui-field-behaviour"]["relabeling"] == {"host": "Account URL", "password": "API key"}
    assert set(conn_type["conn-fields"]) == {
        "timeout",
        "verify",
        "ca_bundle",
        "proxies",
        "retry_limit",
        "retry_delay",
    }
    assert AimmsHook.get_ui_field_behaviour()["relabeling"]["host"] == "Account URL"
