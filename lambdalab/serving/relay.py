"""The command textual-serve runs for each session: ask the zygote for a forked app, or become a fresh one.

textual-serve starts one command per browser and talks Textual's web driver protocol over that
command's stdin and stdout. This script is that command. It runs as a file (`python -I -S relay.py
SOCKET`: no site, no lambdalab imports, standard library only), so it costs a few milliseconds
instead of the ~0.4 s of CPU that importing Textual and the app takes. It:

1. connects to the zygote's unix socket and sends it, in one message, its own stdin, stdout and
   stderr (as SCM_RIGHTS file descriptors) and its environment (the one textual-serve built for the
   session: terminal size, Textual's web driver) and working folder;
2. reads the reply: `pid N` (a child of the zygote now runs the app on those very pipes) or `fresh`
   (the zygote would not fork this one: see zygote.py);
3. on `pid N`, exits at once. The session lives on in the pipes, which the app now holds: textual-serve
   reads stdout until its end and writes stdin, and never waits for, signals or asks the exit status of
   its process. A relay that waited for the app instead was one more process per session, and at the
   server's stop its exit raced the server's event loop closing ("Event loop is closed" tracebacks).

With no zygote to ask (not started yet, dead, or stopping), or when it answers `fresh`, it replaces
itself with `python -m lambdalab.serving.learner` on the same pipes and environment: a session that starts the
slow way, but starts.
"""

from __future__ import annotations

import json
import os
import socket
import sys


def request(environment: dict[str, str], cwd: str) -> bytes:
    """The message to the zygote: a 4-byte length, then JSON; the descriptors ride on its first bytes."""
    payload = json.dumps({"env": environment, "cwd": cwd}).encode()
    return len(payload).to_bytes(4, "big") + payload


def ask_zygote(path: str) -> int | None:
    """The pid of the child the zygote forked for this session, or None when there is no zygote to ask
    or it answered `fresh`."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as connection:
        try:
            connection.connect(path)
            message = request(dict(os.environ), os.getcwd())
            sent = socket.send_fds(connection, [message], [0, 1, 2])
            connection.sendall(message[sent:])
            reply = b""
            while not reply.endswith(b"\n") and (chunk := connection.recv(64)):
                reply += chunk
        except OSError:
            return None
    return int(reply.split()[1]) if reply.startswith(b"pid ") else None


def start_fresh() -> None:
    """Become `python -m lambdalab.serving.learner` (this interpreter, with site this time): the session the slow
    way."""
    os.execv(sys.executable, [sys.executable, "-m", "lambdalab.serving.learner"])


def main() -> int:
    if len(sys.argv) < 2 or ask_zygote(sys.argv[1]) is None:
        start_fresh()
    return 0


if __name__ == "__main__":
    sys.exit(main())
