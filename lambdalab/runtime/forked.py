"""Workers forked from a fork server that imported their slow modules once (forkserver.py): lambdalab's side.

A function whose code needs AWS's durable SDK starts its workers this way: the fork server pays the
SDK's import (boto3 and botocore, about 0.3 s of CPU) once per lambdalab process, and each worker is a
fork of it, ready in milliseconds. The worker behaves as one started by subprocess: its own session, its
channels, its confinement, and Init counting the import (worker.PRELOAD_MS). Linux only (pidfds);
elsewhere `spawn` answers None and the caller starts the worker from scratch.
"""

from __future__ import annotations

import json
import os
import select
import signal
import socket
import subprocess
import sys
import threading
import weakref
from collections.abc import Sequence
from pathlib import Path

FORKSERVER = Path(__file__).with_name("forkserver.py")
READY_TIMEOUT_S = 60.0  # the imports, on a machine busy with a whole class's grading
STATUS_WAIT_S = 1.0  # from a worker's end to the fork server's word of its exit code: it reaps at once


def worker_environment() -> dict[str, str]:
    """A worker's first environment. Never lambdalab's own: the code can read it in /proc/self/environ (a
    grader's may hold an answer key); the worker sets the function's own from its config."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8"}


class ForkedProcess:
    """The part of subprocess.Popen an ExecutionEnvironment uses, for a process that is not its child:
    it learns of the exit from the process's pidfd, and of the exit code from the fork server."""

    def __init__(self, pid: int, pidfd: int, status_fd: int, stdout_fd: int):
        self.pid = pid
        self.stdout = os.fdopen(stdout_fd, "rb")
        self.returncode: int | None = None
        self._pidfd, self._status = pidfd, status_fd
        self._close = weakref.finalize(self, _close_all, pidfd, status_fd)

    def poll(self) -> int | None:
        if self.returncode is None and _readable(self._pidfd, 0):
            self._collect()
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        if self.returncode is None:
            if not _readable(self._pidfd, timeout):
                raise subprocess.TimeoutExpired([str(FORKSERVER)], timeout or 0)
            self._collect()
        assert self.returncode is not None  # _collect always sets it
        return self.returncode

    def _collect(self) -> None:
        code = os.read(self._status, 32) if _readable(self._status, STATUS_WAIT_S) else b""
        # No word means the fork server itself is gone: the process was killed with it.
        self.returncode = int(code) if code else -signal.SIGKILL
        self._close()


class ForkServer:
    """One fork server process, for one set of modules; forks one worker at a time."""

    def __init__(self, modules: Sequence[str]):
        self.owner = os.getpid()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.process = subprocess.Popen(
            [sys.executable, "-I", str(FORKSERVER), str(theirs.fileno()), *modules],
            pass_fds=(theirs.fileno(),),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            env=worker_environment(),
        )
        theirs.close()
        self.channel = ours
        self.lock = threading.Lock()
        try:
            ours.settimeout(READY_TIMEOUT_S)
            json.loads(ours.recv(4096))  # {"preload_ms": ...}: the imports are done
            ours.settimeout(None)
        except (OSError, ValueError):
            self.process.kill()
            self.process.wait()
            ours.close()
            raise

    @property
    def usable(self) -> bool:
        """Alive, and this process's own (a fork of lambdalab, as `serve` makes, starts its own)."""
        return self.owner == os.getpid() and self.process.poll() is None

    def fork(self, cwd: Path) -> tuple[ForkedProcess, int, int]:
        """A new worker in `cwd`: the process, and the ends of its channels, to it and from it."""
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        output_r, output_w = os.pipe()
        status_r, status_w = os.pipe()
        try:
            with self.lock:
                request = json.dumps({"cwd": str(cwd)}).encode()
                socket.send_fds(self.channel, [request], [to_worker_r, from_worker_w, output_w, status_w])
                answer, fds, _, _ = socket.recv_fds(self.channel, 4096, 1)
        finally:
            for fd in (to_worker_r, from_worker_w, output_w, status_w):
                os.close(fd)
        reply = json.loads(answer or b"{}")
        if "pid" not in reply or len(fds) != 1:
            for fd in (*fds, to_worker_w, from_worker_r, output_r, status_r):
                os.close(fd)
            raise OSError(reply.get("error", "the fork server is gone"))
        return ForkedProcess(reply["pid"], fds[0], status_r, output_r), to_worker_w, from_worker_r


_servers: dict[tuple[str, ...], ForkServer] = {}
_servers_lock = threading.Lock()


def available() -> bool:
    if not (sys.platform == "linux" and hasattr(os, "pidfd_open") and hasattr(socket, "send_fds")):
        return False
    try:
        os.close(os.pidfd_open(os.getpid()))
    except OSError:  # a kernel before 5.3
        return False
    return True


def spawn(modules: tuple[str, ...], cwd: Path) -> tuple[ForkedProcess, int, int] | None:
    """A worker forked from the fork server for `modules` (started on first use), or None where there can be
    none: not Linux, or the fork server would not start."""
    if not available():
        return None
    for _ in range(2):  # a fork server that died (killed, say) is replaced once
        try:
            with _servers_lock:
                server = _servers.get(modules)
                if server is None or not server.usable:
                    server = _servers[modules] = ForkServer(modules)
            return server.fork(cwd)
        except (OSError, ValueError):
            with _servers_lock:
                _servers.pop(modules, None)
    return None


def close_all() -> None:
    """End every fork server this process started; their workers end with them (worker.end_with_parent).
    For a process that must leave nothing running before it exits (a test that counts its descendants)."""
    with _servers_lock:
        servers = [s for s in _servers.values() if s.owner == os.getpid()]
        _servers.clear()
    for server in servers:
        server.channel.close()
        server.process.wait()


def _readable(fd: int, timeout: float | None) -> bool:
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(None if timeout is None else timeout * 1000))


def _close_all(*fds: int) -> None:
    for fd in fds:
        try:
            os.close(fd)
        except OSError:
            pass
