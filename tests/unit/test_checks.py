"""Careless arguments fail at DAG parse time, naming the parameter and the fix."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import pytest

from airflow_provider_aimms._checks import interrupt_mode, return_codes, seconds
from airflow_provider_aimms._http import encode_payload
from airflow_provider_aimms.exceptions import AimmsParameterError
from airflow_provider_aimms.models import InterruptMode
from airflow_provider_aimms.operators.aimms import AimmsCreateTaskOperator, AimmsInterruptTaskOperator


@pytest.mark.parametrize(("value", "expected"), [(30, 30.0), ("2.5", 2.5), (dt.timedelta(minutes=2), 120.0)])
def test_seconds_accepts_numbers_numeric_strings_and_timedeltas(value: object, expected: float) -> None:
    assert seconds(value, "timeout") == expected


@pytest.mark.parametrize("value", [0, -1, "fast", "1h", None, math.nan, math.inf, True, [5]])
def test_seconds_refuses_everything_else(value: object) -> None:
    with pytest.raises(AimmsParameterError, match=r"`poll_interval`.*not a number of seconds above zero"):
        seconds(value, "poll_interval")


def test_zero_seconds_only_where_allowed() -> None:
    assert seconds(0, "timeout", allow_zero=True) == 0.0


def test_interrupt_mode_and_return_codes() -> None:
    assert interrupt_mode("interrupt-solve") is InterruptMode.SOLVE
    with pytest.raises(AimmsParameterError, match=r"`interrupt_mode`.*'stop'.*interrupt-execution"):
        interrupt_mode("stop", "interrupt_mode")
    assert return_codes([1, 2]) == frozenset({1, 2})
    assert return_codes(None) is None
    for bad in ("1", 1, ["1"], [], [True]):
        with pytest.raises(AimmsParameterError, match="`success_return_codes`"):
            return_codes(bad)


@pytest.mark.parametrize(
    ("kwargs", "parameter"),
    [
        ({"poll_interval": 0}, "poll_interval"),
        ({"poll_interval": "fast"}, "poll_interval"),
        ({"poll_interval": None}, "poll_interval"),
        ({"timeout": "1h"}, "timeout"),
        ({"timeout": math.nan}, "timeout"),
        ({"interrupt_mode": "stop"}, "interrupt_mode"),
        ({"success_return_codes": "1"}, "success_return_codes"),
        ({"success_return_codes": 1}, "success_return_codes"),
    ],
)
def test_the_create_operator_checks_its_arguments_at_parse_time(kwargs: dict, parameter: str) -> None:
    with pytest.raises(AimmsParameterError, match=f"`{parameter}`"):
        AimmsCreateTaskOperator(task_id="solve", app_name="Logistics", service_name="knapsack", **kwargs)


@pytest.mark.parametrize(
    ("kwargs", "parameter"), [({"poll_interval": 0}, "poll_interval"), ({"mode": "stop"}, "mode")]
)
def test_the_interrupt_operator_checks_its_arguments(kwargs: dict, parameter: str) -> None:
    with pytest.raises(AimmsParameterError, match=f"`{parameter}`"):
        AimmsInterruptTaskOperator(task_id="stop", aimms_task_id="t-1", **kwargs)


def test_nan_and_unreadable_files_are_not_sent() -> None:
    with pytest.raises(AimmsParameterError, match=r"`payload`.*JSON"):
        encode_payload({"a": math.nan})
    with pytest.raises(AimmsParameterError, match=r"`payload`.*cannot be read.*Check the path"):
        encode_payload(Path("/no/such/scenario.json"))
