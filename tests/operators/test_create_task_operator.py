"""
AimmsCreateTaskOperator through ``dag.test()``: each test checks the Airflow task's state and the AIMMS
task's state in the emulator.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import pytest

from airflow_provider_aimms.emulator.demo import INFEASIBLE_MESSAGE
from airflow_provider_aimms.exceptions import AimmsTaskFailedError, AimmsTriggerEventError
from airflow_provider_aimms.hooks.aimms import AimmsHook
from airflow_provider_aimms.operators.aimms import AimmsCreateTaskOperator
from airflow_provider_aimms.sensors.aimms import AimmsTaskSensor
from airflow_provider_aimms.triggers.aimms import AimmsTaskTrigger
from airflow_provider_aimms.version_compat import AIRFLOW_V_3_3_PLUS
from tests.e2e.dagrun import xcom
from tests.operators.dagtest import run_dag, run_dag_to_timeout, state, test_dag, tries

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from airflow_provider_aimms.emulator import EmulatorServer

pytestmark = pytest.mark.usefixtures("airflow_db")

INTERRUPTED = "Task execution was interrupted (interrupt-execution)."
FAST = {"poll_interval": 0.1}


def _solve(task_id: str = "solve", **kwargs: Any) -> AimmsCreateTaskOperator:
    arguments = {"app_name": "Logistics", "service_name": "echo", **FAST, **kwargs}
    return AimmsCreateTaskOperator(task_id=task_id, **arguments)


def _only_task(aimms: EmulatorServer) -> dict[str, Any]:
    rows = aimms.admin.tasks()
    assert len(rows) == 1, rows
    return rows[0]


@pytest.fixture
def task_log(capfd: pytest.CaptureFixture[str]) -> Iterator[Callable[[], str]]:
    """Everything the tasks logged: Airflow 3 writes task logs to stdout, Airflow 2 to its ``airflow.task`` logger."""
    records: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(logging.Formatter().format(record))  # with the traceback, if any

    handler = Collect(logging.DEBUG)
    logging.getLogger("airflow.task").addHandler(handler)

    def text() -> str:
        output = capfd.readouterr()
        return "\n".join([output.out, output.err, *records])

    yield text
    logging.getLogger("airflow.task").removeHandler(handler)


@pytest.fixture
def trigger_runs(own_aimms: EmulatorServer, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """
    Record the AIMMS task ids triggers start for (dag.test runs triggers in this process).

    A trigger's start also moves the emulated clock 30 minutes on, so that a deferred ``slow_solve``
    ends at once: the deferral is then certain (the task is solving when the operator first looks)
    and quick.
    """
    started: list[str] = []
    real_run = AimmsTaskTrigger.run

    def recording_run(self: AimmsTaskTrigger) -> Any:
        started.append(self.aimms_task_id)
        own_aimms.admin.advance(1800)
        return real_run(self)

    monkeypatch.setattr(AimmsTaskTrigger, "run", recording_run)
    return started


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "on-worker"])
def test_a_completed_task_publishes_its_id_link_and_response(aimms: EmulatorServer, deferrable: bool) -> None:
    with test_dag(f"create_completes_{deferrable}") as dag:
        _solve(payload={"trucks": 3, "day": "{{ params.day }}"}, deferrable=deferrable, params={"day": "mon"})

    dag_run = run_dag(dag)

    row = _only_task(aimms)
    assert state(dag_run, "solve") == "success"
    assert row["state"] == "completed"
    assert xcom(dag_run, "solve") == row["id"]
    assert xcom(dag_run, "solve", key="aimms_task_id") == row["id"]
    assert xcom(dag_run, "solve", key="aimms_task_url") == f"{aimms.url}/portal/tasks?taskId={row['id']}"
    assert xcom(dag_run, "solve", key="response") == {"trucks": 3, "day": "mon"}


def test_a_deferred_wait_runs_in_the_trigger(own_aimms: EmulatorServer, trigger_runs: list[str]) -> None:
    with test_dag("create_defers") as dag:
        _solve(service_name="slow_solve", deferrable=True)

    dag_run = run_dag(dag)

    row = _only_task(own_aimms)
    assert state(dag_run, "solve") == "success"
    assert trigger_runs == [row["id"]]
    assert row["state"] == "completed"
    assert xcom(dag_run, "solve", key="response")["status"] == "optimal"


def test_without_waiting_the_id_is_returned_and_the_task_runs_on(aimms: EmulatorServer) -> None:
    with test_dag("create_no_wait") as dag:
        _solve(service_name="slow_solve", wait_for_completion=False, fetch_response=True)

    dag_run = run_dag(dag)

    row = _only_task(aimms)
    assert state(dag_run, "solve") == "success"
    assert xcom(dag_run, "solve") == row["id"]
    assert row["state"] in ("queued", "assigned", "running", "solving")
    assert xcom(dag_run, "solve", key="response") is None


def test_templated_fields_are_rendered_before_the_task_is_created(aimms: EmulatorServer) -> None:
    with test_dag(
        "create_templated", params={"app": "Logistics", "version": "0.9", "service": "echo"}
    ) as dag:
        AimmsCreateTaskOperator(
            task_id="solve",
            app_name="{{ params.app }}",
            app_version="{{ params.version }}",
            service_name="{{ params.service }}",
            payload="run {{ dag.dag_id }}",
            deferrable=True,
            **FAST,
        )

    dag_run = run_dag(dag)

    row = _only_task(aimms)
    assert state(dag_run, "solve") == "success"
    assert (row["appName"], row["appVersion"], row["serviceName"]) == ("Logistics", "0.9", "echo")
    assert xcom(dag_run, "solve", key="response") == "run create_templated"


def test_a_failed_task_fails_with_the_aimms_error_and_its_log_tail(
    aimms: EmulatorServer, task_log: Callable[[], str]
) -> None:
    with test_dag("create_fails") as dag:
        _solve(service_name="fail", deferrable=True)

    dag_run = run_dag(dag)

    row = _only_task(aimms)
    assert state(dag_run, "solve") == "failed"
    assert row["state"] == "failed"
    text = task_log()
    assert f"AIMMS task {row['id']} failed (return code 0): {INFEASIBLE_MESSAGE}" in text
    assert f"log lines of AIMMS task {row['id']}" in text
    assert "Checking supply against demand." in text  # a line of the AIMMS task's own log


def test_an_unaccepted_return_code_fails_a_completed_task(aimms: EmulatorServer) -> None:
    with test_dag("create_return_code") as dag:
        _solve(payload={"n": 1}, success_return_codes=[0], deferrable=True)

    dag_run = run_dag(dag)

    assert state(dag_run, "solve") == "failed"
    assert _only_task(aimms)["state"] == "completed"
    assert _only_task(aimms)["returnCode"] == 1


def test_a_response_path_gets_the_raw_bytes(aimms: EmulatorServer, tmp_path: Any) -> None:
    target = tmp_path / "out" / "{{ dag.dag_id }}.bin"
    with test_dag("create_response_path") as dag:
        _solve(payload=b"\x00\x01raw", content_type="application/octet-stream", response_path=str(target))

    dag_run = run_dag(dag)

    written = tmp_path / "out" / "create_response_path.bin"
    assert state(dag_run, "solve") == "success"
    assert written.read_bytes() == b"\x00\x01raw"
    assert xcom(dag_run, "solve", key="response_path") == str(written)
    assert xcom(dag_run, "solve", key="response") is None


def test_a_response_too_large_for_xcom_fails_and_points_to_response_path(
    aimms: EmulatorServer, task_log: Callable[[], str]
) -> None:
    with test_dag("create_too_large") as dag:
        _solve(payload={"pallets": list(range(50))}, max_xcom_response_bytes=64, deferrable=True)

    dag_run = run_dag(dag)

    assert state(dag_run, "solve") == "failed"
    assert _only_task(aimms)["state"] == "completed"
    assert "Set response_path to write it to a file instead" in task_log()


def test_a_task_that_already_ended_is_not_deferred(
    own_aimms: EmulatorServer, trigger_runs: list[str]
) -> None:
    # The create answer arrives late, after the task has run to its end: no trigger is needed.
    own_aimms.admin.set_faults([{"route": "create", "kind": "latency_after", "seconds": 1.0, "times": 1}])
    with test_dag("create_no_defer") as dag:
        _solve(payload={"n": 2}, deferrable=True)

    dag_run = run_dag(dag)

    assert state(dag_run, "solve") == "success"
    assert _only_task(own_aimms)["state"] == "completed"
    assert xcom(dag_run, "solve", key="response") == {"n": 2}
    assert trigger_runs == []


def test_mapped_over_payloads_each_payload_is_one_aimms_task(aimms: EmulatorServer) -> None:
    payloads = [{"scenario": name} for name in ("low", "mid", "high")]
    with test_dag("create_mapped") as dag:
        AimmsCreateTaskOperator.partial(
            task_id="solve", app_name="Logistics", service_name="echo", deferrable=True, **FAST
        ).expand(payload=payloads)

    dag_run = run_dag(dag)

    rows = aimms.admin.tasks()
    assert len(rows) == 3
    assert {row["state"] for row in rows} == {"completed"}
    for index, payload in enumerate(payloads):
        assert state(dag_run, "solve", map_index=index) == "success"
        assert xcom(dag_run, "solve", key="response", map_index=index) == payload


# -- time limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "on-worker"])
def test_timeout_fails_the_airflow_task_and_leaves_the_aimms_task_running(
    aimms: EmulatorServer, deferrable: bool
) -> None:
    with test_dag(f"create_wait_timeout_{deferrable}") as dag:
        _solve(service_name="slow_solve", timeout=1, deferrable=deferrable)

    dag_run = run_dag(dag)

    assert state(dag_run, "solve") == "failed"
    assert _only_task(aimms)["state"] == "solving"


@pytest.mark.parametrize("deferrable", [True, False], ids=["deferred", "on-worker"])
def test_execution_timeout_interrupts_the_aimms_task_and_fails(
    aimms: EmulatorServer, deferrable: bool
) -> None:
    # Deferred: the trigger reports the deadline and execute_complete interrupts. On a worker: Airflow
    # times the task out and calls on_kill, which interrupts.
    with test_dag(f"create_execution_timeout_{deferrable}") as dag:
        _solve(service_name="slow_solve", execution_timeout=dt.timedelta(seconds=3), deferrable=deferrable)

    dag_run = run_dag(dag) if deferrable else run_dag_to_timeout(dag)

    row = _only_task(aimms)
    assert state(dag_run, "solve") == "failed"
    assert row["state"] == "failed"
    assert row["errorMessage"] == INTERRUPTED


def test_execution_timeout_with_interrupt_solve_keeps_the_best_solution(aimms: EmulatorServer) -> None:
    with test_dag("create_execution_timeout_solve") as dag:
        _solve(
            service_name="slow_solve",
            execution_timeout=dt.timedelta(seconds=3),
            interrupt_mode="interrupt-solve",
            deferrable=True,
        )

    dag_run = run_dag(dag)

    row = _only_task(aimms)
    assert state(dag_run, "solve") == "failed"
    assert row["state"] == "completed"
    assert AimmsHook().get_task_response_json(row["id"])["interrupted"] is True


def test_execution_timeout_deletes_a_task_that_has_not_started(aimms: EmulatorServer) -> None:
    # AIMMS cannot interrupt a queued task; at the deadline the operator deletes it, so it never runs.
    with test_dag("create_execution_timeout_queued") as dag:
        _solve(
            payload={"n": 4}, schedule_in="PT60S", execution_timeout=dt.timedelta(seconds=2), deferrable=True
        )

    dag_run = run_dag(dag)

    row = _only_task(aimms)
    assert state(dag_run, "solve") == "failed"
    assert (row["state"], row["deleted"]) == ("queued", True)


def test_a_scheduled_task_counts_the_wait_limit_from_its_start(aimms: EmulatorServer) -> None:
    # The start is 3 s away and the wait limit 2 s: counted from creation it would pass before the start.
    with test_dag("create_scheduled") as dag:
        _solve(payload={"n": 3}, schedule_in="PT3S", timeout=2, deferrable=True)

    dag_run = run_dag(dag)

    row = _only_task(aimms)
    assert state(dag_run, "solve") == "success"
    assert row["state"] == "completed"
    assert row["runningAt"] >= row["scheduleFor"][:23]


# -- kill and retries ----------------------------------------------------------------------------


class _WorkerTaskInstance:
    """The little of a task instance that execute() touches outside Airflow: XCom pushes."""

    def __init__(self) -> None:
        self.xcoms: dict[str, Any] = {}
        self.stats_tags: dict[str, str] = {}
        self.start_date = None

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcoms[key] = value


def test_on_kill_of_a_blocking_task_interrupts_the_aimms_task(aimms: EmulatorServer) -> None:
    # What Airflow does on SIGTERM: on_kill() from elsewhere while execute() blocks on the worker. Here
    # execute() runs in the test's thread (Airflow 2 lets it run only there) and a killer thread waits
    # for the solve to start, then kills.
    operator = _solve(service_name="slow_solve", deferrable=False)
    ti = _WorkerTaskInstance()

    def kill_once_solving() -> None:
        hook = AimmsHook()
        for _ in range(600):
            aimms_task_id = ti.xcoms.get("aimms_task_id")
            if aimms_task_id and hook.get_task(aimms_task_id).state == "solving":
                operator.on_kill()
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_once_solving, daemon=True)
    killer.start()
    with pytest.raises(AimmsTaskFailedError, match="interrupted") as raised:
        operator.execute({"ti": ti})  # type: ignore[arg-type]
    killer.join(timeout=10)

    row = _only_task(aimms)
    assert row["state"] == "failed"
    assert row["errorMessage"] == INTERRUPTED
    assert raised.value.aimms_task_id == row["id"]


def test_on_kill_leaves_the_aimms_task_alone_when_told_to(aimms: EmulatorServer) -> None:
    operator = _solve(service_name="slow_solve", interrupt_on_kill=False)
    operator._aimms_task_id = AimmsHook().create_task("Logistics", "slow_solve", {}).id

    operator.on_kill()

    assert _only_task(aimms)["state"] in ("queued", "assigned", "running", "solving")


def test_a_retry_does_not_create_a_second_aimms_task_while_the_first_may_run(aimms: EmulatorServer) -> None:
    # Both tries stop waiting after 1 s (timeout) while the AIMMS task solves on.
    with test_dag("create_retry") as dag:
        _solve(service_name="slow_solve", timeout=1, retries=1, retry_delay=dt.timedelta(0), deferrable=True)

    dag_run = run_dag(dag)

    rows = aimms.admin.tasks()
    assert state(dag_run, "solve") == "failed"
    assert tries(dag_run, "solve") == 2
    if AIRFLOW_V_3_3_PLUS:
        # The second try found the first try's AIMMS task in the task state store and adopted it.
        assert len(rows) == 1
        assert rows[0]["state"] == "solving"
    else:
        # Documented known limit before 3.3: no state survives a try, so each try creates its own.
        assert len(rows) == 2
        assert {row["state"] for row in rows} == {"solving"}


# -- events that do not come from our trigger ----------------------------------------------------


@pytest.mark.parametrize("event", [None, {}, {"status": "success"}, "completed"], ids=repr)
def test_an_event_without_a_known_status_raises_the_dedicated_error(event: Any) -> None:
    # Airflow hands execute_complete whatever the trigger sent; a stale or foreign event must not pass.
    sensor = AimmsTaskSensor(task_id="wait", aimms_task_id="t")
    for complete in (_solve().execute_complete, sensor.execute_complete):
        with pytest.raises(AimmsTriggerEventError, match="does not understand"):
            complete({}, event)  # type: ignore[arg-type]
