"""Learners' code under `lambdalab serve` (issue 19, item 4): a learner's check runs shut in as a graded one.

Each test starts a learner's session the way `serve` does, in a process of its own: the server's choice of
layers (containment.choose, as `serve` makes it at its start), then the session's start (containment.contain,
what zygote.py and learner.py run before the app) in the learner's folder of a room's data folder, with a fake
HOME standing for the instructor's; then a real check of that learner's workspace, as the app's exercise
screen runs it (grade_exercise). The handler is the reference solution plus an attack: it must still pass
(the isolation does not break legitimate code) and its attack must get nothing and leave nothing."""

from __future__ import annotations

import asyncio
import glob
import json
import os
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import aiohttp
import pytest
from conftest import REPO

PROXY = "01-proxy-response"
SOLUTION = (REPO / "exercises" / PROXY / "solution" / "app.py").read_text()
LINUX = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")

SESSION = """
import json, sys, time
from pathlib import Path
from lambdalab.commands import exercise_named
from lambdalab.grading.grader import grade_exercise
from lambdalab.serving.containment import choose, contain

layers = choose()  # the server's start
contain(Path.cwd())  # the session's start, in the learner's folder
exercise = exercise_named("proxy-response")
started = time.monotonic()
result = grade_exercise(exercise, Path.cwd() / "lambdalab-exercises" / exercise.folder.name)
print(json.dumps({"layers": layers, "seconds": time.monotonic() - started, "result": result.to_dict()}))
"""


def room(tmp_path: Path) -> tuple[Path, Path, Path]:
    """A room's data folder with two learners, ada and bob (each a workspace, as `serve` makes them), and a
    fake HOME for the instructor with a file in it. Returns (data, home, bob's secret file)."""
    data, home = tmp_path / "data", tmp_path / "instructor"
    home.mkdir()
    (home / "notes.txt").write_text("INSTRUCTOR-SECRET\n")
    from lambdalab.serving.room import Room

    for name in ("ada", "bob"):
        Room(token="t" * 12, data=data).prepare(name)
    secret = data / "learners" / "bob" / "lambdalab-exercises" / PROXY / "app.py"
    secret.write_text("# BOB-SECRET\n" + SOLUTION)
    return data, home, secret


def session_check(data: Path, home: Path, learner: str, code: str, marker: str = "") -> dict:
    """`learner`'s handler set to `code`, checked in a session started as `serve` starts one."""
    folder = data / "learners" / learner
    (folder / "lambdalab-exercises" / PROXY / "app.py").write_text(code)
    environment = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "LAMBDALAB_HOME": str(folder),
        "LAMBDALAB_LEARNER": learner,
        "PYTHONPATH": str(REPO),
        "LAMBDALAB_TEST_MARKER": marker,
    }
    done = subprocess.run(
        [sys.executable, "-c", SESSION], cwd=folder, env=environment, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.splitlines()[-1])


def seen(outcome: dict) -> dict:
    output = "".join(check["output"] for check in outcome["result"]["checks"])
    return json.loads(output.split("SEEN ", 1)[1].splitlines()[0])


