"""
Run the emulator and a real Airflow (scheduler, triggerer, API server, DAG processor) as processes.

Each component runs in its own session (process group), with its output in a file, so that one can be
killed alone and every process can be stopped at the end, children included. Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import psutil

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping

#: The ``airflow`` and ``aimms-pro-emulator`` commands of the virtualenv running the tests.
BIN = Path(sys.executable).parent
COMPONENTS = ("scheduler", "triggerer", "api-server", "dag-processor")
SKIP_SERVE_LOGS = {"scheduler": ("--skip-serve-logs",), "triggerer": ("--skip-serve-logs",)}
STOP_GRACE_SECONDS = 10.0
#: scripts/system_test.sh names a file here; each process group started is listed in it, so that the
#: script can still stop them if pytest itself is killed before its fixtures can.
PID_FILE = os.environ.get("AIMMS_SYSTEM_TEST_PID_FILE")


class StackError(AssertionError):
    """A component did not start, or a wait ran out; the message says which and where its log is."""


def free_port() -> int:
    """Return a loopback port that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_for(what: str, check: Callable[[], Any], timeout: float, interval: float = 0.5) -> Any:
    """Call ``check`` until it returns something truthy, and return that; raise after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    last_error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            result = check()
        except (httpx.HTTPError, OSError, ValueError, KeyError) as error:
            last_error, result = error, None
        if result:
            return result
        time.sleep(interval)
    raise StackError(
        f"Gave up after {timeout:.0f} s waiting for {what}"
        + (f" (last error: {last_error})" if last_error else "")
    )


class Component:
    """One long-running command in its own process group, its output going to ``log_path``."""

    def __init__(self, name: str, command: list[str], env: Mapping[str, str], log_path: Path) -> None:
        self.name = name
        self.command = command
        self.env = dict(env)
        self.log_path = log_path
        self.process: subprocess.Popen[bytes] | None = None
        self._family: list[psutil.Process] = []

    def start(self) -> None:
        """Start the command; its stdout and stderr are appended to the log file."""
        with self.log_path.open("ab") as log:
            log.write(f"\n===== start {' '.join(self.command)} =====\n".encode())
            log.flush()
            # A new session makes the command the leader of its own process group: killing the group
            # reaches the subprocesses Airflow forks (the trigger runner, task supervisors).
            self.process = subprocess.Popen(
                self.command, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        if PID_FILE:
            with open(PID_FILE, "a") as pids:
                pids.write(f"{self.process.pid}\n")

    @property
    def running(self) -> bool:
        """Whether the command is still running."""
        return self.process is not None and self.process.poll() is None

    def output(self) -> str:
        """Return everything the command wrote so far (all starts)."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self, sig: signal.Signals = signal.SIGTERM) -> None:
        """Send ``sig`` to the group, then SIGKILL whatever is left after a grace period, children too."""
        self.send(sig)
        self.reap(0 if sig == signal.SIGKILL else STOP_GRACE_SECONDS)

    def send(self, sig: signal.Signals) -> None:
        """Send ``sig`` to the command's process group (the command and what it forked)."""
        if self.process is None:
            return
        # Processes are matched by psutil (PID plus start time), so a PID the kernel reuses later is
        # never mistaken for one of ours. Airflow renames its processes (setproctitle), which also
        # wipes /proc/<pid>/environ, so an environment marker would not find them.
        try:
            leader = psutil.Process(self.process.pid)
            self._family = [leader, *leader.children(recursive=True)]
        except psutil.NoSuchProcess:
            self._family = []
        # A group id stays reserved while the group has a member, so this reaches only our processes.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, sig)

    def reap(self, grace: float) -> None:
        """Wait up to ``grace`` s for the command to exit, then SIGKILL its group and every descendant."""
        if self.process is None:
            return
        process, self.process = self.process, None
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        # Descendants that started their own session escape the group signal: kill them one by one.
        for member in self._family:
            with contextlib.suppress(psutil.NoSuchProcess):
                member.kill()
        psutil.wait_procs(self._family, timeout=5)
        process.wait(timeout=5)


