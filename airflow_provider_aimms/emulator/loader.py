"""Load an :class:`EmulatorConfig` from a TOML or JSON file (format: ``docs/emulator.md``)."""

from __future__ import annotations

import dataclasses
import importlib
import json
import tomllib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow_provider_aimms.emulator.config import ApiKey, AppVersion, EmulatorConfig
from airflow_provider_aimms.emulator.demo import BUILTIN_SERVICES
from airflow_provider_aimms.emulator.faults import parse_rule
from airflow_provider_aimms.emulator.services import Handler, PhaseTimings, Service, declarative_service

if TYPE_CHECKING:
    from collections.abc import Mapping

TIMING_KEYS = frozenset(field.name for field in dataclasses.fields(PhaseTimings))
DECLARATIVE_KEYS = frozenset(
    {"outcome", "error_message", "return_code", "log_lines", "response", "response_filename"}
)
TOP_LEVEL_KEYS = frozenset(
    {"apps", "api_keys", "parallelism", "clock_speed", "enable_admin", "seed", "faults", "hook_timeout",
     "tick_interval"}
)  # fmt: skip


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names the offending entry."""


def _reject_unknown(where: str, table: Mapping[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(table) - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown keys {', '.join(sorted(unknown))}")


def _timings(where: str, spec: Mapping[str, Any], base: PhaseTimings) -> PhaseTimings:
    overrides = {name: float(spec[name]) for name in TIMING_KEYS if name in spec}
    if "duration" in spec:
        return PhaseTimings.for_duration(float(spec["duration"]), **overrides)
    try:
        return dataclasses.replace(base, **overrides)
    except ValueError as error:
        raise ConfigError(f"{where}: {error}") from error


def _import_handler(where: str, path: str) -> Handler:
    module_name, _, attribute = path.partition(":")
    if not module_name or not attribute:
        raise ConfigError(f"{where}: handler must look like 'package.module:function', got {path!r}")
    handler: Handler = getattr(importlib.import_module(module_name), attribute)
    return handler


def _service(where: str, spec: Mapping[str, Any]) -> Service:
    _reject_unknown(
        where, spec, TIMING_KEYS | DECLARATIVE_KEYS | {"builtin", "handler", "duration", "description"}
    )
    sources = [name for name in ("builtin", "handler") if name in spec]
    if len(sources) > 1 or (sources and DECLARATIVE_KEYS & set(spec)):
        raise ConfigError(f"{where}: give one of 'builtin', 'handler' or declarative outcome keys")
    if "builtin" in spec:
        factory = BUILTIN_SERVICES.get(spec["builtin"])
        if factory is None:
            raise ConfigError(
                f"{where}: unknown builtin {spec['builtin']!r}; known: {', '.join(BUILTIN_SERVICES)}"
            )
        service = factory()
    elif "handler" in spec:
        service = Service(_import_handler(where, spec["handler"]))
    else:
        declarative = {name: spec[name] for name in DECLARATIVE_KEYS if name in spec}
        service = declarative_service(**declarative)
    timings = _timings(where, spec, service.timings)
    return dataclasses.replace(
        service, timings=timings, description=spec.get("description", service.description)
    )


def _app(position: int, spec: Mapping[str, Any]) -> AppVersion:
    where = f"apps[{position}]"
    _reject_unknown(where, spec, frozenset({"name", "version", "latest", "services"}))
    try:
        name, version = str(spec["name"]), str(spec["version"])
    except KeyError as error:
        raise ConfigError(f"{where}: {error.args[0]!r} is required") from None
    services = {
        service_name: _service(f"{where} ({name} {version}) service {service_name!r}", service_spec)
        for service_name, service_spec in spec.get("services", {}).items()
    }
    return AppVersion(name, version, services, latest=bool(spec.get("latest", False)))


def _key(position: int, spec: Mapping[str, Any]) -> ApiKey:
    where = f"api_keys[{position}]"
    _reject_unknown(where, spec, frozenset({"key", "scopes", "permissions", "user_name", "user_environment"}))
    if not spec.get("key"):
        raise ConfigError(f"{where}: 'key' is required")
    values = {name: spec[name] for name in ("user_name", "user_environment") if name in spec}
    return ApiKey(
        str(spec["key"]),
        tuple(spec.get("scopes", ("Tasks",))),
        {str(app): int(bits) for app, bits in spec.get("permissions", {"*": 5}).items()},
        **values,
    )


def config_from_mapping(document: Mapping[str, Any]) -> EmulatorConfig:
    """Build a configuration from the parsed content of a configuration file."""
    _reject_unknown("configuration", document, TOP_LEVEL_KEYS)
    scalars = {
        name: document[name] for name in TOP_LEVEL_KEYS - {"apps", "api_keys", "faults"} if name in document
    }
    try:
        return EmulatorConfig(
            apps=tuple(_app(position, spec) for position, spec in enumerate(document.get("apps", []))),
            api_keys=tuple(
                _key(position, spec) for position, spec in enumerate(document.get("api_keys", []))
            ),
            faults=tuple(parse_rule(rule) for rule in document.get("faults", [])),
            **scalars,
        )
    except (TypeError, ValueError) as error:
        if isinstance(error, ConfigError):
            raise
        raise ConfigError(str(error)) from error


def load_config(path: str | Path) -> EmulatorConfig:
    """Read a ``.toml`` or ``.json`` configuration file."""
    path = Path(path)
    if path.suffix.lower() == ".json":
        document = json.loads(path.read_text(encoding="utf-8"))
    else:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    return config_from_mapping(document)
