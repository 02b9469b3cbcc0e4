"""`lambdalab serve` as an instructor starts it: a web page that is the app, from an unactivated venv."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import uuid
from pathlib import Path

import aiohttp
import pytest
from conftest import REPO

TOKEN = "test-room-token"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def ws_url(port: int, learner: str, token: str = TOKEN, width: int = 100, height: int = 30) -> str:
    """The websocket a learner's page opens (the page's script adds the size)."""
    return f"ws://127.0.0.1:{port}/ws/{token}/{learner}?width={width}&height={height}"


async def screen_text(url: str, timeout: float = 30.0) -> str:
    """What the app sends a browser, until its course map appears (or the time runs out)."""
    received = ""
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        deadline = time.monotonic() + timeout
        while "Course map" not in received and time.monotonic() < deadline:
            try:
                message = await ws.receive(timeout=deadline - time.monotonic())
            except TimeoutError:
                break
            if message.type == aiohttp.WSMsgType.BINARY:
                received += message.data.decode("utf-8", "replace")
            elif message.type == aiohttp.WSMsgType.TEXT:
                received += message.data
            elif message.type in (aiohttp.WSMsgType.CLOSED, aiohttp.WSMsgType.ERROR):
                break
    return received


def test_serve_answers_with_the_app_page(tmp_path):
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "lambdalab", "serve", "--port", str(port), "--data", str(tmp_path)],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        first_line = server.stdout.readline()
        # 127.0.0.1 by default, and a random join token in the URL to give the room
        assert f"Serving lambdalab at http://127.0.0.1:{port}/?token=" in first_line
        join_url = first_line.split()[3]
        token = join_url.split("?token=")[1]
        assert len(token) >= 12
        banner = [server.stdout.readline() for _ in range(6)]
        # and the instructor's own URL, with another random token
        [instructor_url] = [line.split()[1] for line in banner if line.startswith("  instructor ")]
        assert instructor_url.startswith(f"http://127.0.0.1:{port}/instructor?token=")
        assert instructor_url.split("?token=")[1] != token
        page = None
        for _ in range(100):
            try:
                with urllib.request.urlopen(f"{join_url}&learner=ada", timeout=2) as response:
                    page = response.read().decode()
                break
            except OSError:
                time.sleep(0.1)
        assert page is not None, "the server never answered"
        assert "<div>lambdalab: ada</div>" in page and f"ws://127.0.0.1:{port}/ws/{token}/ada" in page
        # A browser's connection starts the app (with this interpreter, not whatever `python` is on
        # PATH): its course map arrives over the websocket.
        assert "Course map" in asyncio.run(screen_text(ws_url(port, "ada", token)))
        with urllib.request.urlopen(instructor_url, timeout=5) as response:
            assert "ada <span" in response.read().decode()  # she joined: the instructor's page lists her
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_serve_without_the_extra_says_how_to_install(tmp_path):
    # A stand-in textual_serve that cannot be imported, first on the path.
    (tmp_path / "textual_serve").mkdir()
    (tmp_path / "textual_serve" / "__init__.py").write_text("raise ImportError('not installed')\n")
    result = subprocess.run(
        [sys.executable, "-m", "lambdalab", "serve"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(tmp_path), "PATH": "/usr/bin:/bin"},
        timeout=30,
    )
    assert result.returncode == 2
    assert "pip install 'lambdalab[serve]'" in result.stderr


# --- a workshop: many learners at once, each session its own process, nothing left behind -------------
# (Linux: the processes are read from /proc)

MARKER = "LAMBDALAB_SERVE_TEST"


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, state) of every process."""
    found = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                fields = Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            found[int(entry)] = (int(fields[1]), fields[0])
    return found


def _below(pid: int) -> list[int]:
    """The live (not zombie) processes below pid."""
    processes, found, todo = _processes(), [], [pid]
    while todo:
        parent = todo.pop()
        children = [child for child, (ppid, state) in processes.items() if ppid == parent and state != "Z"]
        found += children
        todo += children
    return found


