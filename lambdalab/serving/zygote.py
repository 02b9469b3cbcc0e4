"""The preloaded process `lambdalab serve` forks each session from (a "zygote", as Android calls its own).

Why: a session used to be a fresh interpreter, which spends ~0.4 s of CPU importing Textual and the
app, and ~0.1 s loading the course, before it draws anything; twenty learners opening the page at
once on a 2-core machine waited 5 s and more for their first screen. This process does that once.
A session is then a fork of it (milliseconds), which only builds the app and draws it.

How (run as `python -m lambdalab.serving.zygote SOCKET` by sessions.py):

- It is started with the environment textual-serve gives every session, so what the imports read
  (Textual reads its settings at import) is what a fresh session's would have read. Each request
  carries the session's own environment; if it differs in anything but MAY_DIFFER (the terminal size,
  what a shell sets, the learner's LAMBDALAB_HOME and name), the answer is `fresh` and relay.py starts
  that session the slow way.
- It listens on a unix socket in a folder only this user can enter. relay.py (the command textual-
  serve runs per session) sends its stdin, stdout and stderr (SCM_RIGHTS) and its environment. The
  zygote forks; the child closes everything of the zygote's, makes those pipes its fds 0, 1 and 2,
  takes the session's environment and working folder, and runs the app as `python -m lambdalab.tui`
  does (with the course the zygote loaded), then exits as that interpreter would (atexit, threads
  joined). The relay is told the child's pid and exits; the zygote reaps the child when it ends.
- Each session is its own process, as before: a crash or a runaway stays in it; before the app starts,
  the child sets the confinement its learner's code will run under (containment.py: a filesystem view,
  a user of its own as root); the progress store is opened in the child, from the session's environment
  (LAMBDALAB_HOME).
- Before it listens, it draws the course map once for nobody (warm_up) and keeps every CSS parse
  (share_parsed_styles): what Textual computes on a first screen, each session finds done.
- Sessions take turns to start: at most STARTING_AT_ONCE draw their first screen at the same time, and a
  request beyond that waits (its relay with it) until one of them has drawn it (it closes a pipe the zygote
  watches), has ended, or has had START_TIMEOUT_S. Why: twenty learners opening the page at once all started
  together, shared the two cores, and all got their screen at the very end, after 3 s; each also took half
  as much CPU again as a session alone (caches and switches shared twenty ways). In turns, the first screens
  arrive one after another, and the last sooner than before, as every session costs less.
- Forking is only safe in a process with one thread: the zygote never starts one (the warm-up's event loop
  is closed before it listens; then one selector loop, no executor) and checks before every fork; if a
  thread is there, it answers `fresh`.
- After the imports, gc.freeze() moves every object to a generation the collector never visits, so
  the children's collections do not write to (and thereby copy) the pages they share with the zygote.
  The children share its hash seed, as forked processes do: irrelevant for a local teaching app.
- Its stdin is a pipe from the server. End of file there (the server stopped, or died however) or
  SIGTERM stops it: no new sessions, SIGTERM to the running ones (Textual's web driver quits on it,
  as on textual-serve's `quit`), and SIGKILL for any still there a few seconds later, then (as root) the
  processes of any session user no session holds now (a session killed outright could not end them):
  nothing is left behind. It ignores SIGINT: Ctrl+C in the server's terminal reaches the sessions and the server
  themselves, and the server then stops the zygote.
"""

from __future__ import annotations

import contextlib
import gc
import io
import json
import os
import selectors
import signal
import socket
import sys
import tempfile
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import cast

# What may differ between the zygote's environment and a session's: nothing the imports read. The terminal
# size, what a shell sets, and the learner: their data folder (read when the app opens its progress store)
# and name, which server.py sets for each session.
MAY_DIFFER = {"COLUMNS", "ROWS", "PWD", "OLDPWD", "SHLVL", "_", "LAMBDALAB_HOME", "LAMBDALAB_LEARNER"}
GRACE_S = 3.0  # for sessions to quit after SIGTERM when the zygote stops, before SIGKILL
STARTING_AT_ONCE = max(2, os.cpu_count() or 1)  # sessions drawing their first screen at the same time
WARM_UP_S, WARM_UP_SIZE = 0.3, (120, 40)  # see warm_up
START_TIMEOUT_S = 5.0  # a session that has not drawn its first screen by then no longer holds up the others
REQUEST_TIMEOUT_S = 5.0
MAX_REQUEST = 1 << 20


