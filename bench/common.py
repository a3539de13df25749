"""What every benchmark shares: the emulator process, creating tasks, JSON lines, the docs section."""

from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from collections.abc import Iterator

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
RESULTS = BENCH / "results"
DOC = REPO / "docs" / "performance.md"
IMAGES = REPO / "docs" / "img"
sys.path.insert(0, str(BENCH))

from emulator_proc import API_KEY, APP, SERVICE  # noqa: E402


class Emulator:
    """An emulator process and a plain httpx client for its API, its admin and its counters."""

    def __init__(self, url: str, process: subprocess.Popen[str]) -> None:
        self.url = url
        self.process = process
        self.http = httpx.Client(base_url=url, headers={"apikey": API_KEY}, timeout=60)

    def create_tasks(self, count: int) -> list[str]:
        """Create ``count`` tasks of the bench service, 32 requests at a time."""
        ids: list[str] = []

        async def create_all() -> None:
            import asyncio

            async with httpx.AsyncClient(
                base_url=self.url, headers={"apikey": API_KEY}, timeout=60
            ) as client:
                semaphore = asyncio.Semaphore(32)

                async def create() -> None:
                    async with semaphore:
                        response = await client.post(f"/pro-api/v2/tasks/{APP}/{SERVICE}", json={})
                        response.raise_for_status()
                        ids.append(response.json()["id"])

                await asyncio.gather(*(create() for _ in range(count)))

        import asyncio

        asyncio.run(create_all())
        return ids

    def counters(self) -> dict[str, Any]:
        """Return the connection and request counts since the last reset."""
        return self.http.get("/_bench/counters").json()  # type: ignore[no-any-return]

    def reset_counters(self) -> None:
        """Zero the counts."""
        self.http.post("/_bench/reset")

    def task(self, task_id: str) -> dict[str, Any]:
        """Return one task's JSON."""
        return self.http.get(f"/pro-api/v2/tasks/{task_id}").json()  # type: ignore[no-any-return]

    def now(self) -> float:
        """Return the emulator's current instant (epoch seconds, emulated)."""
        import pendulum

        return pendulum.parse(self.http.get("/_emulator/clock").json()["now"]).timestamp()  # type: ignore[union-attr]


@contextlib.contextmanager
def emulator_process(
    duration: float = 86400.0, clock_speed: float = 1.0, *, variants: int = 1, spread: float = 0.0
) -> Iterator[Emulator]:
    """Start ``bench/emulator_proc.py`` in a separate process and stop it afterwards."""
    process = subprocess.Popen(
        [sys.executable, str(BENCH / "emulator_proc.py"), "--duration", str(duration),
         "--clock-speed", str(clock_speed), "--variants", str(variants), "--spread", str(spread)],
        stdout=subprocess.PIPE,
        text=True,
    )  # fmt: skip
    assert process.stdout is not None
    url = process.stdout.readline().strip()
    emulator = Emulator(url, process)
    try:
        deadline = time.monotonic() + 30
        while True:
            with contextlib.suppress(httpx.TransportError):
                emulator.counters()
                break
            if time.monotonic() > deadline or process.poll() is not None:
                raise RuntimeError("the emulator process did not start")
            time.sleep(0.05)
        yield emulator
    finally:
        emulator.http.close()
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


def connection_env(url: str) -> dict[str, str]:
    """Airflow connections, as environment variables, for our hook and for the HTTP provider."""
    return {
        "AIRFLOW_CONN_AIMMS_BENCH": json.dumps({"conn_type": "aimms", "host": url, "password": API_KEY}),
        "AIRFLOW_CONN_HTTP_BENCH": json.dumps(
            {"conn_type": "http", "host": url, "extra": {"apikey": API_KEY}}
        ),
    }


def isolated_airflow_home() -> None:
    """Point Airflow at a scratch home, before it is imported, so a bench never touches a real one."""
    import tempfile

    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp(prefix="aimms-bench-airflow-"))
    os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
    os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")


def emit(bench: str, **record: Any) -> dict[str, Any]:
    """Print one JSON line and append it to ``bench/results/<bench>.jsonl``."""
    line = {"bench": bench, **record}
    print(json.dumps(line), flush=True)
    RESULTS.mkdir(exist_ok=True)
    with (RESULTS / f"{bench}.jsonl").open("a") as handle:
        handle.write(json.dumps(line) + "\n")
    return line


def start_results(bench: str) -> None:
    """Forget the results of an earlier run of ``bench``."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{bench}.jsonl").unlink(missing_ok=True)


def read_results(bench: str) -> list[dict[str, Any]]:
    """Read the JSON lines of the last run of ``bench``."""
    path = RESULTS / f"{bench}.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def write_doc_section(name: str, markdown: str) -> None:
    """Replace the text between ``<!-- bench:NAME -->`` and ``<!-- /bench:NAME -->`` in docs/performance.md."""
    text = DOC.read_text()
    pattern = re.compile(rf"(<!-- bench:{name} -->\n).*?(<!-- /bench:{name} -->)", re.DOTALL)
    if not pattern.search(text):
        raise SystemExit(f"docs/performance.md has no <!-- bench:{name} --> section")
    DOC.write_text(pattern.sub(lambda m: m.group(1) + markdown.rstrip() + "\n" + m.group(2), text))
