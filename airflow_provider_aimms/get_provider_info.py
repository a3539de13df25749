"""Describe the provider to Airflow's provider manager (the ``apache_airflow_provider`` entry point)."""

from __future__ import annotations

from typing import Any

from airflow_provider_aimms import __version__

#: The connection extras the hook reads, with the form field Airflow 3 shows for each.
CONNECTION_EXTRA_FIELDS: dict[str, dict[str, Any]] = {
    "timeout": {
        "label": "Request timeout (seconds)",
        "description": "How long one HTTP request to AIMMS may take. Default 60.",
        "schema": {"type": ["number", "null"], "minimum": 1},
    },
    "verify": {
        "label": "Verify TLS certificates",
        "description": "Turn off only for a test server with a self-signed certificate.",
        "schema": {"type": ["boolean", "null"], "default": True},
    },
    "ca_bundle": {
        "label": "CA bundle path",
        "description": "A CA certificate file to trust instead of the system store.",
        "schema": {"type": ["string", "null"]},
    },
    "proxies": {
        "label": "Proxies (JSON)",
        "description": 'e.g. {"https": "http://proxy.example.com:3128"}',
        "schema": {"type": ["string", "null"]},
    },
    "retry_limit": {
        "label": "Retry limit",
        "description": "How often a request is retried after a transient failure. Default 3.",
        "schema": {"type": ["integer", "null"], "minimum": 0},
    },
    "retry_delay": {
        "label": "Retry delay (seconds)",
        "description": "The base of the exponential backoff between retries. Default 1.",
        "schema": {"type": ["number", "null"], "minimum": 0},
    },
}

UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "login", "port"],
    "relabeling": {"host": "Account URL", "password": "API key"},
    "placeholders": {
        "host": "https://myaccount.aimms.cloud",
        "password": "an AIMMS PRO API key with the Tasks scope",
    },
}


def get_provider_info() -> dict[str, Any]:
    """Return the provider's metadata: connection type and form, hooks, operators, triggers, links."""
    return {
        "package-name": "airflow-provider-aimms",
        "name": "AIMMS PRO",
        "description": "Run, watch, interrupt and delete tasks on AIMMS PRO (AIMMS Cloud) through its "
        "Tasks REST API v2.",
        "versions": [__version__],
        "connection-types": [
            {
                "connection-type": "aimms",
                "hook-class-name": "airflow_provider_aimms.hooks.aimms.AimmsHook",
                "hook-name": "AIMMS PRO",
                "conn-fields": CONNECTION_EXTRA_FIELDS,
                "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
            }
        ],
        "hooks": [
            {"integration-name": "AIMMS PRO", "python-modules": ["airflow_provider_aimms.hooks.aimms"]}
        ],
        "operators": [
            {"integration-name": "AIMMS PRO", "python-modules": ["airflow_provider_aimms.operators.aimms"]}
        ],
        "sensors": [
            {"integration-name": "AIMMS PRO", "python-modules": ["airflow_provider_aimms.sensors.aimms"]}
        ],
        "triggers": [
            {"integration-name": "AIMMS PRO", "python-modules": ["airflow_provider_aimms.triggers.aimms"]}
        ],
        "extra-links": ["airflow_provider_aimms.links.AimmsTaskLink"],
        "integrations": [
            {
                "integration-name": "AIMMS PRO",
                "external-doc-url": "https://documentation.aimms.com/cloud/managing-tasks.html",
                "tags": ["service"],
            }
        ],
    }
