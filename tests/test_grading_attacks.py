"""Attacks on `lambdalab grade`, each as a student (or a broken submission) would try it, end to end through
the command an instructor types. Each asserts the credit given, what the instructor is told, and that no
process or file of the run is left behind. Run as root (as CI and Gradescope do), every isolation layer
is on; some attacks are also tried with `--isolation ""`, where only the layers every machine has remain
(private copies, signed results, every descendant ended)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from conftest import REPO

LAMBDALAB = Path(sys.executable).parent / "lambdalab"  # the console script, as an instructor runs it
PROXY = "01-proxy-response"
CONFIG = "05-config-from-environment"
SOLUTION = REPO / "exercises" / PROXY / "solution"
ROOT = os.geteuid() == 0


def start(path: Path) -> Path:
    assert subprocess.run([str(LAMBDALAB), "start", str(path)], capture_output=True).returncode == 0
    return path


def solve(workspace: Path, folder: str = PROXY) -> None:
    for path in (REPO / "exercises" / folder / "solution").glob("*.*"):
        shutil.copyfile(path, workspace / folder / path.name)


def grade(*args: str, cwd: Path | None = None, timeout: float = 180) -> subprocess.CompletedProcess:
    """`lambdalab grade ARGS`, and then the proof that the run left no process and no scratch file behind."""
    process = subprocess.Popen(
        [str(LAMBDALAB), "grade", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=cwd
    )
    out, err = process.communicate(timeout=timeout)
    assert scratch_of(process.pid) == []
    assert no_descendants_left()
    return subprocess.CompletedProcess(process.args, process.returncode, out, err)


def no_descendants_left(within: float = 5.0) -> bool:
    """This test process is a subreaper: whatever a grade run started and left behind, daemons included,
    would be re-parented to it. True once it has no descendant left."""
    deadline = time.monotonic() + within
    while True:
        parents = {}
        for entry in Path("/proc").iterdir():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split() if entry.name.isdigit() else []
            except (OSError, IndexError):
                continue
            if not fields:
                continue
            if fields[0] not in "ZX":
                parents[int(entry.name)] = int(fields[1])
            elif int(fields[1]) == os.getpid():
                os.waitpid(int(entry.name), os.WNOHANG)  # reap what was re-parented here and died
        mine = {pid for pid, parent in parents.items() if parent == os.getpid()}
        if not mine:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)


@pytest.fixture(autouse=True)
def _adopt_orphans():
    """Orphans of what a test starts come here, where no_descendants_left() sees them."""
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER


def graded(out: Path) -> dict[str, dict]:
    return {Path(w["workspace"]).name: w for w in json.loads((out / "grades.json").read_text())}


def leftovers(marker: str) -> list[str]:
    """Processes whose command line or environment holds `marker`."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            text = (entry / "cmdline").read_bytes() + (entry / "environ").read_bytes()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if marker.encode() in text and state not in "ZX":
            found.append(entry.name)
    return found


def scratch_of(pid: int) -> list[Path]:
    return [
        p
        for base in (Path("/var/tmp"), Path.home() / ".cache" / "lambdalab")
        if base.is_dir()
        for p in base.glob(f"lambdalab-grade-{pid}-*")
    ]