def preload() -> None:
    """Everything a session imports before its first screen (the app's own modules import Textual's), and
    one shipped scenario read as the simulator reads it: that builds the scenario schema's validator
    (cached for the process), which each session's first simulator would otherwise build again."""
    import textual.drivers.web_driver  # noqa: F401  (what TEXTUAL_DRIVER names; imported at run time otherwise)

    import lambdalab.grading.isolation  # noqa: F401  (what containment.contain imports in each session)
    import lambdalab.serving.containment  # noqa: F401
    import lambdalab.tui.app  # noqa: F401
    from lambdalab import content
    from lambdalab.inputs import load_yaml
    from lambdalab.tui.knobs import scenario_from

    for path in list(content.shipped_scenarios().values())[:1]:
        with contextlib.suppress(Exception):  # only a warm-up: a session opening this scenario says what is wrong
            scenario_from(load_yaml(path).data, str(path))


def share_parsed_styles() -> None:
    """Keep every parse of Textual CSS for the life of the process: sessions forked after the warm-up then
    find the app's rules already parsed (a session parsed all of its CSS anew, a tenth of its start). Textual
    caches parses per stylesheet, keyed by the CSS and where it came from; this cache adds the variables
    (the theme's colours) the parse substituted. It wraps a private method: should Textual rename it, sessions
    simply parse as before."""
    from textual.css.stylesheet import Stylesheet

    parse_rules = getattr(Stylesheet, "_parse_rules", None)
    if parse_rules is None:
        return
    parsed: dict[tuple, list] = {}

    def _parse_rules(self, css, read_from, *args, **kwargs):
        key = (css, read_from, args, tuple(sorted(kwargs.items())), tuple(sorted(self._variables.items())))
        if key not in parsed:
            parsed[key] = parse_rules(self, css, read_from, *args, **kwargs)
        return parsed[key]

    Stylesheet._parse_rules = _parse_rules  # type: ignore[method-assign]


def warm_up(course) -> None:
    """Draw the course map once, headless, for nobody: what Textual and Rich cache on the way (styles matched,
    colours and widths computed, modules imported on first use) each forked session then finds ready, a
    tenth of its start. Its progress goes to a folder deleted at once."""
    from lambdalab.course.progress import ProgressStore
    from lambdalab.tui.app import LambdalabApp

    with tempfile.TemporaryDirectory(prefix="lambdalab-warm-up-") as home:
        # Once drawn, it stays a moment: what follows the first screen warms up too.
        app = LambdalabApp(
            course=course, store=ProgressStore(Path(home)), drawn=lambda: app.set_timer(WARM_UP_S, app.exit)
        )
        app.run(headless=True, size=WARM_UP_SIZE)


class SharedCourse:
    """The course, loaded once for every session (each session loading it was a quarter of its start),
    and loaded again before the next fork when a lesson file changed, so authors still see their edits."""

    def __init__(self) -> None:
        self.fingerprint: tuple = ()
        self.course = None

    def current(self):
        from lambdalab.course.loader import lessons_dir, load_course

        root = lessons_dir()
        fingerprint = (
            tuple(
                sorted(
                    (str(path), stat.st_mtime_ns, stat.st_size) for path in root.rglob("*") for stat in [path.stat()]
                )
            )
            if root.is_dir()
            else ()
        )
        if self.course is None or fingerprint != self.fingerprint:
            self.course, self.fingerprint = load_course(), fingerprint
        return self.course


@dataclass
class Request:
    """A session asked for by relay.py: its connection (the reply goes there), its environment and working
    folder, and its stdin, stdout and stderr."""

    connection: socket.socket
    environment: dict[str, str]
    cwd: str
    fds: list[int] = field(default_factory=list)

    def close(self) -> None:
        """Drop the zygote's copies: the forked session has its own, or it never will."""
        for fd in self.fds:
            os.close(fd)
        self.fds = []
        self.connection.close()

    def reply(self, answer: str) -> None:
        try:
            self.connection.sendall(f"{answer}\n".encode())
        except OSError:
            pass  # the relay left; the session goes on (or ends) on its pipes without it