def _marked(marker: str) -> list[int]:
    """Processes started by one test's server, wherever they are now: they inherit its environment."""
    needle = f"{MARKER}={marker}".encode()
    found = []
    for pid, (_ppid, state) in _processes().items():
        try:
            if state != "Z" and needle in Path(f"/proc/{pid}/environ").read_bytes().split(b"\0"):
                found.append(pid)
        except OSError:
            pass
    return found


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def _wait_until(condition, timeout: float = 15.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@contextlib.contextmanager
def serving(*options: str, data: Path | None = None, environment: dict[str, str] | None = None, cwd: Path = REPO):
    """`lambdalab serve` on a free port with the join token TOKEN and its learners' data in `data` (a temporary
    folder if not given), `environment` added to its own, started in `cwd`, answering; yields (server, port,
    marker), and server.output holds what it has printed after its first line. A server the test stopped
    printed no traceback. Whatever happens, the server and anything it started are gone afterwards."""
    port, marker = free_port(), uuid.uuid4().hex
    scratch = tempfile.TemporaryDirectory(prefix="lambdalab-serve-test-")
    folder = data or Path(scratch.name)
    server = subprocess.Popen(
        [sys.executable, "-m", "lambdalab", "serve", "--host", "127.0.0.1", "--port", str(port), "--token", TOKEN]
        + ["--data", str(folder), *options],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, **(environment or {}), MARKER: marker},
    )
    output: list[str] = []  # read all along, so that the server never blocks on a full pipe
    server.output = output  # type: ignore[attr-defined]  (what it printed after its first line, for tests)
    reader = threading.Thread(target=lambda: output.extend(server.stdout), daemon=True)
    try:
        assert "Serving lambdalab at" in server.stdout.readline()
        reader.start()
        assert _wait_until(lambda: _answers(port)), "the server never answered"
        try:
            yield server, port, marker
        except BaseException:
            print("".join(output)[-4000:])  # what the server said: pytest shows it with the failure
            raise
        if server.poll() is not None:
            reader.join(timeout=10)
            assert "Traceback" not in "".join(output), "".join(output)[-5000:]
    finally:
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        server.wait(timeout=10)
        for pid in _marked(marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        scratch.cleanup()


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/?token={TOKEN}", timeout=2):
            return True
    except OSError:
        return False


async def _course_map(ws: aiohttp.ClientWebSocketResponse, timeout: float = 60.0) -> str:
    received = ""
    deadline = time.monotonic() + timeout
    while "Course map" not in received and time.monotonic() < deadline:
        message = await ws.receive(timeout=max(0.01, deadline - time.monotonic()))
        if message.type == aiohttp.WSMsgType.BINARY:
            received += message.data.decode("utf-8", "replace")
        elif message.type != aiohttp.WSMsgType.TEXT:
            break
    return received


@contextlib.asynccontextmanager
async def sessions(port: int, count: int, prefix: str = "learner"):
    """`count` browsers (learners prefix-1, prefix-2, ...) opening the app at the same moment; yields what each
    received up to its course map."""
    async with contextlib.AsyncExitStack() as stack:
        client = await stack.enter_async_context(aiohttp.ClientSession())
        sockets = [
            await stack.enter_async_context(client.ws_connect(ws_url(port, f"{prefix}-{n}")))
            for n in range(1, count + 1)
        ]
        yield await asyncio.gather(*(_course_map(ws) for ws in sockets))


def _parent(pid: int) -> int:
    return _processes().get(pid, (0, ""))[0]


def _alive(pid: int) -> bool:
    """The process exists and is not a zombie (exited, not yet reaped)."""
    return _processes().get(pid, (0, "Z"))[1] != "Z"


def _preloaded(server_pid: int) -> list[int]:
    return [
        pid for pid in _below(server_pid) if _parent(pid) == server_pid and "lambdalab.serving.zygote" in _command(pid)
    ]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_a_room_of_learners_each_get_the_course_map_from_a_process_of_their_own():
    with serving() as (server, port, _marker):

        async def room() -> None:
            async with sessions(port, 6) as screens:
                assert all("Course map" in screen for screen in screens)
                # Each session is a process of its own, forked from the preloaded one (a child of the server).
                preloaded = _preloaded(server.pid)
                assert len(preloaded) == 1
                assert len(_below(preloaded[0])) == 6

        asyncio.run(room())


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
@pytest.mark.parametrize("options", [(), ("--no-preload",)], ids=["preloaded", "fresh"])
def test_a_session_ends_when_its_browser_closes(options):
    with serving(*options) as (server, port, _marker):

        async def visit() -> list[int]:
            before = set(_below(server.pid))
            async with sessions(port, 1) as screens:
                assert "Course map" in screens[0]
                session = [pid for pid in _below(server.pid) if pid not in before]
                assert session
            return session

        session = asyncio.run(visit())
        assert _wait_until(lambda: not any(_alive(pid) for pid in session)), [_command(pid) for pid in session]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM, signal.SIGKILL], ids=["ctrl-c", "sigterm", "sigkill"])