class Emulator(Component):
    """The ``aimms-pro-emulator`` command on a free loopback port."""

    def __init__(self, workdir: Path, config: Path, api_key: str) -> None:
        # The key goes into a copy of the configuration, not onto the command line, where every ``ps``
        # (and the log header) would show it.
        config_with_key = workdir / "emulator.toml"
        config_with_key.write_text(
            config.read_text()
            + f'\n[[api_keys]]\nkey = "{api_key}"\nscopes = ["Tasks"]\npermissions = {{ "*" = 5 }}\n'
        )
        super().__init__(
            "emulator",
            [
                str(BIN / "aimms-pro-emulator"),
                "--port",
                "0",
                "--config",
                str(config_with_key),
                "--log-level",
                "warning",
            ],
            os.environ,
            workdir / "emulator.log",
        )
        self.url = ""

    def start(self) -> None:
        """Start the emulator and wait until it announces its URL."""
        super().start()

        def announced() -> str | None:
            if not self.running:
                raise StackError(f"The emulator exited:\n{self.output()}")
            found = re.search(r"listening on (http://\S+)", self.output())
            return found.group(1) if found else None

        self.url = wait_for("the emulator to listen", announced, timeout=30, interval=0.1)

    def tasks(self) -> list[dict[str, Any]]:
        """Return every AIMMS task the emulator holds, from its admin API."""
        response = httpx.get(f"{self.url}/_emulator/tasks", timeout=10)
        response.raise_for_status()
        tasks: list[dict[str, Any]] = response.json()["tasks"]
        return tasks