def read_request(connection: socket.socket) -> tuple[dict[str, str], str, list[int]]:
    """(environment, working folder, [stdin, stdout, stderr]) from relay.py's message."""
    data, fds, _flags, _address = socket.recv_fds(connection, 65536, 3)
    try:
        if len(fds) != 3 or len(data) < 4:
            raise ValueError("expected three descriptors and a length")
        size = int.from_bytes(data[:4], "big")
        if size > MAX_REQUEST:
            raise ValueError("request too large")
        data = data[4:]
        while len(data) < size:
            chunk = connection.recv(size - len(data))
            if not chunk:
                raise ValueError("the relay left mid-request")
            data += chunk
        request = json.loads(data)
        return dict(request["env"]), str(request["cwd"]), fds
    except (ValueError, KeyError, TypeError, OSError):
        for fd in fds:
            os.close(fd)
        raise ValueError("bad request") from None


class Session:
    """What a forked child does: drop the zygote's belongings, take the session's, run the app."""

    def __init__(self, request: Request, drawn: int, course, zygote_owned: list) -> None:
        self.request, self.drawn, self.course, self.zygote_owned = request, drawn, course, zygote_owned

    def run(self) -> None:
        signal.set_wakeup_fd(-1)
        for signum in (signal.SIGCHLD, signal.SIGTERM):
            signal.signal(signum, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # as in any interpreter
        for owned in self.zygote_owned:  # sockets, the selector, other sessions' pipes and waiting requests
            if isinstance(owned, int):
                os.close(owned)
            else:
                owned.close()
        fds, cwd = self.request.fds, self.request.cwd
        for target, fd in enumerate(fds):
            os.dup2(fd, target)
        for fd in fds:
            os.close(fd)
        self.request.connection.close()
        os.chdir(cwd)
        os.environ.clear()
        os.environ.update(self.request.environment)
        stdout = cast(io.TextIOWrapper, sys.stdout)  # the interpreter's own, on the session's descriptor 1
        stdout.reconfigure(line_buffering=stdout.isatty())  # as a fresh interpreter would choose
        sys.argv = [sys.argv[0]]
        from lambdalab.serving.containment import contain
        from lambdalab.tui.app import LambdalabApp

        contain(Path(cwd))  # the learner's code shut in as the server chose (containment.py)

        # lambdalab/tui/__main__.py, with the course already loaded; the first screen drawn, the next session's turn
        LambdalabApp(course=self.course, drawn=lambda: os.close(self.drawn)).run()


class Zygote:
    def __init__(self, path: str) -> None:
        self.path = path
        self.children: set[int] = set()
        self.environment = dict(os.environ)
        self.shared_course = SharedCourse()
        self.warned = False
        self.waiting: deque[Request] = deque()  # their turn to start has not come
        self.starting: dict[int, float] = {}  # the pipe each starting session closes once drawn -> its deadline

    def serve(self) -> Session | None:
        """Fork sessions until told to stop. Returns a Session in each child (which then leaves this loop
        and never runs the zygote's cleanup), and None in the zygote once it has stopped."""
        preload()
        share_parsed_styles()
        warm_up(self.shared_course.current())
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        wake_r, wake_w = socket.socketpair()
        wake_r.setblocking(False)
        wake_w.setblocking(False)
        signal.set_wakeup_fd(wake_w.fileno())
        signal.signal(signal.SIGCHLD, _ignore)
        signal.signal(signal.SIGTERM, _ignore)
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        listener.bind(self.path + ".new")
        listener.listen(64)
        os.rename(self.path + ".new", self.path)  # ready: the socket appears only once it can fork sessions
        selector = selectors.DefaultSelector()
        selector.register(listener, selectors.EVENT_READ)
        selector.register(wake_r, selectors.EVENT_READ)
        selector.register(0, selectors.EVENT_READ)  # the server's pipe: end of file means stop
        gc.collect()
        gc.freeze()
        stopping = False
        while not stopping:
            for key, _events in selector.select(self.until_next_deadline()):
                if key.fileobj is listener:
                    self.accept(listener)
                elif key.fileobj is wake_r:
                    signals = wake_r.recv(256)
                    self.reap()
                    stopping = stopping or signal.SIGTERM in signals
                elif key.fileobj == 0:
                    stopping = stopping or not os.read(0, 4096)
                else:  # a starting session's pipe: it drew its first screen, or ended
                    self.started(selector, cast(int, key.fileobj))
            for drawn, deadline in list(self.starting.items()):
                if time.monotonic() >= deadline:
                    self.started(selector, drawn)
            while not stopping and self.waiting and len(self.starting) < STARTING_AT_ONCE:
                session = self.fork_session(self.waiting.popleft(), selector, [listener, selector, wake_r, wake_w])
                if session is not None:
                    return session
        selector.close()
        listener.close()
        with contextlib.suppress(OSError):
            os.unlink(self.path)
            os.rmdir(os.path.dirname(self.path))  # the server's private folder, should the server be gone
        for request in self.waiting:  # their relays start those sessions fresh, if the server still runs
            request.close()
        self.stop_children()
        return None

    def until_next_deadline(self) -> float | None:
        if not self.starting:
            return None
        return max(0.0, min(self.starting.values()) - time.monotonic())

    def accept(self, listener: socket.socket) -> None:
        """Read a relay's request and queue it for its turn."""
        connection, _address = listener.accept()
        connection.settimeout(REQUEST_TIMEOUT_S)
        try:
            environment, cwd, fds = read_request(connection)
        except (ValueError, OSError):
            connection.close()
            return
        self.waiting.append(Request(connection, environment, cwd, fds))

    def started(self, selector: selectors.BaseSelector, drawn: int) -> None:
        """A starting session drew its first screen (or ended, or ran out of time): another may start."""
        selector.unregister(drawn)
        os.close(drawn)
        del self.starting[drawn]

    def fork_session(self, request: Request, selector: selectors.BaseSelector, owned: list) -> Session | None:
        """Fork the session asked for, or answer `fresh` if it cannot be forked; returns its Session in the
        child, None in the zygote."""
        refusal = self.refusal(request.environment)
        try:
            course = self.shared_course.current()
        except Exception as exc:  # noqa: BLE001  (a session loading it itself tells its learner what is wrong)
            refusal = refusal or f"the course did not load ({exc})"
        if refusal:
            self.warn(refusal)
            request.reply("fresh")
            request.close()
            return None
        drawn_r, drawn_w = os.pipe()
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            others = [fd for waiting in self.waiting for fd in (waiting.connection, *waiting.fds)]
            return Session(request, drawn_w, course, [*owned, *others, *self.starting, drawn_r])
        os.close(drawn_w)
        self.children.add(pid)
        self.starting[drawn_r] = time.monotonic() + START_TIMEOUT_S
        selector.register(drawn_r, selectors.EVENT_READ)
        request.reply(f"pid {pid}")
        request.close()
        return None

    def refusal(self, environment: dict[str, str]) -> str | None:
        """Why this session must start fresh, if it must."""
        if threading.active_count() > 1:
            return "the preloaded process has started a thread, and forking it is no longer safe"
        mine = self.environment
        differ = sorted(
            name
            for name in (mine.keys() ^ environment.keys())
            | {name for name in mine.keys() & environment.keys() if mine[name] != environment[name]}
            if name not in MAY_DIFFER
        )
        if differ:
            return f"a session's environment differs from the preloaded process's ({', '.join(differ[:5])})"
        return None

    def warn(self, reason: str) -> None:
        if not self.warned:
            self.warned = True
            print(
                f"lambdalab serve: {reason}: such sessions start in a fresh interpreter (slower)",
                file=sys.stderr,
                flush=True,
            )

    def reap(self) -> None:
        while self.children:
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                self.children.clear()
                return
            if pid == 0:
                return
            self.children.discard(pid)

    def stop_children(self) -> None:
        for signum in (signal.SIGTERM, signal.SIGKILL):
            for pid in self.children:
                try:
                    os.kill(pid, signum)
                except ProcessLookupError:
                    pass
            deadline = time.monotonic() + GRACE_S
            while self.children and time.monotonic() < deadline:
                self.reap()
                time.sleep(0.02)
        if os.geteuid() == 0 and os.path.isdir("/proc"):
            from lambdalab.grading.users import end_unclaimed

            end_unclaimed()  # what the code of a session killed outright left running as that session's user


def _ignore(_signum: int, _frame) -> None:
    """A handler that does nothing: the wakeup fd tells the loop which signal came."""


def main() -> None:
    session = Zygote(sys.argv[1]).serve()
    if session is not None:  # a forked child: from here on, the app
        session.run()


if __name__ == "__main__":
    main()
