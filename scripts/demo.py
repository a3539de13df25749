"""
``make demo``: solve the example truck-loading model end to end, with no AIMMS account.

It starts the AIMMS PRO emulator on a free local port, points the ``aimms_default`` connection at it,
runs the example DAG with ``airflow dags test`` (the AIMMS task is waited for in a trigger), prints the
plan AIMMS returned, checks it with an independent solver, and stops the emulator.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
DAG_ID = "example_aimms_knapsack"
API_KEY = "demo-key"
SCENARIO = json.loads((REPO / "example_dags" / "data" / "truck_loading.json").read_text())

sys.path.insert(0, str(REPO / "scripts"))
from knapsack_check import check_plan  # noqa: E402


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until_listening(url: str, process: subprocess.Popen[bytes], seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"The emulator exited early with code {process.returncode}")
        try:
            httpx.get(f"{url}/pro-api/v2/tasks", headers={"apikey": API_KEY}, timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.2)
    sys.exit(f"The emulator did not answer at {url} within {seconds:.0f} s")


def step(title: str) -> None:
    print(f"\n==> {title}", flush=True)


def main() -> int:
    home = Path(tempfile.mkdtemp(prefix="aimms-demo-airflow-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(REPO / "example_dags"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW_CONN_AIMMS_DEFAULT": json.dumps({"conn_type": "aimms", "host": url, "password": API_KEY}),
    }
    log_file = home / "dags-test.log"

    step(f"Starting the AIMMS PRO emulator on {url}")
    emulator = subprocess.Popen(
        [
            str(BIN / "aimms-pro-emulator"),
            "--port",
            str(port),
            "--api-key",
            API_KEY,
            "--log-level",
            "warning",
        ],
        env=env,
    )
    try:
        wait_until_listening(url, emulator)
        step(f"Creating Airflow's database in {home}")
        subprocess.run(
            [str(BIN / "airflow"), "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL
        )
        step(f"Running DAG {DAG_ID} with `airflow dags test` (full log: {log_file})")
        with open(log_file, "wb") as log:
            result = subprocess.run(
                [str(BIN / "airflow"), "dags", "test", DAG_ID], env=env, stdout=log, stderr=log
            )
        if result.returncode != 0:
            print(log_file.read_text()[-5000:])
            sys.exit(f"The DAG run failed (exit code {result.returncode}); see {log_file}")
        deferred = "running trigger in line" in log_file.read_text()
        print(
            f"The DAG run succeeded; the AIMMS task was waited for {'in a trigger (deferred)' if deferred else 'on the worker'}."
        )

        step("The plan AIMMS returned")
        with httpx.Client(base_url=f"{url}/pro-api/v2", headers={"apikey": API_KEY}) as client:
            task = client.get("/tasks", params={"appName": "Logistics", "limit": 1}).json()["current_batch"][
                0
            ]
            plan = client.get(f"/tasks/{task['id']}/response").json()
        print(f"AIMMS task {task['id']} {task['state']} in {task['runTime']:.2f} s")
        print(
            f"Load {len(plan['selected'])} of {len(SCENARIO['items'])} pallets, {plan['total_weight']} of "
            f"{plan['capacity']} kg, margin {plan['total_value']} EUR:"
        )
        weights = {item["name"]: item for item in SCENARIO["items"]}
        for name in plan["selected"]:
            print(f"  {name:<24} {weights[name]['weight']:>5} kg {weights[name]['value']:>6} EUR")

        step("Independent check (a different knapsack algorithm)")
        problems = check_plan(SCENARIO, plan)
        if problems:
            sys.exit("The plan is NOT optimal or not feasible: " + "; ".join(problems))
        print(f"Confirmed: the plan is feasible and optimal (margin {plan['total_value']} EUR).")
        return 0
    finally:
        emulator.terminate()
        emulator.wait(timeout=10)


if __name__ == "__main__":
    sys.exit(main())
