"""Steer a new connection to a chosen gunicorn worker of a local server (Linux ``/proc``).

gunicorn's workers race to accept each connection, so "a new connection per
request" spreads requests over them only by chance. To make a test's requests
land where it needs them, :func:`connect_to_worker` opens connections until the
chosen worker is the one that accepted (read from ``/proc``: the worker holding
the server side of our connection) and closes the others unused.
"""

from __future__ import annotations

import http.client
import os
import signal
import time
from pathlib import Path

PROC = Path("/proc")


def worker_pids(master_pid: int) -> set[int]:
    """The processes whose parent is ``master_pid`` (gunicorn's workers)."""
    pids = set()
    for stat in PROC.glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended meanwhile
        if int(fields[1]) == master_pid:
            pids.add(int(stat.parent.name))
    return pids


def accepting_worker(
    server_port: int, client_port: int, pids: set[int], timeout: float = 5.0
) -> int:
    """The pid among ``pids`` that accepted our connection from ``client_port``."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        inode = _server_socket_inode(server_port, client_port)
        if inode:  # 0 while the connection still waits in the accept queue
            for pid in pids:
                if _holds_socket(pid, inode):
                    return pid
        time.sleep(0.005)
    raise TimeoutError(f"no worker of {sorted(pids)} accepted the connection from {client_port}")


def connect_to_worker(
    host: str, port: int, pid: int | None, pids: set[int], tries: int = 20
) -> tuple[http.client.HTTPConnection, int]:
    """A connection accepted by worker ``pid`` (any worker if None), and that worker's pid.

    A few tries as the workers race; the kernel may keep favouring one worker (it
    wakes the most recent waiter first, and a loaded machine makes that stick), so
    then the other workers are paused (SIGSTOP) while we connect: only ``pid`` is
    left to accept. They resume at once; the connection is unused until then."""
    for _ in range(tries):
        connection, owner = _connect(host, port, pids)
        if pid is None or owner == pid:
            return connection, owner
        connection.close()  # unused: the worker sees a connection closed before any request
    assert pid is not None
    others = pids - {pid}
    for other in others:
        os.kill(other, signal.SIGSTOP)
    try:
        connection, owner = _connect(host, port, {pid}, timeout=15.0)
    finally:
        for other in others:
            os.kill(other, signal.SIGCONT)
    return connection, owner


def _connect(
    host: str, port: int, pids: set[int], timeout: float = 5.0
) -> tuple[http.client.HTTPConnection, int]:
    connection = http.client.HTTPConnection(host, port, timeout=30)
    connection.connect()
    assert connection.sock is not None
    return connection, accepting_worker(port, connection.sock.getsockname()[1], pids, timeout)


def _server_socket_inode(server_port: int, client_port: int) -> int:
    local, remote = f":{server_port:04X}", f":{client_port:04X}"
    for table in ("tcp", "tcp6"):
        path = PROC / "net" / table
        if not path.exists():
            continue
        for line in path.read_text().splitlines()[1:]:
            fields = line.split()
            if fields[1].endswith(local) and fields[2].endswith(remote):
                return int(fields[9])
    return 0


def _holds_socket(pid: int, inode: int) -> bool:
    target = f"socket:[{inode}]"
    try:
        fds = os.listdir(PROC / str(pid) / "fd")
    except OSError:
        return False
    for fd in fds:
        try:
            if os.readlink(PROC / str(pid) / "fd" / fd) == target:
                return True
        except OSError:
            continue
    return False
