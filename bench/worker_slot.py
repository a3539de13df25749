"""
Worker-slot cost: how long one AIMMS task holds an Airflow worker, blocking against deferrable.

Run: ``.venv-airflow-3/bin/python bench/worker_slot.py`` (about 1 minute). It runs the DAG
``bench/dags/bench_worker_slot.py`` with ``dag.test()`` on real Airflow (a scratch home and database)
against the emulator in a separate process, whose service runs 10 emulated minutes at clock speed 60
(10 real seconds). The DAG's two ``AimmsCreateTaskOperator`` tasks, one ``deferrable=False`` and one
``deferrable=True``, time their own ``execute`` and ``execute_complete``: that is the time a worker
slot is held. The trigger's wait in between holds no slot and is not counted.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import common

BENCH = "worker_slot"
REMOTE_SECONDS = 600.0
CLOCK_SPEED = 60.0
DAG_FILE = common.BENCH / "dags" / "bench_worker_slot.py"


def _prepare_airflow(spans: Path) -> None:
    """Point Airflow at a scratch home whose DAG folder is bench/dags, before Airflow is imported."""
    os.environ["AIRFLOW_HOME"] = tempfile.mkdtemp(prefix="aimms-bench-airflow-")
    os.environ["AIRFLOW__CORE__DAGS_FOLDER"] = str(DAG_FILE.parent)
    os.environ["AIRFLOW__CORE__LOAD_EXAMPLES"] = "False"
    os.environ["AIRFLOW__CORE__UNIT_TEST_MODE"] = "True"
    os.environ["AIMMS_BENCH_SPANS"] = str(spans)
    os.environ["AIMMS_BENCH_CLOCK_SPEED"] = str(CLOCK_SPEED)


def _load_dag() -> Any:
    spec = importlib.util.spec_from_file_location("bench_worker_slot", DAG_FILE)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module.dag


def run() -> list[dict[str, Any]]:
    """Run the DAG once and return one record per mode."""
    spans_file = Path(tempfile.mkstemp(prefix="aimms-bench-spans-", suffix=".jsonl")[1])
    _prepare_airflow(spans_file)
    from airflow.utils import db

    db.resetdb()
    with common.emulator_process(REMOTE_SECONDS, CLOCK_SPEED) as emulator:
        os.environ.update(common.connection_env(emulator.url))
        started = time.monotonic()
        dag_run = _load_dag().test()
        wall = time.monotonic() - started
        tasks = emulator.http.get("/_emulator/tasks").json()["tasks"]
    spans = [json.loads(line) for line in spans_file.read_text().splitlines()]
    results = []
    for mode in ("blocking", "deferrable"):
        ti = dag_run.get_task_instance(mode)
        held = {method: seconds for task_id, method, seconds in spans if task_id == mode}
        slot_seconds = sum(held.values())
        results.append(
            common.emit(
                BENCH,
                kind="run",
                mode=mode,
                state=str(ti.state),
                remote_seconds_emulated=REMOTE_SECONDS,
                clock_speed=CLOCK_SPEED,
                execute_s=round(held.get("execute", 0.0), 3),
                execute_complete_s=round(held.get("execute_complete", 0.0), 3),
                slot_s_real=round(slot_seconds, 3),
                # Blocking: nearly all of it is waiting, which real time would stretch by the clock speed.
                slot_s_at_real_speed=round(slot_seconds * CLOCK_SPEED, 1) if mode == "blocking" else None,
                ti_duration_s=round(ti.duration, 3) if ti.duration is not None else None,
                dag_test_wall_s=round(wall, 1),
            )
        )
    common.emit(BENCH, kind="check", aimms_tasks=[(task["serviceName"], task["state"]) for task in tasks])
    spans_file.unlink()
    return results


def markdown(results: list[dict[str, Any]]) -> str:
    """Render the results as the docs section."""
    lines = [
        "| mode | Airflow state | `execute` s | `execute_complete` s | slot held, real s | "
        "slot held for a real 10 min task |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        at_speed = (
            f"≈ {r['slot_s_at_real_speed']:.0f} s"
            if r["slot_s_at_real_speed"] is not None
            else f"{r['slot_s_real']} s"
        )
        lines.append(
            f"| {r['mode']} | {r['state']} | {r['execute_s']} | {r['execute_complete_s']} | "
            f"{r['slot_s_real']} | {at_speed} |"
        )
    return "\n".join(lines)


def main() -> None:
    """Run, then document."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument("--no-doc", action="store_true", help="do not touch docs/performance.md")
    arguments = parser.parse_args()
    common.start_results(BENCH)
    results = run()
    if not arguments.no_doc:
        common.write_doc_section(BENCH, markdown(results))


if __name__ == "__main__":
    main()
