"""The demo app ``Logistics`` and a ready configuration to run it."""

from __future__ import annotations

import dataclasses
import functools
from typing import TYPE_CHECKING, Any

from airflow_provider_aimms.emulator.config import EXECUTE, READ, ApiKey, AppVersion, EmulatorConfig
from airflow_provider_aimms.emulator.knapsack import knapsack_service
from airflow_provider_aimms.emulator.services import (
    PhaseTimings,
    Service,
    ServiceContext,
    ServiceFailure,
    ServiceResult,
    extension_for,
)

if TYPE_CHECKING:
    from collections.abc import Callable

DEMO_APP = "Logistics"
INFEASIBLE_MESSAGE = "Model infeasible: demand exceeds supply"
SLOW_SOLVE_SECONDS = 1800.0


def echo_service(context: ServiceContext) -> ServiceResult:
    """Answer with the request body, named so that its Content-Type comes back unchanged."""
    context.log(f"Echoing {len(context.payload)} bytes of {context.content_type or 'untyped data'}.")
    return ServiceResult(context.payload, "response" + extension_for(context.content_type))


def fail_service(context: ServiceContext) -> ServiceResult:
    """Fail every time, as a model does when its data make it infeasible."""
    context.log("Checking supply against demand.")
    raise ServiceFailure(INFEASIBLE_MESSAGE, return_code=0)


def slow_solve_result(context: ServiceContext) -> ServiceResult:
    """Answer as a solve that ran to its end."""
    context.log("Solver finished: optimal solution found.")
    return ServiceResult({"interrupted": False, "status": "optimal", "objective": 1000.0, "gap": 0.0})


def slow_solve_partial(context: ServiceContext) -> ServiceResult:
    """Answer as a solve stopped by ``interrupt-solve``: the best solution found so far."""
    context.log("Solve interrupted; returning the best solution found so far.")
    return ServiceResult({"interrupted": True, "status": "feasible", "objective": 1250.0, "gap": 0.25})


def demo_services(slow_solve_seconds: float = SLOW_SOLVE_SECONDS) -> dict[str, Service]:
    """Return the services of the demo app; ``slow_solve`` spends ``slow_solve_seconds`` in solving."""
    return {
        "knapsack": Service(knapsack_service, description="exact 0/1 knapsack (dynamic programming)"),
        "echo": Service(echo_service, description="returns the request body"),
        "fail": Service(fail_service, description=f"always fails: {INFEASIBLE_MESSAGE}"),
        "slow_solve": Service(
            slow_solve_result,
            PhaseTimings(solving=slow_solve_seconds),
            on_interrupt_solve=slow_solve_partial,
            description="solves for a long time; interrupt it",
        ),
    }


def slow_solve_builtin(solve_seconds: float = SLOW_SOLVE_SECONDS) -> Service:
    """Return the ``slow_solve`` service with another solve length."""
    return demo_services(solve_seconds)["slow_solve"]


def _demo_service(name: str) -> Service:
    return demo_services()[name]


# Services a configuration file can name with ``builtin = "..."``.
BUILTIN_SERVICES: dict[str, Callable[[], Service]] = {
    name: functools.partial(_demo_service, name) for name in ("knapsack", "echo", "fail", "slow_solve")
}


def demo_apps(slow_solve_seconds: float = SLOW_SOLVE_SECONDS) -> tuple[AppVersion, ...]:
    """Return ``Logistics`` 1.0 (latest tag) and 0.9, both with every demo service."""
    services = demo_services(slow_solve_seconds)
    return (
        AppVersion(DEMO_APP, "1.0", services, latest=True),
        AppVersion(DEMO_APP, "0.9", services),
    )


def demo_config(api_key: str = "demo-key", **overrides: Any) -> EmulatorConfig:
    """
    Return a ready configuration: the demo app, the admin API on, one all-powerful key.

    ``overrides`` replace any :class:`EmulatorConfig` field, e.g. ``clock_speed=60`` or ``parallelism=1``.
    """
    key = ApiKey(api_key, ("Tasks",), {"*": READ | EXECUTE}, user_name="demo", user_environment="ROOT")
    config = EmulatorConfig(apps=demo_apps(), api_keys=(key,), enable_admin=True)
    return dataclasses.replace(config, **overrides)
