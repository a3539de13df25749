"""Run the emulator in a background thread of the current process, for tests and scripts."""

from __future__ import annotations

import socket
import threading
import time
from typing import TYPE_CHECKING

import uvicorn

from airflow_provider_aimms.emulator.app import EmulatorApp, create_app

if TYPE_CHECKING:
    from types import TracebackType

    from airflow_provider_aimms.emulator.admin_client import AdminClient
    from airflow_provider_aimms.emulator.config import EmulatorConfig
    from airflow_provider_aimms.emulator.runtime import Emulator
    from airflow_provider_aimms.emulator.store import TaskStore

START_TIMEOUT = 10.0


class EmulatorServer:
    """
    Serve an emulator on ``127.0.0.1`` with a free port, in a daemon thread; use it as a context manager.

    ``url`` is the account URL (the API lives under ``/pro-api/v2``); ``admin`` is a client for the admin
    API; ``emulator`` and ``store`` give direct in-process access to the state.
    """

    def __init__(self, config: EmulatorConfig, *, host: str = "127.0.0.1", port: int = 0) -> None:
        self.config = config
        self.app: EmulatorApp = create_app(config)
        self._host, self._port = host, port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._admin: AdminClient | None = None  # created on first use; httpx is slow to import
        self.url = ""

    @property
    def emulator(self) -> Emulator:
        """Return the in-process emulator state."""
        return self.app.emulator

    @property
    def store(self) -> TaskStore:
        """Return the in-process task store."""
        return self.app.emulator.store

    @property
    def admin(self) -> AdminClient:
        """Return a client for the admin API (enable it with ``enable_admin``)."""
        if self._admin is None:
            if not self.url:
                raise RuntimeError("start the EmulatorServer before using its admin client")
            from airflow_provider_aimms.emulator.admin_client import AdminClient

            self._admin = AdminClient(self.url)
        return self._admin

    def start(self) -> EmulatorServer:
        """Bind the port, start uvicorn and wait until it serves."""
        if self._thread is not None:
            return self
        # Binding here, not in uvicorn, tells us the port before the server runs.
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self._host, self._port))
        port = sock.getsockname()[1]
        config = uvicorn.Config(
            self.app, log_level="warning", access_log=False, lifespan="on", timeout_graceful_shutdown=1
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="aimms-emulator-server", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + START_TIMEOUT
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError("the AIMMS PRO emulator did not start")
            time.sleep(0.005)
        self.url = f"http://{self._host}:{port}"
        return self

    def stop(self) -> None:
        """Stop the server and the emulator's threads; returns within about a quarter of a second."""
        if self._admin is not None:
            self._admin.close()
            self._admin = None
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5.0)
        self._server = self._thread = None
        self.emulator.close()

    def __enter__(self) -> EmulatorServer:
        return self.start()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
