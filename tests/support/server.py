"""Run a real Fieldline server for end-to-end, chaos tests and benchmarks.

:class:`FieldlineServer` does what an operator does, through the ``fieldline``
command (as ``python -m api`` so it works in any virtualenv): migrate the
database, create a tenant and its admin, start ``serve`` (gunicorn) on a free
port of 127.0.0.1 and a separate ``worker`` process, and wait until
``/readyz`` answers. Leaving the ``with`` block stops both (SIGTERM, then
SIGKILL after a timeout). Each process writes its stdout and stderr to a file
under the work directory, so a failing test can show the server's log
(:meth:`FieldlineServer.log_sections`). Every wait is bounded.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self

import requests

REPO_ROOT = Path(__file__).resolve().parents[2]
SECRET_KEY = "e2e-secret-key-that-is-long-enough-for-hs256-signing"
ADMIN_PASSWORD = "e2e-admin-password-42"


class ServerError(RuntimeError):
    """A process did not start, did not become ready or a CLI step failed."""


@dataclass(frozen=True)
class TenantSpec:
    slug: str = "e2e"
    name: str = "端到端测试租户"
    admin_email: str = "admin@e2e.test"
    admin_password: str = ADMIN_PASSWORD


def free_port() -> int:
    """A port nobody listens on right now (the kernel picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ManagedProcess:
    """One child process in its own process group, logging to a file."""

    def __init__(self, name: str, args: list[str], env: Mapping[str, str], log_path: Path) -> None:
        self.name = name
        self.log_path = log_path
        self._log: IO[bytes] = log_path.open("ab")
        # A new session: stopping the group also stops gunicorn's workers if the
        # master dies before it can reap them.
        self.popen = subprocess.Popen(
            args,
            cwd=REPO_ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def signal(self, sig: int) -> None:
        """Send a signal to the whole group (chaos tests use SIGKILL, SIGSTOP...)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 15.0) -> int | None:
        """SIGTERM, wait up to ``timeout`` seconds, then SIGKILL. Returns the exit code."""
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.popen.wait(timeout=10)
        self.signal(signal.SIGKILL)  # any straggler left in the group
        self._log.close()
        return self.popen.returncode

    def log_text(self) -> str:
        # The child writes to the file directly; our handle never buffers anything.
        return self.log_path.read_text(encoding="utf-8", errors="replace")


class FieldlineServer:
    """A migrated database, a tenant, ``fieldline serve`` and ``fieldline worker``.

    ``tenant=None`` skips tenant creation (a benchmark seeds its own data);
    ``with_worker=False`` leaves the outbox unprocessed; ``env`` adds or
    overrides ``FIELDLINE_*`` settings for every process.
    """

    def __init__(
        self,
        database_url: str,
        workdir: Path,
        *,
        workers: int = 2,
        with_worker: bool = True,
        tenant: TenantSpec | None = TenantSpec(),
        env: Mapping[str, str] | None = None,
        ready_timeout: float = 30.0,
    ) -> None:
        self.database_url = database_url
        self.workdir = Path(workdir)
        self.workers = workers
        self.with_worker = with_worker
        self.tenant = tenant
        self.ready_timeout = ready_timeout
        self.port = 0
        self.processes: dict[str, ManagedProcess] = {}
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.env = self._environment(env or {})

    # -- lifecycle ---------------------------------------------------------------

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def start(self) -> None:
        self.cli("db", "upgrade")
        if self.tenant is not None:
            self.create_tenant(self.tenant)
        if self.with_worker:
            self.start_worker()
        self.start_server()

    def stop(self, timeout: float = 15.0) -> None:
        # Reverse order of start: the server first, then the worker(s).
        for name in reversed(list(self.processes)):
            self.processes.pop(name).stop(timeout)

    def start_server(self, port: int | None = None) -> ManagedProcess:
        """Start ``fieldline serve`` and wait for ``/readyz``: on ``port`` (a chaos
        test restarting the server keeps its address), else on a free port."""
        self.port = port or free_port()
        process = self._spawn(
            "serve",
            ["serve", "--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers)],
        )
        self.wait_ready(process)
        return process

    def start_worker(self, name: str = "worker", *, wait: bool = True) -> ManagedProcess:
        """Start an outbox worker (chaos tests may run several under other names).

        With ``wait``, returns once the worker has logged that its loop started.
        """
        process = self._spawn(name, ["worker"])
        if wait:
            self.wait_for_log(process, "outbox worker started")
        return process

    def start_streams(self, port: int | None = None) -> int:
        """Start ``fieldline streams`` and wait until its database feed is up; its port."""
        port = port or free_port()
        process = self._spawn("streams", ["streams", "--bind", f"127.0.0.1:{port}"])
        deadline = time.monotonic() + 30
        with self.http() as http:
            while time.monotonic() < deadline:
                if not process.alive():
                    raise ServerError(f"streams exited:\n{process.log_text()[-4000:]}")
                with contextlib.suppress(requests.RequestException):
                    if http.get(f"http://127.0.0.1:{port}/live/health", timeout=2).ok:
                        return port
                time.sleep(0.1)
        raise ServerError(f"streams not ready:\n{process.log_text()[-4000:]}")

    def wait_for_log(self, process: ManagedProcess, text: str, timeout: float = 30.0) -> None:
        """Wait (bounded) until ``text`` appears in the process's log."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if text in process.log_text():
                return
            if not process.alive():
                raise ServerError(
                    f"{process.name} exited with {process.popen.returncode}:\n"
                    f"{process.log_text()[-4000:]}"
                )
            time.sleep(0.1)
        raise ServerError(f"{process.name} did not log {text!r} within {timeout}s")

    def create_tenant(self, spec: TenantSpec) -> None:
        self.cli(
            "tenant",
            "create",
            "--slug",
            spec.slug,
            "--name",
            spec.name,
            "--admin-email",
            spec.admin_email,
            "--admin-password",
            spec.admin_password,
        )

    def cli(self, *args: str, timeout: float = 120.0) -> str:
        """Run one ``fieldline`` command to completion; its output, or ServerError."""
        try:
            result = subprocess.run(
                [sys.executable, "-m", "api", *args],
                cwd=REPO_ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                capture_output=True,
                text=True,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise ServerError(f"`fieldline {args[0]}` took more than {timeout}s") from exc
        if result.returncode != 0:
            raise ServerError(
                f"`fieldline {' '.join(args[:2])}` exited {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}"
            )
        return result.stdout

    def wait_ready(self, process: ManagedProcess) -> None:
        deadline = time.monotonic() + self.ready_timeout
        with requests.Session() as http:
            http.trust_env = False  # never send loopback traffic through a proxy
            while time.monotonic() < deadline:
                if not process.alive():
                    raise ServerError(
                        f"{process.name} exited with {process.popen.returncode}:\n"
                        f"{process.log_text()[-4000:]}"
                    )
                try:
                    if http.get(self.url("/readyz"), timeout=2).status_code == 200:
                        return
                except requests.RequestException:
                    pass
                time.sleep(0.1)
        raise ServerError(
            f"{process.name} not ready after {self.ready_timeout}s:\n{process.log_text()[-4000:]}"
        )

    # -- what tests use ----------------------------------------------------------

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def url(self, path: str) -> str:
        return self.base_url + path

    def log_path(self, name: str = "serve") -> Path:
        return self.workdir / f"{name}.log"

    def log_text(self, name: str = "serve") -> str:
        path = self.log_path(name)
        return path.read_text(encoding="utf-8", errors="replace") if path.exists() else ""

    def log_sections(self, tail: int = 20000) -> list[tuple[str, str]]:
        """(title, text) pairs for a pytest report: the end of each process's log."""
        return [
            (f"fieldline {path.stem} log ({path})", path.read_text(errors="replace")[-tail:])
            for path in sorted(self.workdir.glob("*.log"))
        ]

    def outbox_state(self) -> list[dict[str, Any]]:
        """The outbox rows that are not done (topic, status, attempts, last error).

        For failure messages: the worker logs a message only when it gives up on
        it, so a handler that keeps failing is otherwise invisible from outside.
        """
        from sqlalchemy import text

        from api.db import make_engine

        engine = make_engine(self.database_url)
        try:
            with engine.connect() as connection:
                rows = connection.execute(
                    text(
                        "SELECT topic, status, attempts, last_error FROM outbox_messages "
                        "WHERE status <> 'done' ORDER BY created_at LIMIT 20"
                    )
                )
                return [dict(row._mapping) for row in rows]
        finally:
            engine.dispose()

    def http(self) -> requests.Session:
        """A requests session that talks to this server directly (no proxy)."""
        session = requests.Session()
        session.trust_env = False
        return session

    # -- internals ---------------------------------------------------------------

    def _spawn(self, name: str, args: list[str]) -> ManagedProcess:
        previous = self.processes.get(name)
        if previous is not None:
            if previous.alive():
                raise ServerError(f"{name} is already running; stop it first")
            previous.stop()  # reaps it and closes its log handle
        process = ManagedProcess(
            name, [sys.executable, "-m", "api", *args], self.env, self.log_path(name)
        )
        self.processes[name] = process
        return process

    def _runtime_dir(self) -> Path:
        path = self.workdir / "run"
        path.mkdir(mode=0o700, exist_ok=True)
        return path

    def _environment(self, overrides: Mapping[str, str]) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("FIELDLINE_")}
        env.update(
            {
                "FIELDLINE_DATABASE_URL": self.database_url,
                "FIELDLINE_DATA_DIR": str(self.workdir / "data"),
                "FIELDLINE_SECRET_KEY": SECRET_KEY,
                "FIELDLINE_EMBEDDED_WORKER": "false",
                # Tests that need the live stream server start it (start_streams).
                "FIELDLINE_EMBEDDED_STREAMS": "false",
                "FIELDLINE_WORKER_POLL_SECONDS": "0.2",
                "FIELDLINE_LOGIN_RATE_LIMIT": "1000/minute",
                # Tests log in a handful of users; the cheapest Argon2 profile
                # keeps that fast (production keeps the default profile).
                "FIELDLINE_PASSWORD_PROFILE": os.environ.get(
                    "FIELDLINE_PASSWORD_PROFILE", "CHEAPEST"
                ),
                "PYTHONUNBUFFERED": "1",
                # gunicorn >= 25 opens a control socket under $XDG_RUNTIME_DIR (else
                # ~/.gunicorn): one directory per server, so parallel servers never
                # share (and unlink) each other's socket.
                "XDG_RUNTIME_DIR": str(self._runtime_dir()),
            }
        )
        env.update(overrides)
        return env


def describe(response: requests.Response) -> str:
    """A response for an assertion message: method, URL, status and body."""
    return (
        f"{response.request.method} {response.url} -> {response.status_code}: "
        f"{response.text[:2000]}"
    )


def json_body(response: requests.Response, status: int) -> Any:
    """The JSON body, after asserting the status (with the body in the message)."""
    assert response.status_code == status, describe(response)
    return response.json()
