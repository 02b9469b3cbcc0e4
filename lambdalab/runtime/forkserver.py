"""A process that imports slow modules once, then forks a fresh worker for each execution environment.

AWS's durable execution SDK imports boto3 and botocore: about 0.3 s of CPU, which every worker of a
durable function would otherwise pay again, and a check starts several. This process (run by
lambdalab.runtime.forked as `python -I forkserver.py SOCKET_FD MODULE...`) imports MODULE... and
worker.py, then waits. For each request it forks: the child leads its own session, takes the
descriptors the request brought (the worker's two channels, its output pipe) and runs worker.main, as a
worker started from scratch would, confinement and all. No learner code ever runs in this process.

Standard library only, like worker.py. Messages on the socket (SOCK_SEQPACKET) are JSON:
  to the parent, once:  {"preload_ms": ms}
  from the parent:      {"cwd": folder}, with 4 descriptors: to-worker read end, from-worker write end,
                        output write end, status write end
  to the parent:        {"pid": pid} with the child's pidfd, or {"error": why}
When the child ends, this process reaps it and writes its exit code (negative for a signal, as
subprocess says it) to the status pipe. When the parent goes (the socket closes), this process ends; its
workers then end themselves (worker.end_with_parent).
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import selectors
import signal
import socket
import sys
import time

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import ModuleType

FDS_PER_REQUEST = 4
CHILD_FDS = 5  # 0, 1, 2, then the worker's channels at 3 and 4


def load_worker() -> ModuleType:
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "worker.py")
    spec = importlib.util.spec_from_file_location("lambdalab_worker", path)
    assert spec is not None and spec.loader is not None  # a path ending in .py always gets a source file loader
    module = sys.modules["lambdalab_worker"] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def preload(modules: list[str]) -> float:
    """Import what every child will need; a module that will not import is left for the child to fail on."""
    started = time.perf_counter()
    for name in modules:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001, S112 - the handler's own import reports it, in its Init
            continue
    return (time.perf_counter() - started) * 1000


def serve(channel: socket.socket) -> tuple[str, list[int]] | None:
    """Fork on request until the parent goes. Returns in the parent at the end (None), and in each child
    (its folder and descriptors), so that a child runs the worker from the top of the stack."""
    children: dict[int, tuple[int, int]] = {}  # pidfd -> (pid, status write end)
    with selectors.DefaultSelector() as selector:
        selector.register(channel, selectors.EVENT_READ)
        while True:
            for key, _ in selector.select():
                if key.fileobj is not channel:
                    selector.unregister(key.fd)
                    report_exit(key.fd, *children.pop(key.fd))
                    continue
                message, fds, _, _ = socket.recv_fds(channel, 65536, FDS_PER_REQUEST)
                if not message:
                    return None
                if len(fds) != FDS_PER_REQUEST:
                    for fd in fds:
                        os.close(fd)
                    channel.send(json.dumps({"error": "a request needs four descriptors"}).encode())
                    continue
                pid = os.fork()
                if pid == 0:  # the child keeps nothing of this process's: not its socket, nor others' pipes
                    selector.close()
                    channel.close()
                    for pidfd, (_, status_fd) in children.items():
                        os.close(pidfd)
                        os.close(status_fd)
                    return json.loads(message)["cwd"], fds
                for fd in fds[:3]:
                    os.close(fd)
                pidfd = os.pidfd_open(pid)
                children[pidfd] = pid, fds[3]
                selector.register(pidfd, selectors.EVENT_READ)
                socket.send_fds(channel, [json.dumps({"pid": pid}).encode()], [pidfd])


def report_exit(pidfd: int, pid: int, status_fd: int) -> None:
    """Reap a child that ended, and tell the parent its exit code."""
    _, status = os.waitpid(pid, 0)
    os.close(pidfd)
    try:
        os.write(status_fd, str(os.waitstatus_to_exitcode(status)).encode())
    except OSError:
        pass  # the parent stopped listening
    os.close(status_fd)


def become_worker(worker: ModuleType, cwd: str, fds: list[int]) -> None:
    """In the child: what a worker started by subprocess would have (its own session, these descriptors, a
    process its user may inspect and whose user namespace maps it may write), then the worker itself."""
    to_worker, from_worker, output, status = fds
    os.close(status)
    os.setsid()
    linux = worker.load_beside("linux")
    if linux.available():
        linux.set_dumpable(True)
    signal.signal(signal.SIGINT, signal.default_int_handler)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.dup2(output, 1)
    os.dup2(output, 2)
    os.dup2(to_worker, 3)
    os.dup2(from_worker, 4)
    os.closerange(CHILD_FDS, os.sysconf("SC_OPEN_MAX"))
    os.chdir(cwd)
    worker.main(3, 4)


def main() -> None:
    channel = socket.socket(fileno=int(sys.argv[1]))
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C is the parent's to handle: it shuts its workers down
    worker = load_worker()
    linux = worker.load_beside("linux")
    if linux.available():  # its workers' code may not trace it, nor open its descriptors (other workers' status)
        linux.set_dumpable(False)
    preload_ms = preload(sys.argv[2:])
    vars(worker)["PRELOAD_MS"] = preload_ms  # counted in each child's Init
    channel.send(json.dumps({"preload_ms": preload_ms}).encode())
    child = serve(channel)
    if child is not None:
        become_worker(worker, *child)


if __name__ == "__main__":
    main()