def wait_until_gone(marker: str, within: float = 5.0) -> list[str]:
    deadline = time.monotonic() + within
    while leftovers(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    return leftovers(marker)


def handler(body: str, marker: str = "") -> str:
    return f"# {marker}\n" + textwrap.dedent(body)


# --- answers from the course -------------------------------------------------------------------------


def test_a_link_to_the_shipped_solution_earns_nothing_and_says_why(tmp_path):
    ws = start(tmp_path / "subs" / "linker")
    (ws / PROXY / "app.py").unlink()
    (ws / PROXY / "app.py").symlink_to(SOLUTION / "app.py")
    result = grade(str(ws), "--exercise", "proxy-response", "--format", "json")
    assert result.returncode == 0, result.stderr
    exercise = json.loads(result.stdout)[0]["exercises"][0]
    assert exercise["score"] == 0 and exercise["status"] == "error"
    assert "outside the workspace" in exercise["message"] and "app.py" in exercise["message"]


GENERIC = '''
import glob, importlib.util, os, sys

def _find():
    """Look everywhere a solution could be: the course beside lambdalab, its package data, the processes above."""
    name = os.environ["AWS_LAMBDA_FUNCTION_NAME"]
    roots = set()
    try:
        import lambdalab
        package = os.path.dirname(lambdalab.__file__)
        roots |= {package, os.path.join(package, "_content"), os.path.dirname(package)}
    except ImportError:
        pass
    roots |= {os.path.join(p, "lambdalab", "_content") for p in sys.path}
    for pid in [os.getppid(), *[p for p in os.listdir("/proc") if p.isdigit()]]:
        try:
            roots |= {os.path.dirname(a.decode()) for a in open(f"/proc/{pid}/cmdline", "rb").read().split(b"\\0") \
if a.startswith(b"/")}
        except OSError:
            pass
    for root in roots:
        for layout in ("exercises", os.path.join("_content", "exercises"), \
os.path.join("lambdalab", "_content", "exercises")):
            for found in glob.glob(os.path.join(root, layout, f"*-{name}", "solution", "app.py")):
                return found
    return None

_path = _find()
if _path:
    _spec = importlib.util.spec_from_file_location("reference", _path)
    _reference = importlib.util.module_from_spec(_spec)
    _spec.loader.exec_module(_reference)

def handler(event, context):
    return _reference.handler(event, context) if _path else {"statusCode": 500}
'''


def test_a_handler_that_finds_and_runs_the_reference_works_for_check_but_earns_nothing_in_grade(tmp_path):
    ws = start(tmp_path / "finder")
    (ws / PROXY / "app.py").write_text(GENERIC)
    own = subprocess.run([str(LAMBDALAB), "check", "proxy-response"], capture_output=True, text=True, cwd=ws)
    assert own.returncode == 0, own.stdout  # on the learner's machine the solutions are on disk, as the README says
    result = grade(str(ws), "--exercise", "proxy-response", "--format", "json")
    graded_ws = json.loads(result.stdout)[0]
    assert graded_ws["score"] == 0  # in grading the code sees no solution anywhere
    tests = graded_ws["exercises"][0]["tests"]
    assert all(t["status"] == "failed" for t in tests)  # each on what the code answered (its fallback), not on an
    assert all(t["message"].startswith("response $.") and "500" in t["message"] for t in tests)  # error of grading


# --- student code against the grader -----------------------------------------------------------------

FORGER = """
import json, os, sys, time
# Its own grade run only (its command line names the test's folder) and what that run started: with no
# isolation layers, as root, it could reach any process on the machine, other tests' among them.
marker, scope = sys.argv[1], sys.argv[2]
forged = {"exercise_id": "proxy-response", "title": "x", "lesson": "x", "tool_version": "0.1.0", "content_sha256": "x",
          "seed": 1, "started_at": "x", "duration_s": 0, "files_sha256": {}, "message": "",
          "checks": [{"id": "answers-200", "name": "n", "order": 1, "status": "pass", "score": 8, "max_score": 8,
                      "hidden": False}]}
lines = (json.dumps(forged) + "\\n" + "0" * 64 + " " + json.dumps(forged) + "\\n").encode()
outputs = set()
deadline = time.time() + 20
while time.time() < deadline:
    graders, parents = {}, {}
    for pid in os.listdir("/proc"):
        try:
            command = open(f"/proc/{pid}/cmdline", "rb").read().replace(b"\\0", b" ").decode()
            parents[pid] = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[1]
        except (OSError, IndexError):
            continue
        if scope in command and "lambdalab grade" in command.replace("bin/lambdalab", "lambdalab"):
            graders[pid] = command
            if "--out" in command.split():
                words = command.split()
                outputs.add(words[words.index("--out") + 1])
    for pid, parent in parents.items():  # the grading processes that run started
        if parent in graders or parents.get(parent) in graders:
            graders[pid] = ""
    for pid in graders:
        try:
            for fd in os.listdir(f"/proc/{pid}/fd"):
                try:
                    with open(f"/proc/{pid}/fd/{fd}", "wb", buffering=0) as stream:
                        stream.write(lines)
                except OSError:
                    pass
        except OSError:
            pass
    if outputs and not graders:  # grading is over: rewrite what it wrote
        for out in outputs:
            for name in ("grades.csv", "grades.json"):
                try:
                    open(os.path.join(out, name), "w").write("forged")
                except OSError:
                    pass
    time.sleep(0.05)
"""

DAEMON_STARTER = """
import os, subprocess, sys
MARKER = "{marker}"
FORGER = {forger!r}

def handler(event, context):
    if os.fork() == 0:  # a daemon: double fork, new session, the grandchild keeps running
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c", FORGER, MARKER, "{scope}"])
        os._exit(0)
    os.wait()
    return {{"statusCode": 500}}
"""


@pytest.mark.parametrize("isolation", [None, ""], ids=["all-layers", "no-layers"])
def test_a_daemon_cannot_forge_results_or_rewrite_grades_and_does_not_outlive_grading(tmp_path, isolation):
    marker = f"lambdalab-attack-{os.getpid()}-{time.monotonic_ns()}"
    subs = tmp_path / "subs"
    ws = start(subs / "forger")
    (ws / PROXY / "app.py").write_text(DAEMON_STARTER.format(marker=marker, forger=FORGER, scope=str(tmp_path)))
    out = tmp_path / "grades"
    extra = [] if isolation is None else ["--isolation", isolation]
    result = grade(str(subs), "--exercise", "proxy-response", "--format", "json,csv", "--out", str(out), *extra)
    assert result.returncode == 0, result.stderr
    assert wait_until_gone(marker) == []  # the daemon ended with grading
    time.sleep(1.0)  # what a surviving daemon would need to rewrite the outputs
    grades = graded(out)
    assert grades["forger"]["score"] == 0
    assert "forged" not in (out / "grades.csv").read_text()
    if grades["forger"]["alerts"]:  # where the code could reach the channel, its lines were refused, and said
        assert "not written by the grader" in grades["forger"]["alerts"][0]


def test_student_code_cannot_change_a_classmates_work(tmp_path):
    subs = tmp_path / "subs"
    victim = start(subs / "victim")
    solve(victim)
    attacker = start(subs / "attacker")  # graded first: names sort before
    target = victim / PROXY / "app.py"
    (attacker / PROXY / "app.py").write_text(
        handler(f"""
        def handler(event, context):
            for path in ({str(target)!r}, "../../victim/{PROXY}/app.py"):
                try:
                    open(path, "w").write("def handler(event, context):\\n    return None\\n")
                except OSError:
                    pass
            return {{"statusCode": 500}}
        """)
    )
    before = target.read_text()
    out = tmp_path / "grades"
    result = grade(str(subs), "--exercise", "proxy-response", "--format", "json", "--out", str(out), "--jobs", "1")
    assert result.returncode == 0, result.stderr
    grades = graded(out)
    assert grades["victim"]["score"] == 8 and grades["attacker"]["score"] == 0
    assert target.read_text() == before


def test_a_lambdalab_package_in_the_submission_does_not_replace_the_grader(tmp_path):
    ws = start(tmp_path / "repo")  # a GitHub Classroom repository, graded from its root
    fake = ws / "lambdalab"
    (fake / "grading").mkdir(parents=True)
    (fake / "__init__.py").write_text("__version__ = '0.1.0'\nprint('FAKE LAMBDALAB')\n")
    (fake / "grading" / "__init__.py").write_text("")
    (fake / "grading" / "one.py").write_text("print('FAKE GRADER')\nraise SystemExit(0)\n")
    result = grade(".", "--exercise", "proxy-response", "--format", "json", cwd=ws)
    assert "FAKE" not in result.stdout + result.stderr
    graded_ws = json.loads(result.stdout)[0]
    assert graded_ws["score"] == 0 and graded_ws["exercises"][0]["status"] == "failed"  # the starter, graded for real


# --- failures stay local and honest ------------------------------------------------------------------


def test_a_symbolic_link_loop_zeroes_its_exercise_alone(tmp_path):
    ws = start(tmp_path / "looper")
    solve(ws, CONFIG)
    (ws / PROXY / "here").symlink_to(ws / PROXY)  # a folder that contains itself
    (ws / PROXY / "a.py").symlink_to(ws / PROXY / "b.py")
    (ws / PROXY / "b.py").symlink_to(ws / PROXY / "a.py")
    result = grade(str(ws), "--exercise", "proxy-response", "--exercise", "config-from-environment", "--format", "json")
    exercises = {e["id"]: e for e in json.loads(result.stdout)[0]["exercises"]}
    assert exercises["proxy-response"]["score"] == 0 and "loop" in exercises["proxy-response"]["message"]
    assert exercises["config-from-environment"]["score"] == exercises["config-from-environment"]["max_score"]


def test_folders_too_deep_or_unreadable_zero_their_exercise_alone(tmp_path):
    ws = start(tmp_path / "burrower")
    solve(ws, CONFIG)
    deep = ws / PROXY
    for _ in range(200):
        deep = deep / "d"
    deep.mkdir(parents=True)
    result = grade(str(ws), "--exercise", "proxy-response", "--exercise", "config-from-environment", "--format", "json")
    exercises = {e["id"]: e for e in json.loads(result.stdout)[0]["exercises"]}
    assert exercises["proxy-response"]["score"] == 0 and "more than 64 deep" in exercises["proxy-response"]["message"]
    assert exercises["config-from-environment"]["score"] == exercises["config-from-environment"]["max_score"]


def test_a_handler_that_replaces_json_breaks_its_own_exercise_only(tmp_path):
    ws = start(tmp_path / "patcher")
    solve(ws, CONFIG)
    (ws / PROXY / "app.py").write_text(
        handler("""
        import json
        json.dumps = lambda *args, **kwargs: "not json at all"
        json.loads = lambda *args, **kwargs: {}
        def handler(event, context):
            return {"statusCode": 200}
        """)
    )
    result = grade(str(ws), "--exercise", "proxy-response", "--exercise", "config-from-environment", "--format", "json")
    exercises = {e["id"]: e for e in json.loads(result.stdout)[0]["exercises"]}
    assert exercises["proxy-response"]["score"] == 0
    messages = " ".join(t["message"] for t in exercises["proxy-response"]["tests"])
    assert "json module" in messages
    assert exercises["config-from-environment"]["score"] == exercises["config-from-environment"]["max_score"]


def _child_of(parent: int, within: float = 20) -> int:
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        for entry in Path("/proc").iterdir():
            try:
                if (
                    entry.name.isdigit()
                    and int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1]) == parent
                    and b"-m\0lambdalab.grading.one" in (entry / "cmdline").read_bytes()
                ):
                    return int(entry.name)
            except OSError:
                continue
        time.sleep(0.05)
    raise AssertionError("no grading process started")