class AirflowStack:
    """A real Airflow 3 in a temporary home: the four long-running components and the REST API."""

    def __init__(self, home: Path, dags_folder: Path, connection: str) -> None:
        self.home = home
        self.dags_folder = dags_folder
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = self._environment(connection)
        # The scheduler and triggerer would serve their logs on every interface at fixed ports; every
        # component here reads the log files directly, so they are told not to.
        self.components = {
            name: Component(name, [str(BIN / "airflow"), name, *SKIP_SERVE_LOGS.get(name, ())], self.env,
                            home / f"{name}.log")
            for name in COMPONENTS
        }  # fmt: skip
        self.api = httpx.Client(base_url=f"{self.base_url}/api/v2", timeout=15)

    def _environment(self, connection: str) -> dict[str, str]:
        # Start from a clean slate: the test session's own AIRFLOW_* settings (unit-test mode, another
        # home) must not leak into the components.
        env = {name: value for name, value in os.environ.items() if not name.startswith("AIRFLOW")}
        env.update(
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__DAGS_FOLDER=str(self.dags_folder),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
            # LocalExecutor forks one worker per slot up front (32 by default): too many for two cores.
            AIRFLOW__CORE__PARALLELISM="4",
            AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION="False",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS="True",
            # Workers reach the execution API through this URL; it must follow the API server's port.
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.base_url}/execution/",
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(self.port),
            AIRFLOW__API__WORKERS="1",
            # Every component signs or checks the task tokens, so they share one secret.
            AIRFLOW__API_AUTH__JWT_SECRET=secrets.token_urlsafe(32),
            AIRFLOW__SCHEDULER__SCHEDULER_HEARTBEAT_SEC="1",
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
            # A killed triggerer's triggers go to another one once its heartbeat is this old.
            AIRFLOW__TRIGGERER__JOB_HEARTBEAT_SEC="2",
            AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD="8",
            AIRFLOW_CONN_AIMMS_DEFAULT=connection,
        )
        return env

    def migrate(self) -> None:
        """Create the metadata database."""
        log = self.home / "db-migrate.log"
        with log.open("wb") as out:
            result = subprocess.run(
                [str(BIN / "airflow"), "db", "migrate"], env=self.env, stdout=out, stderr=subprocess.STDOUT,
                timeout=120, start_new_session=True, check=False,
            )  # fmt: skip
        if result.returncode:
            raise StackError(f"airflow db migrate failed (rc={result.returncode}):\n{log.read_text()}")

    def start(self) -> None:
        """Start every component and wait until the API server reports all of them healthy."""
        for component in self.components.values():
            component.start()
        wait_for("every Airflow component to be healthy", self.healthy, timeout=120, interval=1)

    def healthy(self) -> bool:
        """Whether the metadatabase, scheduler, triggerer and DAG processor report healthy."""
        for component in self.components.values():
            if component.process is not None and not component.running:
                code = component.process.returncode
                raise StackError(f"airflow {component.name} exited ({code}):\n{component.output()[-4000:]}")
        health = httpx.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).json()
        return all(health.get(part, {}).get("status") == "healthy" for part in
                   ("metadatabase", "scheduler", "triggerer", "dag_processor"))  # fmt: skip

    def stop(self) -> None:
        """Stop every component (SIGTERM, then SIGKILL after a grace period)."""
        self.api.close()
        # Signal all first, then wait: stopping them one after another would add up the grace periods.
        for component in self.components.values():
            component.send(signal.SIGTERM)
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for component in self.components.values():
            component.reap(max(0.0, deadline - time.monotonic()))

    # The REST API -------------------------------------------------------------------------------

    def get(self, path: str) -> Any:
        """GET a REST API v2 path and return the decoded JSON; raise on an error status."""
        response = self.api.get(path)
        response.raise_for_status()
        return response.json()

    def wait_for_dag(self, dag_id: str, timeout: float = 90) -> None:
        """Wait until the DAG processor has parsed ``dag_id`` and it is not paused."""
        wait_for(
            f"DAG {dag_id} to be parsed", lambda: self.get(f"/dags/{dag_id}")["is_paused"] is False, timeout
        )

    def trigger(self, dag_id: str, run_id: str) -> None:
        """Create a manual DAG run, as a user or a CI job would."""
        response = self.api.post(f"/dags/{dag_id}/dagRuns", json={"dag_run_id": run_id, "logical_date": None})
        if response.status_code != 200:
            raise StackError(f"Triggering {dag_id} answered {response.status_code}: {response.text}")

    def task_instance(self, dag_id: str, run_id: str, task_id: str) -> dict[str, Any]:
        """Return one task instance of a run."""
        ti: dict[str, Any] = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")
        return ti

    def wait_for_run(self, dag_id: str, run_id: str, timeout: float) -> dict[str, Any]:
        """Wait until the run ends; return the run (its ``state`` says how)."""

        def ended() -> dict[str, Any] | None:
            run: dict[str, Any] = self.get(f"/dags/{dag_id}/dagRuns/{run_id}")
            return run if run["state"] in ("success", "failed") else None

        try:
            result: dict[str, Any] = wait_for(f"run {run_id} of {dag_id} to end", ended, timeout, interval=1)
        except StackError as error:
            raise StackError(f"{error}\n{self.describe_run(dag_id, run_id)}") from None
        return result

    def describe_run(self, dag_id: str, run_id: str) -> str:
        """Summarise a run's task states and log files, for a failure message."""
        try:
            tis = self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")["task_instances"]
            states = ", ".join(f"{ti['task_id']}={ti['state']}" for ti in tis)
        except (httpx.HTTPError, KeyError, ValueError) as error:
            states = f"(could not list task instances: {error})"
        logs = sorted(
            str(path.relative_to(self.home)) for path in self.task_log_dir(dag_id, run_id).rglob("*.log*")
        )
        return f"task states: {states}; logs under {self.home}: {logs}"

    def xcom(self, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
        """Return the value of one XCom, as stored (Airflow 3 keeps XComs as JSON in its database)."""
        return self.get(f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}")["value"]

    def task_log_dir(self, dag_id: str, run_id: str, task_id: str | None = None) -> Path:
        """Return the folder of a run's (or a task's) log files in the shared log folder."""
        folder = self.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}"
        return folder / f"task_id={task_id}" if task_id else folder


def copy_dags(target: Path, *sources: Path) -> None:
    """Copy DAG files and folders into a fresh DAGs folder."""
    target.mkdir(parents=True, exist_ok=True)
    for source in sources:
        if source.is_dir():
            shutil.copytree(source, target / source.name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, target / source.name)
