"""
The chaos run: 100 AIMMS tasks through AimmsCreateTaskOperator while a fifth of all requests fail.

Every Airflow task must succeed, the emulator must hold exactly one AIMMS task per Airflow task, and every
task must get its own right answer. The faults are the transient kinds a client may meet: 429 with
Retry-After, 502, 503, 504, slow answers past the client timeout, and dropped connections. On a create
only 429 and 503 are injected: a create whose answer is lost (a drop or a timeout after sending) may have
made a task, which the hook reports instead of retrying, and which no client can recover from without a
duplicate (see docs/troubleshooting.md).
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from airflow_provider_aimms.emulator import EmulatorServer, demo_config
from scripts.knapsack_check import best_value
from tests.conftest import API_KEY, connection_json
from tests.e2e.dagrun import REPO_DAGS, load_dag, xcom

TRANSIENT_FAULTS: list[dict[str, Any]] = [
    {"route": "create", "kind": "status", "status": 503, "probability": 0.1},
    {"route": "create", "kind": "status", "status": 429, "retry_after": "0", "probability": 0.1},
    {"route": "get", "kind": "status", "status": 503, "probability": 0.06},
    {"route": "get", "kind": "status", "status": 502, "probability": 0.04},
    {"route": "get", "kind": "status", "status": 504, "probability": 0.04},
    {"route": "get", "kind": "drop", "probability": 0.04},
    {"route": "get", "kind": "latency", "seconds": 1.5, "probability": 0.02},
    {"route": "response", "kind": "status", "status": 503, "probability": 0.1},
    {"route": "response", "kind": "drop", "probability": 0.1},
]


@pytest.fixture
def chaos_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[EmulatorServer]:
    # A faster clock keeps 100 tasks within a minute or two; parallelism lets them overlap.
    config = dataclasses.replace(demo_config(api_key=API_KEY), clock_speed=4.0, parallelism=8)
    with EmulatorServer(config) as server:
        # A 1 s request timeout turns the 1.5 s latency faults into real read timeouts. With a fifth of
        # all requests failing, the default 3 retries would leave a 0.2**4 chance per request of four
        # failures in a row, about one failed create per run of 100; 8 retries make it 0.2**9.
        monkeypatch.setenv(
            "AIRFLOW_CONN_AIMMS_DEFAULT",
            connection_json(server.url, retry_delay=0.01, timeout=1, retry_limit=8),
        )
        server.admin.set_faults(TRANSIENT_FAULTS, seed=20261203)
        yield server


def test_chaos_run_loses_and_duplicates_nothing(
    chaos_emulator: EmulatorServer, airflow_db: None, capsys: pytest.CaptureFixture[str]
) -> None:
    dag = load_dag("aimms_chaos", folder=REPO_DAGS)
    from tests.dags.aimms_chaos import ITEMS, SCENARIOS

    dag_run = dag.test()

    created = chaos_emulator.admin.tasks()
    faults = chaos_emulator.admin.fault_log()
    per_id = Counter(task["id"] for task in created)
    airflow_ids, wrong = [], 0
    for mode in ("blocking", "deferred"):
        for index, scenario in enumerate(SCENARIOS):
            aimms_task_id = xcom(dag_run, mode, key="aimms_task_id", map_index=index)
            response = xcom(dag_run, mode, key="response", map_index=index)
            airflow_ids.append(aimms_task_id)
            if not response or response["total_value"] != best_value(scenario["capacity"], ITEMS):
                wrong += 1
    claimed = set(airflow_ids)
    # A second AIMMS task for one Airflow task, or an AIMMS task no Airflow task knows of, is a duplicate.
    duplicates = sum(count - 1 for count in per_id.values()) + sum(1 for i in per_id if i not in claimed)
    lost = sum(1 for aimms_task_id in airflow_ids if per_id[aimms_task_id] != 1) + wrong
    with capsys.disabled():  # the summary line belongs in every CI log, passing or not
        print(
            f"\nchaos: {len(airflow_ids)} tasks, {len(faults)} faults injected, {duplicates} duplicates, {lost} lost"
        )

    assert dag_run.state == "success"
    assert len(airflow_ids) == 2 * len(SCENARIOS) >= 100
    assert (duplicates, lost) == (0, 0)
    assert len(faults) >= 50  # the run really was chaotic
    assert {entry["kind"] for entry in faults} >= {"status", "drop", "latency"}
