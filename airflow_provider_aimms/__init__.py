"""Apache Airflow provider for the AIMMS PRO Tasks REST API v2."""

from __future__ import annotations

__version__ = "0.1.0"