def alive_with(marker: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
                if marker.encode() in (entry / "cmdline").read_bytes() and state not in "ZX":
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


SNOOP = """
import json, os
_TARGETS = {targets!r}

def _look():
    found = {{}}
    for name, path in _TARGETS.items():
        try:
            found[name] = "read: " + open(path).read()[:40]
        except OSError as exc:
            found[name] = type(exc).__name__
        try:
            open(path, "a").write("# changed by ada\\n")
            found[name + "-write"] = "written"
        except OSError as exc:
            found[name + "-write"] = type(exc).__name__
    found["uid"] = os.getuid()
    return found

_SEEN = _look()
print("SEEN", json.dumps(_SEEN))
"""


@LINUX
def test_a_learners_code_cannot_read_or_change_another_learners_work_or_the_instructors_home(tmp_path):
    data, home, secret = room(tmp_path)
    before = secret.read_text()
    targets = {
        "bob": str(secret),
        "bob-relative": f"../../../../bob/lambdalab-exercises/{PROXY}/app.py",  # from ada's exercise folder
        "bob-progress": str(data / "learners" / "bob"),
        "home": str(home / "notes.txt"),
    }
    outcome = session_check(data, home, "ada", SNOOP.format(targets=targets) + SOLUTION)
    got = seen(outcome)
    assert not any(str(value).startswith(("read", "written")) for value in got.values()), got
    assert secret.read_text() == before and (home / "notes.txt").read_text() == "INSTRUCTOR-SECRET\n"
    # ... and the same handler passes its check: the isolation does not break legitimate code.
    assert outcome["result"]["status"] == "pass", outcome["result"]
    if os.geteuid() == 0:
        assert outcome["layers"] == ["view", "user"]
        assert got["uid"] >= 1_900_000_000


DAEMON = """
import os, sys, time
MARKER = {marker!r}

def _leave_a_daemon():
    if os.fork() == 0:  # double fork, a new session: the grandchild is re-parented away and keeps running
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", MARKER])
        os._exit(0)
    os.wait()
"""


@LINUX
@pytest.mark.skipif(os.geteuid() != 0, reason="a user per session (which finds a daemon after a check) needs root")
def test_a_daemon_a_learners_handler_leaves_is_ended_with_its_check(tmp_path):
    data, home, _secret = room(tmp_path)
    marker = f"lambdalab-serve-daemon-{os.getpid()}-{time.monotonic_ns()}"
    code = DAEMON.format(marker=marker) + SOLUTION.replace(
        "def handler(event, context):\n", "def handler(event, context):\n    _leave_a_daemon()\n"
    )
    outcome = session_check(data, home, "ada", code, marker)
    assert outcome["result"]["status"] == "pass", outcome["result"]
    deadline = time.monotonic() + 5
    while alive_with(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert alive_with(marker) == []


def test_the_app_outside_serve_is_left_as_it_was(tmp_path):
    """No LAMBDALAB_ISOLATION (a learner's own `lambdalab`): contain() changes nothing."""
    script = textwrap.dedent("""
        import os
        from pathlib import Path
        from lambdalab.runtime.confinement import Confinement, current
        from lambdalab.serving.containment import contain
        os.environ.pop("LAMBDALAB_ISOLATION", None)
        contain(Path.cwd())
        assert current() == Confinement(), current()
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


BROWSER_ATTACK = """
import os, sys
MARKER = {marker!r}
_TARGETS = {targets!r}
_ZYGOTES = {zygotes!r}

def _got_something():
    for path in _TARGETS:
        for mode in ("r", "a"):
            try:
                with open(path, mode) as file:
                    file.read() if mode == "r" else file.write("# changed by ada\\n")
                return True
            except OSError:
                pass
    return _reached_the_preloaded_process() or _sees_processes_of_others()

def _sees_processes_of_others():
    # The room's processes: the server, the preloaded process, other learners' sessions and their checks.
    for entry in os.listdir("/proc"):
        try:
            if entry.isdigit() and os.stat("/proc/" + entry).st_uid != os.getuid():
                return True
        except OSError:
            pass
    return False

def _reached_the_preloaded_process():
    # Its socket forks an app for whoever asks, with the environment asked for: another learner's LAMBDALAB_HOME.
    import glob, socket
    for path in glob.glob(_ZYGOTES):
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
            try:
                probe.connect(path)
                return True
            except OSError:
                pass
    return False

def _leave_a_daemon():
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", MARKER])
        os._exit(0)
    os.wait()
"""
BROWSER_HANDLER = """
_solution = handler

def handler(event, context):
    _leave_a_daemon()
    if _got_something():  # anything read or written outside its own copy fails the check
        return {"statusCode": 500, "body": "got something"}
    return _solution(event, context)
"""


@LINUX
@pytest.mark.skipif(os.geteuid() != 0, reason="a user per session (which finds a daemon after a check) needs root")
def test_in_a_browser_session_a_check_gets_nothing_of_others_and_leaves_nothing_running(tmp_path):
    """Through `lambdalab serve`, as a learner in a browser: ada's handler tries bob's workspace, the
    instructor's home (a fake HOME the server runs with) and the preloaded process's socket (which forks an app
    for whoever asks), lists the room's processes, and leaves a daemon; her check in the app passes (the
    handler only passes when it got nothing), nothing it touched changed, and the daemon is gone once the check
    is done, while her session goes on."""
    from test_serve import serving
    from test_serve_room import F5, browser, progress

    data, home, secret = room(tmp_path)
    before = secret.read_text()
    marker = f"lambdalab-serve-daemon-{os.getpid()}-{time.monotonic_ns()}"
    targets = [str(secret), str(data / "learners" / "bob" / "progress.json"), str(home / "notes.txt")]
    (data / "learners" / "bob" / "progress.json").write_text("{}")
    zygotes = os.path.join(tempfile.gettempdir(), "lambdalab-serve-*", "zygote.sock")  # where serve puts it
    code = BROWSER_ATTACK.format(marker=marker, targets=targets, zygotes=zygotes) + SOLUTION + BROWSER_HANDLER
    (data / "learners" / "ada" / "lambdalab-exercises" / PROXY / "app.py").write_text(code)
    try:
        # Started in the instructor's home, as `cd && lambdalab serve` would be.
        with serving(data=data, environment={"HOME": str(home)}, cwd=home) as (_server, port, _marker):

            async def ada() -> None:
                assert glob.glob(zygotes)  # there, for the attack to try
                async with aiohttp.ClientSession() as client, browser(client, port, "ada") as page:
                    await page.press(F5, "Press c to check")
                    await page.press("c", "Check")
                    deadline = time.monotonic() + 60
                    while "proxy-response" not in progress(data, "ada").get("exercises", {}):
                        assert time.monotonic() < deadline, "the check never finished"
                        await asyncio.sleep(0.2)
                    assert alive_with(marker) == []  # gone with the check, while the session goes on

            asyncio.run(ada())
        assert progress(data, "ada")["exercises"]["proxy-response"]["passed"] is True
        assert secret.read_text() == before
        assert (home / "notes.txt").read_text() == "INSTRUCTOR-SECRET\n"
        assert (data / "learners" / "bob" / "progress.json").read_text() == "{}"
    finally:
        for pid in alive_with(marker):
            os.kill(pid, 9)


CLAIMER = """
import os, sys, time
from lambdalab.grading.users import claimed_user
with claimed_user() as uid:
    if os.fork() == 0:  # a process of the claimed user, as a learner's daemon would be
        os.setsid()
        os.setgroups([]); os.setresgid(uid, uid, uid); os.setresuid(uid, uid, uid)
        os.execv(sys.executable, [sys.executable, "-c", "import time; time.sleep(60)", sys.argv[1]])
    print(uid, flush=True)
    time.sleep(60)
"""


@LINUX
@pytest.mark.skipif(os.geteuid() != 0, reason="users per session need root")
def test_what_a_session_killed_outright_left_running_ends_when_the_server_stops_its_sessions(tmp_path):
    """A session killed with SIGKILL has no time to end its user's processes; the zygote, stopping, ends the
    processes of every user no session claims any more (users.end_unclaimed), and spares a claimed one's."""
    from lambdalab.grading.users import end_unclaimed

    marker = f"lambdalab-unclaimed-{os.getpid()}-{time.monotonic_ns()}"
    claimer = subprocess.Popen(
        [sys.executable, "-c", CLAIMER, marker],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(REPO)},
    )
    try:
        claimer.stdout.readline()
        assert alive_with(marker)
        end_unclaimed()
        assert alive_with(marker)  # claimed: spared
        claimer.kill()
        claimer.wait()
        end_unclaimed()
        assert alive_with(marker) == []
    finally:
        claimer.kill()
        claimer.wait()
        for pid in alive_with(marker):
            os.kill(pid, 9)


RUN = """
import sys, time
from pathlib import Path
from lambdalab.serving.containment import choose, contain
from lambdalab.inputs import load_yaml
from lambdalab.tui.knobs import scenario_from
from lambdalab.tui.live_run import LiveRun

choose()
contain(Path.cwd())
path = Path(sys.argv[1])
run = LiveRun(scenario_from(load_yaml(path).data, str(path)))
run.advance_to(5.0)
print("RAN", flush=True)
time.sleep(0.5)
run.close()
print("CLOSED", flush=True)
sys.stdin.readline()  # the session goes on until the test has looked
"""


@LINUX
@pytest.mark.skipif(os.geteuid() != 0, reason="a user per session (which finds a daemon after a run) needs root")
def test_a_daemon_real_code_leaves_in_a_simulator_run_ends_with_the_run(tmp_path):
    """The simulator's runs of real code (the app's other way to run a learner's code) are shut in too, and a
    daemon their handler leaves ends when the run is closed, while the session goes on."""
    data, home, _secret = room(tmp_path)
    marker = f"lambdalab-serve-run-daemon-{os.getpid()}-{time.monotonic_ns()}"
    code = tmp_path / "code"
    code.mkdir()
    (code / "app.py").write_text(DAEMON.format(marker=marker) + "def handler(event, context):\n    _leave_a_daemon()\n")
    scenario = tmp_path / "run.yaml"
    scenario.write_text(
        f"name: a daemon\nduration: 5s\nfunctions:\n  leaver:\n    code: {code}\n    handler: app.handler\n"
        "traffic:\n  - {target: leaver, rate: 1/s, for: 2s}\n"
    )
    folder = data / "learners" / "ada"
    session = subprocess.Popen(
        [sys.executable, "-c", RUN, str(scenario)],
        cwd=folder,
        env={
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(home),
            "LAMBDALAB_HOME": str(folder),
            "PYTHONPATH": str(REPO),
        },
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert session.stdout.readline() == "RAN\n", session.stderr.read()
        assert alive_with(marker)  # the handler did leave a daemon (ran as the session's user)
        assert session.stdout.readline() == "CLOSED\n"
        assert alive_with(marker) == []  # gone with the run, the session still alive
        assert session.poll() is None
    finally:
        session.kill()
        session.wait()
        for pid in alive_with(marker):
            os.kill(pid, 9)
