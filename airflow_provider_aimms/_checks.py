"""
Checks of the arguments DAG authors pass, shared by the hook, operators and sensor.

Each raises :class:`~airflow_provider_aimms.exceptions.AimmsParameterError`, naming the parameter and the
fix, before anything is sent to AIMMS.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Iterable

from airflow_provider_aimms.exceptions import AimmsParameterError
from airflow_provider_aimms.models import InterruptMode


def seconds(value: object, parameter: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` (a number, a numeric string or a timedelta) as finite seconds above zero."""
    if isinstance(value, dt.timedelta):
        number = value.total_seconds()
    elif isinstance(value, int | float | str) and not isinstance(value, bool):
        try:
            number = float(value)
        except ValueError:
            number = math.nan
    else:
        number = math.nan
    if not math.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        bound = "zero or more" if allow_zero else "above zero"
        raise AimmsParameterError(
            parameter,
            f"{value!r} is not a number of seconds {bound}",
            "Pass seconds as a number (e.g. 30) or a datetime.timedelta.",
        )
    return number


def optional_seconds(value: object, parameter: str) -> float | None:
    """Like :func:`seconds`, with ``None`` meaning no limit."""
    return None if value is None else seconds(value, parameter)


def interrupt_mode(value: object, parameter: str = "mode") -> InterruptMode:
    """Return ``value`` as an :class:`InterruptMode`."""
    if isinstance(value, str) and value in {mode.value for mode in InterruptMode}:
        return InterruptMode(value)
    raise AimmsParameterError(
        parameter,
        f"{value!r} is not an interrupt mode",
        "Use 'interrupt-execution' (the task ends failed) or 'interrupt-solve' (it ends completed).",
    )


def return_codes(value: object, parameter: str = "success_return_codes") -> frozenset[int] | None:
    """Return a collection of AIMMS return codes as a set of ints; ``None`` means any code is accepted."""
    if value is None:
        return None
    fix = "Pass a list of ints, e.g. [1], or None to accept any return code."
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise AimmsParameterError(parameter, f"{value!r} is not a list of return codes", fix)
    codes = list(value)
    if not codes or not all(isinstance(code, int) and not isinstance(code, bool) for code in codes):
        raise AimmsParameterError(parameter, f"{value!r} is not a list of ints", fix)
    return frozenset(codes)