def test_stopping_the_server_leaves_no_process_behind(stop):
    with serving() as (server, port, marker):

        async def room_then_stop() -> None:
            async with sessions(port, 3) as screens:
                assert all("Course map" in screen for screen in screens)
                assert len(_marked(marker)) >= 5  # the server, the preloaded process, three sessions
                server.send_signal(stop)  # even killed outright, its preloaded process ends the sessions
                await asyncio.to_thread(server.wait, 30)  # the browsers meanwhile answer the server's goodbyes

        asyncio.run(room_then_stop())
        assert _wait_until(lambda: not _marked(marker)), [_command(pid) for pid in _marked(marker)]


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
def test_sessions_still_start_when_the_preloaded_process_dies():
    with serving() as (server, port, _marker):
        os.kill(_preloaded(server.pid)[0], signal.SIGKILL)
        assert "Course map" in asyncio.run(screen_text(ws_url(port, "ada")))
        # and the server starts it again, for the sessions after
        assert _wait_until(lambda: _preloaded(server.pid))
        assert "Course map" in asyncio.run(screen_text(ws_url(port, "bob")))


# --- sessions take turns to start -----------------------------------------------------------------------


@contextlib.contextmanager
def stuck_learners(data: Path, count: int):
    """`count` learners whose sessions cannot draw their first screen: another program holds their progress
    file's lock (the app waits for it before its first screen). Yields their names; the locks go at the end."""
    import fcntl

    with contextlib.ExitStack() as stack:
        names = [f"stuck-{n}" for n in range(1, count + 1)]
        for name in names:
            folder = data / "learners" / name
            folder.mkdir(parents=True)
            lock = stack.enter_context(open(folder / "progress.json.lock", "a+b"))
            fcntl.flock(lock.fileno(), fcntl.LOCK_EX)
        yield names


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")
@pytest.mark.parametrize("stuck_ones", ["wait", "end"])
def test_sessions_take_turns_to_start_and_one_that_cannot_draw_holds_a_turn_only_briefly(tmp_path, stuck_ones):
    """As many sessions as the preloaded process lets start at once cannot draw; the next learner waits for a
    turn: until their START_TIMEOUT_S has passed, or until they end, whichever comes first."""
    from lambdalab.serving.zygote import START_TIMEOUT_S, STARTING_AT_ONCE

    with serving(data=tmp_path) as (server, port, _marker), stuck_learners(tmp_path, STARTING_AT_ONCE) as names:

        async def room() -> float:
            async with contextlib.AsyncExitStack() as stack:
                client = await stack.enter_async_context(aiohttp.ClientSession())
                for name in names:
                    await stack.enter_async_context(client.ws_connect(ws_url(port, name)))
                preloaded = _preloaded(server.pid)[0]
                assert await asyncio.to_thread(_wait_until, lambda: len(_below(preloaded)) >= STARTING_AT_ONCE)
                stuck = _below(preloaded)
                began = time.monotonic()
                ada = asyncio.create_task(screen_text(ws_url(port, "ada"), timeout=60))
                await asyncio.sleep(1.0)
                assert not ada.done()  # every turn is taken
                if stuck_ones == "end":
                    for pid in stuck:
                        os.kill(pid, signal.SIGKILL)
                assert "Course map" in await ada
                return time.monotonic() - began

        waited = asyncio.run(room())
        if stuck_ones == "wait":
            assert START_TIMEOUT_S - 1.5 < waited < START_TIMEOUT_S + 30
        else:
            assert waited < START_TIMEOUT_S - 1


def test_sessions_share_parsed_styles_and_still_follow_a_theme_change(tmp_path):
    """The preloaded process keeps every CSS parse for its sessions (zygote.share_parsed_styles): a second app
    finds them parsed, and a theme chosen from the palette still recolours it."""
    script = """
import asyncio, json, sys
from pathlib import Path
from lambdalab.serving.zygote import share_parsed_styles
share_parsed_styles()
from lambdalab.course.progress import ProgressStore
from lambdalab.tui.app import LambdalabApp

async def colours() -> tuple[str, str]:
    app = LambdalabApp(store=ProgressStore(Path(sys.argv[1])))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        before = app.screen.styles.background.hex
        app.theme = "lambdalab-high-contrast"
        await pilot.pause()
        return before, app.screen.styles.background.hex

print(json.dumps([asyncio.run(colours()) for _ in range(2)]))
"""
    result = subprocess.run(
        [sys.executable, "-c", script, str(tmp_path)], capture_output=True, text=True, timeout=120, cwd=REPO
    )
    assert result.returncode == 0, result.stderr[-3000:]
    first, second = json.loads(result.stdout.strip().splitlines()[-1])
    assert first == second == ["#161A1F", "#000000"]  # lambdalab's background, then high contrast's
