"""
Take the screenshot of the Airflow 3 "Add Connection" form for the ``aimms`` type used in the docs.

It starts ``airflow api-server`` from the project's Airflow 3 virtualenv on a free loopback port, in a
throwaway ``AIRFLOW_HOME`` with the simple auth manager and every user an admin (so no login page), opens
the Connections page in headless Chromium, clicks "Add Connection", picks the AIMMS PRO type, and saves
the dialog's two sections as ``docs/img/aimms-connection-form.png`` (standard fields) and
``docs/img/aimms-connection-form-extras.png`` (the provider's extras). The server and the browser are stopped at the end.

Selenium and the browser are not project dependencies. To run it again::

    apt-get install -y chromium chromium-driver
    python3 -m venv /tmp/shot-venv && /tmp/shot-venv/bin/pip install selenium
    make venv AIRFLOW=3
    /tmp/shot-venv/bin/python scripts/screenshot_connection_form.py
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

from selenium import webdriver
from selenium.common.exceptions import TimeoutException, WebDriverException
from selenium.webdriver.chrome.options import Options
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

REPO = Path(__file__).resolve().parent.parent
DEFAULT_AIRFLOW = REPO / ".venv-airflow-3" / "bin" / "airflow"
DEFAULT_OUTPUT = REPO / "docs" / "img" / "aimms-connection-form.png"
# Chromium flags for a quiet, isolated headless run: no GPU, no sandbox (we run as root in CI
# containers), and none of the background traffic a first start would otherwise send.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--window-size=1280,1600",
)
# The labels each section must show; the script fails rather than save a picture without them.
STANDARD_LABELS = ("Account URL", "API key")
EXTRA_LABELS = (
    "Request timeout (seconds)",
    "Verify TLS certificates",
    "CA bundle path",
    "Proxies (JSON)",
    "Retry limit",
    "Retry delay (seconds)",
)


def free_port() -> int:
    """Return a loopback port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def airflow_env(home: Path, port: int) -> dict[str, str]:
    """Return the environment of a throwaway Airflow that lets anyone in as admin."""
    return {
        **os.environ,
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__AUTH_MANAGER": "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
        "AIRFLOW__API__PORT": str(port),
        "AIRFLOW__API__HOST": "127.0.0.1",
    }


def wait_for_health(url: str, server: subprocess.Popen[bytes], seconds: float = 120.0) -> None:
    """Wait until the API server answers its health check, or fail."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            sys.exit(f"airflow api-server exited early with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"{url}/api/v2/monitor/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(1)
    sys.exit(f"airflow api-server did not answer at {url} within {seconds:.0f} s")


def start_browser(chromium: str, chromedriver: str, profile: Path) -> webdriver.Chrome:
    """Start headless Chromium with a fresh profile."""
    options = Options()
    options.binary_location = chromium
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    # An explicit driver path keeps Selenium from trying to download one.
    return webdriver.Chrome(service=Service(chromedriver), options=options)


def capture_form(browser: webdriver.Chrome, url: str, output: Path) -> list[Path]:
    """Open the add-connection dialog, choose the aimms type, and save its two sections as PNGs."""
    wait = WebDriverWait(browser, 60)
    browser.get(f"{url}/connections")
    wait.until(
        expected_conditions.element_to_be_clickable(
            (By.XPATH, "//button[normalize-space()='Add Connection']")
        )
    ).click()
    dialog = wait.until(expected_conditions.visibility_of_element_located((By.CSS_SELECTOR, "[role=dialog]")))
    dialog.find_element(By.NAME, "connection_id").send_keys("aimms_default")
    # The type picker is a react-select combobox: type to filter, Enter to pick the first match.
    picker = dialog.find_element(By.CSS_SELECTOR, "input[role=combobox]")
    picker.send_keys("AIMMS PRO")
    wait.until(expected_conditions.visibility_of_element_located((By.XPATH, "//*[text()='AIMMS PRO']")))
    picker.send_keys(Keys.ENTER)

    # The form is an accordion that shows one section at a time: standard fields first, then extras.
    shots = []
    for section, labels, path in (
        ("Standard Fields", STANDARD_LABELS, output),
        ("Extra Fields", EXTRA_LABELS, output.with_name(f"{output.stem}-extras{output.suffix}")),
    ):
        if section != "Standard Fields":
            dialog.find_element(By.CSS_SELECTOR, f"[id$=':item:{section}'] > button").click()
        try:
            wait.until(lambda _, labels=labels: all(label in dialog.text for label in labels))
        except TimeoutException:
            missing = [label for label in labels if label not in dialog.text]
            sys.exit(f"The {section} section lacks {missing}; is the provider installed in this Airflow?")
        time.sleep(1)  # Let the section's open animation settle before the picture.
        path.parent.mkdir(parents=True, exist_ok=True)
        if not dialog.screenshot(str(path)):
            sys.exit(f"Chromium could not write {path}")
        print(f"Saved {path} ({path.stat().st_size} bytes)")
        shots.append(path)
    return shots


def main() -> int:
    """Run the API server, take the screenshot, and stop the server."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[1])
    parser.add_argument(
        "--airflow", default=str(DEFAULT_AIRFLOW), help="the airflow CLI of an Airflow 3 venv"
    )
    parser.add_argument("--output", default=str(DEFAULT_OUTPUT), help="where to write the PNG")
    parser.add_argument("--chromium", default="/usr/bin/chromium")
    parser.add_argument("--chromedriver", default="/usr/bin/chromedriver")
    arguments = parser.parse_args()

    scratch = Path(tempfile.mkdtemp(prefix="aimms-screenshot-"))
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = airflow_env(scratch / "airflow-home", port)
    log_path = scratch / "api-server.log"
    print(f"Creating Airflow's database in {scratch}", flush=True)
    subprocess.run([arguments.airflow, "db", "migrate"], env=env, check=True, stdout=subprocess.DEVNULL)
    print(f"Starting airflow api-server on {url} (log: {log_path})", flush=True)
    with open(log_path, "wb") as log:
        server = subprocess.Popen(
            [arguments.airflow, "api-server", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=log,
            start_new_session=True,  # Its workers share the group, so one signal stops them all.
        )
    try:
        wait_for_health(url, server)
        browser = start_browser(arguments.chromium, arguments.chromedriver, scratch / "chromium-profile")
        try:
            capture_form(browser, url, Path(arguments.output))
        except WebDriverException as err:
            browser.save_screenshot(str(scratch / "failure.png"))
            sys.exit(f"Driving the UI failed: {err.msg}; the page is in {scratch / 'failure.png'}")
        finally:
            browser.quit()
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
    return 0


if __name__ == "__main__":
    sys.exit(main())
