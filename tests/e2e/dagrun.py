"""Run example DAGs for real with ``dag.test()``, and read what their tasks pushed to XCom."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import Any

import pytest

EXAMPLE_DAGS = Path(__file__).resolve().parents[2] / "example_dags"
#: Test-only DAGs; with the example DAGs (symlinked in), this is the DAG folder of the test run.
REPO_DAGS = Path(__file__).resolve().parents[2] / "tests" / "dags"


def load_dag(dag_id: str, folder: Path = EXAMPLE_DAGS) -> Any:
    """Import the example file named after ``dag_id`` and return its DAG."""
    path = folder / f"{dag_id}.py"
    spec = importlib.util.spec_from_file_location(f"_example_{dag_id}", path)
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.dag


def run_example_dag(dag_id: str, **kwargs: Any) -> Any:
    """Run an example DAG to the end, triggers inline, and return the DagRun."""
    return load_dag(dag_id).test(**kwargs)


def xcom(dag_run: Any, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
    """Read one XCom value of a finished DagRun from the metadata database."""
    ti = dag_run.get_task_instance(task_id, map_index=map_index)
    if ti is None:
        pytest.fail(f"{dag_run.dag_id} has no task {task_id}")
    return ti.xcom_pull(task_ids=task_id, key=key, map_indexes=map_index)
