"""A real `mend serve` process on a scratch database, for tests that must see the app as it runs
outside the test client: browser tests, and error pages served as in production."""

import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import pytest

from app.config import PROJECT_ROOT

LOCAL_HOST = "127.0.0.1"
SERVER_START_SECONDS = 60  # generous: a loaded 2-core machine starts Python slowly


@dataclass
class MendServer:
    """A running `mend serve` process and everything it has printed so far."""

    base_url: str
    setup_url: str | None
    process: subprocess.Popen
    lines: list[str]
    database_url: str = ""

    def output_since(self, mark: int = 0) -> str:
        return "".join(self.lines[mark:])


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((LOCAL_HOST, 0))
        return sock.getsockname()[1]


def _port_answers(port: int) -> bool:
    try:
        with socket.create_connection((LOCAL_HOST, port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def run_mend(database_url: str, *, expect_setup_link: bool, environment: str = "test") -> Iterator[MendServer]:
    """Start `python -m app.cli serve` on a free local port; stop it afterwards.

    `environment` is MEND_ENV: "production" serves exactly as a program's server would.
    """
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEND_")} | {
        "MEND_ENV": environment,
        "MEND_SECRET_KEY": os.environ["MEND_SECRET_KEY"],  # the tests' key (tests/conftest.py), 32+ chars
        "MEND_ENCRYPTION_KEYS": os.environ["MEND_ENCRYPTION_KEYS"],  # the tests' field-encryption key
        "MEND_DATABASE_URL": database_url,
        "MEND_HOST": LOCAL_HOST,
        "MEND_PORT": str(port),
        "PYTHONUNBUFFERED": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.run_shifted", "app.cli", "serve"],  # its clock moves with the tests'
        cwd=PROJECT_ROOT,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        bufsize=1,
    )
    lines: list[str] = []
    arrived: queue.Queue[str | None] = queue.Queue()

    def pump() -> None:  # keeps draining the pipe for the whole run, so the server never blocks on it
        assert process.stdout is not None
        for line in process.stdout:
            lines.append(line)
            arrived.put(line)
        arrived.put(None)

    threading.Thread(target=pump, name="mend-serve-output", daemon=True).start()
    try:
        deadline = time.monotonic() + SERVER_START_SECONDS
        setup_url = None
        while expect_setup_link and setup_url is None:
            try:
                line = arrived.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                line = None
            if line is None:
                pytest.fail(
                    f"`mend serve` printed no /setup/ link within {SERVER_START_SECONDS}s "
                    f"(exit code {process.poll()}). Its output:\n{''.join(lines)}",
                    pytrace=False,
                )
            if match := re.search(r"(https?://\S+/setup/\S+)", line):
                setup_url = match.group(1)
        while not _port_answers(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(
                    f"`mend serve` is not answering on port {port} (exit code {process.poll()}). "
                    f"Its output:\n{''.join(lines)}",
                    pytrace=False,
                )
            time.sleep(0.05)
        yield MendServer(f"http://{LOCAL_HOST}:{port}", setup_url, process, lines, database_url)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
