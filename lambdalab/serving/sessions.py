"""The server's side of fast sessions: the command textual-serve runs, and the zygote's whole life.

textual-serve starts one command per browser (a shell command line, with the session's size and
Textual's web driver in its environment) and speaks to it over stdin and stdout. Used as it is, the
command is `python -m lambdalab.tui`: every session imports Textual and the app anew. With
`Preloaded`, the command is relay.py instead, which asks the zygote (zygote.py) for a forked copy
of an interpreter that has imported them already. textual-serve sees an ordinary process per session,
with ordinary pipes: nothing of it is patched (server.py only uses its on_shutdown hook).

`Preloaded` starts the zygote in a private folder (its socket is there: only this user can connect),
waits until it is ready, restarts it if it dies (a few times; sessions asking meanwhile start the slow
way, never fail), and stops it with the server: end of file on the zygote's stdin, which the zygote
also gets if the server dies however; the zygote then ends its sessions (see zygote.py).
"""

from __future__ import annotations

import os
import shlex
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RELAY = Path(__file__).with_name("relay.py")
READY_TIMEOUT_S = 20.0
STOP_TIMEOUT_S = 10.0
MAX_RESTARTS = 5


def fresh_command() -> str:
    """A session in a new interpreter: this very one, so that it works from a venv that is not activated."""
    return f"{shlex.quote(sys.executable)} -m lambdalab.serving.learner"


def can_preload() -> bool:
    """Forking a session needs fork and descriptor passing over unix sockets (not Windows)."""
    return hasattr(os, "fork") and hasattr(socket, "AF_UNIX") and hasattr(socket, "send_fds")


def session_environment() -> dict[str, str]:
    """The environment textual-serve gives each session, without its size: the zygote's, so that its
    imports see what a session's would. Asked of textual-serve itself (a private method: if that ever
    changes, the zygote compares each session's environment with its own and starts the ones that
    differ fresh, so a mismatch is slower, never wrong)."""
    try:
        from textual_serve.app_service import AppService
        from textual_serve.download_manager import DownloadManager

        async def nothing(*_args) -> None:
            return None

        service = AppService(
            "", write_bytes=nothing, write_str=nothing, close=nothing, download_manager=DownloadManager()
        )
        environment = service._build_environment()
    except Exception:  # noqa: BLE001  (any change in textual-serve: fall back to this process's own)
        environment = dict(os.environ)
    for size in ("COLUMNS", "ROWS"):
        environment.pop(size, None)
    return environment


class Preloaded:
    """The zygote, as the server sees it: start(), command, stop()."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="lambdalab-serve-"))  # mode 0700
        self.socket_path = self.folder / "zygote.sock"
        self.process: subprocess.Popen | None = None
        self.restarts = 0
        self.stopping = threading.Event()
        self.lock = threading.Lock()

    @property
    def command(self) -> str:
        """What textual-serve runs per session. `exec`: the shell it uses becomes the relay, one process
        fewer. -I -S: the relay needs nothing but the standard library, so no site to load."""
        return (
            f"exec {shlex.quote(sys.executable)} -I -S {shlex.quote(str(RELAY))} {shlex.quote(str(self.socket_path))}"
        )

    def start(self) -> None:
        """Start the zygote and wait (a bounded while) until it forks sessions; then watch it."""
        process = self.spawn()
        deadline = time.monotonic() + READY_TIMEOUT_S
        while not self.socket_path.exists() and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        threading.Thread(target=self.watch, args=(process,), name="lambdalab-zygote-watch", daemon=True).start()

    def spawn(self) -> subprocess.Popen:
        self.process = process = subprocess.Popen(
            [sys.executable, "-m", "lambdalab.serving.zygote", str(self.socket_path)],
            stdin=subprocess.PIPE,
            env=session_environment(),
        )
        return process

    def watch(self, process: subprocess.Popen) -> None:
        """Restart the zygote when it dies while the server runs (a few times, a second apart)."""
        while True:
            process.wait()
            if self.stopping.is_set() or self.restarts >= MAX_RESTARTS:
                if not self.stopping.is_set():
                    print(
                        "lambdalab serve: the preloaded process keeps dying: sessions start fresh (slower)",
                        file=sys.stderr,
                        flush=True,
                    )
                return
            self.restarts += 1
            print(
                f"lambdalab serve: the preloaded process ended (status {process.returncode}); starting it again "
                "(sessions opened meanwhile start fresh)",
                file=sys.stderr,
                flush=True,
            )
            if self.stopping.wait(1.0):
                return
            with self.lock:
                if self.stopping.is_set():
                    return
                process = self.spawn()

    def stop(self) -> None:
        """Stop the zygote (which ends the sessions it forked) and remove its folder."""
        self.stopping.set()
        with self.lock:
            process = self.process
        if process is not None:
            if process.stdin is not None:  # always: spawn() opens it as a pipe
                process.stdin.close()  # end of file: the zygote stops
            try:
                process.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        shutil.rmtree(self.folder, ignore_errors=True)
