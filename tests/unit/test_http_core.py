from __future__ import annotations

import email.utils
import io
import json
from pathlib import Path

import httpx
import pytest
import requests
import urllib3.exceptions

from airflow_provider_aimms._http import (
    ApiRequest,
    MultipartFile,
    encode_payload,
    is_retryable,
    normalize_account_url,
    parse_retry_after,
    raise_for_status,
    task_path,
    transport_error,
)
from airflow_provider_aimms.exceptions import (
    AimmsApiError,
    AimmsAuthenticationError,
    AimmsNotFoundError,
    AimmsParameterError,
    AimmsTaskMaybeCreatedError,
    AimmsTransportError,
)

GET = ApiRequest("GET", "/tasks/x", "get AIMMS task x")
CREATE = ApiRequest("POST", "/tasks/a/s", "create a task", idempotent=False, creates_task=True)


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("myaccount.aimms.cloud", "https://myaccount.aimms.cloud"),
        ("https://myaccount.aimms.cloud/", "https://myaccount.aimms.cloud"),
        ("https://myaccount.aimms.cloud/pro-api/v2/", "https://myaccount.aimms.cloud"),
        ("http://127.0.0.1:8800", "http://127.0.0.1:8800"),
    ],
)
def test_account_url_is_normalised(host: str, expected: str) -> None:
    assert normalize_account_url(host) == expected


def test_port_and_schema_fields_are_honoured() -> None:
    assert normalize_account_url("localhost", port=8800, schema="http") == "http://localhost:8800"


def test_plain_http_to_a_remote_host_warns(caplog: pytest.LogCaptureFixture) -> None:
    normalize_account_url("http://myaccount.aimms.cloud")
    assert "unencrypted" in caplog.text
    caplog.clear()
    normalize_account_url("http://localhost:8800")
    assert caplog.text == ""


def test_path_segments_are_encoded() -> None:
    assert task_path("Supply Chain/EU", "1.0", "plan") == "/tasks/Supply%20Chain%2FEU/1.0/plan"


def test_retry_after_in_seconds_and_as_http_date() -> None:
    assert parse_retry_after("7") == 7.0
    date = email.utils.formatdate(1_000_030, usegmt=True)
    assert parse_retry_after(date, now=1_000_000) == pytest.approx(30.0)
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None


def _error(status: int) -> AimmsApiError:
    body = json.dumps({"errorId": "e-1", "errorCode": status, "message": "nope"}).encode()
    with pytest.raises(AimmsApiError) as info:
        raise_for_status(GET, status, {"retry-after": "2"}, body)
    return info.value


def test_errors_carry_aimms_fields_and_narrow_classes() -> None:
    err = _error(404)
    assert isinstance(err, AimmsNotFoundError)
    assert (err.status_code, err.error_code, err.error_id, err.retry_after) == (404, 404, "e-1", 2.0)
    assert "AIMMS refused to get AIMMS task x: nope" in str(err)
    assert isinstance(_error(401), AimmsAuthenticationError)
    assert "Tasks scope" in str(_error(403))


def test_a_non_json_error_body_is_quoted_and_truncated() -> None:
    with pytest.raises(AimmsApiError) as info:
        raise_for_status(GET, 502, {}, b"<html>" + b"x" * 5000)
    assert info.value.message.startswith("AIMMS refused to get AIMMS task x: <html>xxx")
    assert len(info.value.message) < 600


@pytest.mark.parametrize(
    ("status", "get_retried", "create_retried"),
    [
        (429, True, True),
        (503, True, True),
        (502, True, False),
        (504, True, False),
        (500, False, False),
        (400, False, False),
    ],
)
def test_status_retry_rules(status: int, get_retried: bool, create_retried: bool) -> None:
    err = _error(status)
    assert is_retryable(GET, err) is get_retried
    assert is_retryable(CREATE, err) is create_retried


def test_transport_failures_before_sending_are_retried_even_for_create() -> None:
    refused = requests.exceptions.ConnectionError(
        urllib3.exceptions.MaxRetryError(None, "/", urllib3.exceptions.NewConnectionError(None, "refused"))  # type: ignore[arg-type]
    )
    for exc in (refused, httpx.ConnectError("refused"), httpx.ConnectTimeout("slow")):
        err = transport_error(CREATE, exc)
        assert type(err) is AimmsTransportError
        assert is_retryable(CREATE, err)


def test_transport_failures_after_sending_a_create_are_never_retried() -> None:
    dropped = requests.exceptions.ConnectionError(urllib3.exceptions.ProtocolError("Connection aborted."))
    for exc in (
        dropped,
        requests.exceptions.ReadTimeout(),
        httpx.ReadTimeout("slow"),
        httpx.RemoteProtocolError("x"),
    ):
        err = transport_error(CREATE, exc)
        assert isinstance(err, AimmsTaskMaybeCreatedError)
        assert "may exist" in str(err)
        assert "list_tasks" in str(err)
        assert not is_retryable(CREATE, err)
        assert is_retryable(GET, transport_error(GET, exc))


def test_payload_encoding(tmp_path: Path) -> None:
    assert encode_payload({"a": [1, 2]}) == encode_payload([]).__class__(b'{"a":[1,2]}', "application/json")
    assert encode_payload("x;y", "text/csv").content_type == "text/csv"
    assert encode_payload("héllo").content == "héllo".encode()
    assert encode_payload(b"\x00\x01").content_type == "application/octet-stream"
    xlsx = tmp_path / "demand.xlsx"
    xlsx.write_bytes(b"PK\x03\x04")
    assert (
        encode_payload(xlsx).content_type
        == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert encode_payload(io.BytesIO(b"zip")).content == b"zip"
    files = encode_payload(MultipartFile(xlsx)).files
    assert files == {
        "file": (
            "demand.xlsx",
            b"PK\x03\x04",
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    }
    assert encode_payload(None).content is None


@pytest.mark.parametrize("payload", [{"when": object()}, io.StringIO("text mode"), 3.14])
def test_unsendable_payloads_name_the_parameter(payload: object) -> None:
    with pytest.raises(AimmsParameterError, match="`payload`"):
        encode_payload(payload)
