"""Run a DAG built inside a test with ``dag.test()``: real Airflow, deferral and retries included."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pendulum
import pytest
from airflow.providers.common.compat.sdk import DAG

from airflow_provider_aimms.emulator import EmulatorServer, demo_config
from airflow_provider_aimms.version_compat import AIRFLOW_V_3_0_PLUS
from tests.conftest import API_KEY, connection_json


@contextmanager
def test_dag(dag_id: str, **kwargs: Any) -> Iterator[Any]:
    """A manual-only DAG to fill with tasks."""
    with DAG(
        dag_id, schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False, **kwargs
    ) as dag:
        yield dag


test_dag.__test__ = False  # type: ignore[attr-defined]  # a helper, not a test for pytest to collect


def run_dag(dag: Any, **kwargs: Any) -> Any:
    """Run ``dag`` to its end and return the DagRun."""
    if AIRFLOW_V_3_0_PLUS:
        # Airflow 3 runs only DAGs it finds serialized in a bundle; a DAG built in a test file is in
        # none, so write it to the metadata database as the DAG processor would.
        from airflow.dag_processing.bundles.manager import DagBundlesManager
        from airflow.dag_processing.dagbag import DagBag, sync_bag_to_db

        DagBundlesManager().sync_bundles_to_db()
        bag = DagBag(dag_folder="/nonexistent")
        bag.dags[dag.dag_id] = dag
        sync_bag_to_db(bag, "dags-folder", None)
    return dag.test(**kwargs)


def run_dag_to_timeout(dag: Any) -> Any:
    """
    Run ``dag`` whose one task hits ``execution_timeout`` on a worker, and return the DagRun.

    Airflow 2 raises that timeout as a ``BaseException``, which its ``dag.test()`` does not catch: the task
    is marked failed, then the run loop is left. Read the run back from the database there.
    """
    if AIRFLOW_V_3_0_PLUS:
        return run_dag(dag)
    from airflow.exceptions import AirflowTaskTimeout
    from airflow.models.dagrun import DagRun

    with pytest.raises(AirflowTaskTimeout):
        run_dag(dag)
    return DagRun.find(dag_id=dag.dag_id)[-1]


def state(dag_run: Any, task_id: str, map_index: int = -1) -> str:
    """The final state of one task instance, as a plain string."""
    ti = dag_run.get_task_instance(task_id, map_index=map_index)
    assert ti is not None, f"{dag_run.dag_id} has no task {task_id}"
    return str(ti.state.value if hasattr(ti.state, "value") else ti.state)


def tries(dag_run: Any, task_id: str) -> int:
    """How many tries a task instance took."""
    return int(dag_run.get_task_instance(task_id).try_number)


@pytest.fixture
def own_aimms(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    """
    An emulator for this test alone, with ``aimms_default`` pointing at it.

    For tests that move the emulated clock on (``admin.advance``): a reset does not turn the clock back,
    and the session emulator's clock must stay with the wall clock, which scheduled starts are read against.
    """
    with EmulatorServer(demo_config(api_key=API_KEY)) as server:
        monkeypatch.setenv("AIRFLOW_CONN_AIMMS_DEFAULT", connection_json(server.url, retry_delay=0.01))
        yield server


@pytest.fixture
def sensors_on_sqlite(monkeypatch: pytest.MonkeyPatch) -> None:
    """
    Let Airflow 2's ``dag.test()`` check a sensor's dependencies on the tests' SQLite database.

    Its reschedule check loads the configured executor (LocalExecutor in unit-test mode), and that
    executor refuses SQLite; the variable is Airflow's own switch for tests. Airflow 3 does not check.
    """
    monkeypatch.setenv("_AIRFLOW__SKIP_DATABASE_EXECUTOR_COMPATIBILITY_CHECK", "1")