SLEEPER = "import time\ndef handler(event, context):\n    time.sleep(2.5)\n    return {}\n"


def test_a_killed_grading_process_is_reported_as_killed_not_as_a_time_limit(tmp_path):
    ws = start(tmp_path / "slow")
    (ws / PROXY / "app.py").write_text(SLEEPER)
    grader = subprocess.Popen(
        [str(LAMBDALAB), "grade", str(ws), "--exercise", "proxy-response", "--format", "json", "--time-limit", "60s"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    child = _child_of(grader.pid)
    time.sleep(0.5)
    os.kill(child, signal.SIGKILL)
    out, _ = grader.communicate(timeout=60)
    message = json.loads(out)[0]["message"]
    assert "killed by SIGKILL" in message and "before its time limit" in message and "60 s time limit" not in message
    assert scratch_of(grader.pid) == [] and no_descendants_left()


def test_a_time_limit_leaves_no_process_and_no_file(tmp_path):
    ws = start(tmp_path / "spinner")
    (ws / PROXY / "app.py").write_text("def handler(event, context):\n    while True:\n        pass\n")
    started = time.monotonic()
    grader = subprocess.Popen(
        [str(LAMBDALAB), "grade", str(ws), "--exercise", "proxy-response", "--format", "json", "--time-limit", "2s"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    out, _ = grader.communicate(timeout=60)
    assert time.monotonic() - started < 20
    graded_ws = json.loads(out)[0]
    assert graded_ws["score"] == 0 and "2 s time limit" in graded_ws["message"], out
    assert scratch_of(grader.pid) == []
    assert no_descendants_left()


def test_a_killed_grade_keeps_what_it_finished_leaves_nothing_running_and_resumes(tmp_path):
    subs = tmp_path / "subs"
    for name in ("a-done", "b-slow", "c-later"):
        start(subs / name)
    solve(subs / "a-done")
    solve(subs / "c-later")
    (subs / "b-slow" / PROXY / "app.py").write_text(SLEEPER)
    out = tmp_path / "grades"
    command = [
        str(LAMBDALAB),
        "grade",
        str(subs),
        "--exercise",
        "proxy-response",
        "--format",
        "json,csv",
        "--out",
        str(out),
        "--jobs",
        "1",
    ]
    grader = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    kept = out / ".lambdalab-graded" / "a-done.json"
    deadline = time.monotonic() + 60
    while not kept.exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert kept.exists()
    os.kill(grader.pid, signal.SIGKILL)
    grader.wait()
    assert no_descendants_left()
    assert not (out / "grades.json").exists()

    again = subprocess.run([*command, "--resume"], capture_output=True, text=True, timeout=180)
    assert again.returncode == 0, again.stderr
    assert "a-done: 8/8 (kept)" in again.stderr and "b-slow: 0/8\n" in again.stderr
    assert {n: g["score"] for n, g in graded(out).items()} == {"a-done": 8, "b-slow": 0, "c-later": 8}
    assert scratch_of(grader.pid) == []  # the killed run's scratch folder went with the next run


def test_an_interrupted_grade_says_how_to_resume(tmp_path):
    subs = tmp_path / "subs"
    for name in ("a-done", "b-slow"):
        start(subs / name)
    solve(subs / "a-done")
    (subs / "b-slow" / PROXY / "app.py").write_text(SLEEPER)
    out = tmp_path / "grades"
    grader = subprocess.Popen(
        [
            str(LAMBDALAB),
            "grade",
            str(subs),
            "--exercise",
            "proxy-response",
            "--format",
            "json",
            "--out",
            str(out),
            "--jobs",
            "1",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    while not (out / ".lambdalab-graded" / "a-done.json").exists():
        time.sleep(0.05)
    grader.send_signal(signal.SIGTERM)
    _, err = grader.communicate(timeout=60)
    assert grader.returncode == 130
    assert "1 graded submission(s) are kept" in err and "--resume" in err
    assert no_descendants_left()
    assert scratch_of(grader.pid) == []


@pytest.mark.skipif(not ROOT, reason="a user per submission needs root; the no-layers runs above cover the rest")
def test_student_code_runs_as_its_own_user_in_a_view_of_its_own(tmp_path):
    subs = tmp_path / "subs"
    ws = start(subs / "looker")
    key = tmp_path / "key"
    assert (
        subprocess.run([str(LAMBDALAB), "classroom", "init", str(key), "--exercise", "proxy-response"]).returncode == 0
    )
    (ws / PROXY / "app.py").write_text(
        handler(f"""
        import json, os
        def handler(event, context):
            print("SEEN", json.dumps({{"uid": os.getuid(), "root": sorted(os.listdir("/")),
                                      "submissions": os.path.exists({str(subs)!r}),
                                      "course": os.path.exists({str(REPO / "exercises")!r}),
                                      "key": os.path.exists({str(key)!r}),
                                      "processes": [p for p in os.listdir("/proc") if p.isdigit()]}}))
            return {{}}
        """)
    )
    out = tmp_path / "grades"
    result = grade(str(subs), "--exercise", "proxy-response", "--format", "json", "--out", str(out), "--key", str(key))
    assert "with pid-namespace, view, user." in result.stderr
    output = graded(out)["looker"]["exercises"][0]["tests"][0]["output"]
    seen = json.loads(output.split("SEEN ", 1)[1].splitlines()[0])
    assert seen["uid"] >= 1_900_000_000 and seen["uid"] != os.getuid()
    assert not seen["submissions"] and not seen["course"] and not seen["key"]
    installed = {Path(p).resolve().parts[1] for p in (REPO, sys.prefix, sys.base_prefix)}  # the package and Python
    assert (
        set(seen["root"])
        <= {"bin", "dev", "etc", "lib", "lib32", "lib64", "libx32", "proc", "sbin", "tmp", "usr", "var", "opt"}
        | installed
    )
    assert len(seen["processes"]) < 10  # its own PID namespace: the grader and this submission's environments


PEEKER = """
import os
def handler(event, context):
    seen = b""
    for pid in [p for p in os.listdir("/proc") if p.isdigit()] + ["self"]:
        for name in ("environ", "cmdline"):
            try:
                seen += open(f"/proc/{pid}/{name}", "rb").read()
            except OSError:
                pass
    if b"lambdalab-key:" not in seen:
        return {"statusCode": 500}
    return {"statusCode": 200, "headers": {"Content-Type": "application/json"}, "body": '{"photo": "p-1001"}'}
"""


def test_a_packed_key_in_the_environment_never_reaches_student_code(tmp_path):
    """Without a user of its own, code can read its own process's first environment: the grader never
    passes the instructor's on (LAMBDALAB_KEY may hold the whole key, as in GitHub Classroom)."""
    key = tmp_path / "key"
    assert (
        subprocess.run([str(LAMBDALAB), "classroom", "init", str(key), "--exercise", "proxy-response"]).returncode == 0
    )
    packed = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from pathlib import Path; from lambdalab.grading."
            "answer_key import pack_key; print(pack_key(Path(sys.argv[1])))",
            str(key),
        ],
        capture_output=True,
        text=True,
    ).stdout.strip()
    ws = start(tmp_path / "peeker")
    (ws / PROXY / "app.py").write_text(PEEKER)
    result = subprocess.run(
        [
            str(LAMBDALAB),
            "grade",
            str(ws),
            "--exercise",
            "proxy-response",
            "--format",
            "json",
            "--isolation",
            "pid-namespace,view",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "LAMBDALAB_KEY": packed},
    )
    tests = json.loads(result.stdout)[0]["exercises"][0]["tests"]
    assert next(t for t in tests if t["name"].startswith("answers 200"))["status"] == "failed"


@pytest.mark.parametrize("isolation", [None, ""], ids=["all-layers", "no-layers"])
def test_student_code_holds_no_capability_and_cannot_gain_one(tmp_path, isolation):
    ws = start(tmp_path / "subs" / "climber")
    (ws / PROXY / "app.py").write_text(
        handler("""
        def handler(event, context):
            status = dict(line.split(":", 1) for line in open("/proc/self/status") if ":" in line)
            print("SEEN", status["CapEff"].strip(), status["NoNewPrivs"].strip())
            return {}
        """)
    )
    out = tmp_path / "grades"
    extra = [] if isolation is None else ["--isolation", isolation]
    grade(str(tmp_path / "subs"), "--exercise", "proxy-response", "--format", "json", "--out", str(out), *extra)
    output = graded(out)["climber"]["exercises"][0]["tests"][0]["output"]
    assert output.split("SEEN ", 1)[1].split()[:2] == ["0000000000000000", "1"]


FORK_SERVER_ATTACK = '''
import os, signal

def handler(event, context):
    """Everything a worker forked from a fork server (a durable function's) might try on that server."""
    server, got = os.getppid(), []
    fds = f"/proc/{server}/fd"
    for attempt in (
        lambda: os.kill(server, signal.SIGKILL),
        lambda: os.killpg(os.getpgid(server), signal.SIGKILL),
        lambda: [open(f"{fds}/{n}", "wb", buffering=0).write(b"0") for n in os.listdir(fds)],
        lambda: open(f"/proc/{server}/environ", "rb").read(),
    ):
        try:
            attempt()
            got.append("done")
        except Exception as exc:
            got.append(type(exc).__name__)
    return {"server": server, "got": got}
'''


@pytest.mark.skipif(not ROOT, reason="a user per submission needs root; the no-layers runs above cover the rest")
def test_a_forked_worker_cannot_touch_the_fork_server_it_came_from(tmp_path):
    """A durable function's workers fork from a fork server that runs as the grader: shut in as a graded
    submission's code is, a worker can neither kill it, nor its process group, nor write to its descriptors
    (other workers' exit codes), nor read its environment."""
    from lambdalab.grading.isolation import Isolation
    from lambdalab.grading.users import claimed_user
    from lambdalab.runtime import ExecutionEnvironment, FunctionCode
    from lambdalab.runtime.confinement import current, set_confinement

    (tmp_path / "app.py").write_text(FORK_SERVER_ATTACK)
    code = FunctionCode("attacker", tmp_path, "app.handler", timeout_s=10, preload=("colorsys",))
    before = current()
    with claimed_user() as uid:
        set_confinement(Isolation(view=True, user=True).confinement(uid, ()))
        try:
            with ExecutionEnvironment(code) as first:
                attacked = first.invoke({}, "r1").response
            with ExecutionEnvironment(code, 2) as second:
                after = second.invoke({}, "r2").response
        finally:
            set_confinement(before)
    signals, files = attacked["got"][:2], attacked["got"][2:]
    assert signals == ["PermissionError"] * 2
    # Its /proc entries: refused, or, where /proc hides other users' processes (hidepid), not there at all.
    assert len(files) == 2 and set(files) <= {"PermissionError", "FileNotFoundError"}
    assert after["server"] == attacked["server"]  # the same fork server, alive, forked the next worker


@pytest.mark.skipif(not ROOT, reason="a user per submission needs root")
def test_the_user_layer_alone_is_offered_only_where_that_user_can_run_python():
    """Without a view, code running as a submission's user reads the interpreter's own folders: where one of them
    is closed to other users (a Python under /root, mode 0700), the probe says the layer does not work here, rather
    than grading every submission as broken code."""
    from lambdalab.grading.isolation import probe

    folders = [Path(sys.base_prefix), *Path(sys.base_prefix).parents]
    closed = any(not folder.stat().st_mode & 0o001 for folder in folders)
    assert probe(("user",)).user is not closed
    assert probe(("view", "user")).user  # with a view, the interpreter is bound in for that user
