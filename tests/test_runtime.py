"""Real handlers in worker processes: Init once, warm reuse, the context, AWS's failures, and no process left behind.

Every test runs twice: with workers started from scratch, and with workers forked from a fork server that
preloaded a module (what a durable function's environments do with AWS's SDK): both must behave alike."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from lambdalab.runtime import ExecutionEnvironment, FunctionCode, forked
from lambdalab.runtime.environment import _live_members

HANDLERS = Path(__file__).parent / "handlers"
PRELOAD = "colorsys"  # a module no worker imports by itself
STARTS = {"started": (), "forked": (PRELOAD,)}
preload: tuple[str, ...] = ()  # set for each test by `start`


@pytest.fixture(autouse=True, params=list(STARTS))
def start(request, monkeypatch):
    """How this test's workers start: from scratch, or forked from a fork server."""
    if request.param == "forked" and not forked.available():
        pytest.skip("fork servers need Linux pidfds")
    monkeypatch.setattr(sys.modules[__name__], "preload", STARTS[request.param])
    return request.param


def code(handler: str, **settings) -> FunctionCode:
    return FunctionCode(name="orders", code_dir=HANDLERS, handler=handler, preload=preload, **settings)


def state(pid: int) -> str:
    """The process's state letter (R running, S sleeping, Z zombie, ...); "X" when there is no such process."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "X"


def cpu_seconds(pid: int) -> float:
    """User CPU time the process has used so far (0 when it is gone)."""
    try:
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[11])
    except OSError:
        return 0.0
    return ticks / os.sysconf("SC_CLK_TCK")


def gone(pid: int) -> bool:
    """No such process, or only its zombie (killed, waiting to be reaped by whoever adopted it)."""
    return state(pid) in ("Z", "X")


def test_warm_invocations_reuse_globals_and_tmp_a_new_environment_starts_fresh():
    with ExecutionEnvironment(code("app.counter")) as env:
        first, second = env.invoke({}, "r1"), env.invoke({}, "r2")
        pid = env.process.pid
    assert first.response == {"invocations": 1, "tmp_lines": 1} and first.init_ms is not None
    assert second.response == {"invocations": 2, "tmp_lines": 2} and second.init_ms is None
    assert "invocation 2\n" in second.log
    assert "[WARNING]\t" in second.log and "\tr2\tlogged through logging" in second.log
    assert gone(pid)
    with ExecutionEnvironment(code("app.counter"), number=2) as fresh:
        assert fresh.invoke({}, "r3").response == {"invocations": 1, "tmp_lines": 1}


def test_context_and_environment_variables():
    settings = dict(memory_mb=256, timeout_s=2.0, environment={"TABLE": "orders-table", "AWS_REGION": "xx"})
    with ExecutionEnvironment(code("app.context_and_env", **settings)) as env:
        out = env.invoke(
            {"id": 7}, "req-1", invoked_arn="arn:aws:lambda:us-east-1:123456789012:function:orders:live"
        ).response
    assert out["function_name"] == "orders" and out["function_version"] == "$LATEST"
    assert out["invoked_function_arn"].endswith(":function:orders:live")
    assert out["memory_limit_in_mb"] == 256 and out["aws_request_id"] == "req-1"
    assert (
        out["log_group_name"] == "/aws/lambda/orders"
        and out["log_stream_name"] == out["env"]["AWS_LAMBDA_LOG_STREAM_NAME"]
    )
    assert out["identity"] is None and out["client_context"] is None
    assert 1500 < out["remaining_ms"] < 1800  # 2 s timeout, 0.2 s slept
    env_vars = out["env"]
    assert env_vars["AWS_LAMBDA_FUNCTION_NAME"] == "orders" and env_vars["_HANDLER"] == "app.context_and_env"
    assert env_vars["AWS_REGION"] == "us-east-1"  # reserved: the function's own value does not override it
    assert env_vars["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256" and env_vars["TABLE"] == "orders-table"
    assert env_vars["TZ"] == ":UTC" and Path(env_vars["LAMBDA_TASK_ROOT"]).name == "task"
    assert out["event"] == {"id": 7}


def test_an_exception_is_the_error_document_and_the_environment_stays_warm():
    with ExecutionEnvironment(code("app.fails")) as env:
        first = env.invoke({}, "r1")
        second = env.invoke({}, "r2")
    assert first.error["errorType"] == "ValueError" and first.error["errorMessage"] == "the order has no id"
    assert first.error["requestId"] == "r1"
    assert any(f"{HANDLERS}/app.py" in frame and "in fails" in frame for frame in first.error["stackTrace"])
    assert first.log.startswith("[ERROR] ValueError: the order has no id\nTraceback (most recent call last):")
    assert second.init_ms is None  # an exception does not reset the environment


@pytest.mark.parametrize(
    "handler, error_type, message",
    [
        ("app.exits", "Runtime.ExitError", "Runtime exited with error: exit status 3"),
        ("app.exits_hard", "Runtime.ExitError", "Runtime exited with error: exit status 4"),
        ("app.eats_memory", "Runtime.OutOfMemory", "Runtime exited with error: signal: killed"),
    ],
)
def test_crashes_reset_the_environment_so_the_next_request_pays_init(handler, error_type, message):
    with ExecutionEnvironment(code(handler, timeout_s=10.0)) as env:
        first = env.invoke({}, "r1")
        second = env.invoke({}, "r2")
    assert first.error["errorType"] == error_type and message in first.error["errorMessage"]
    assert second.error["errorType"] == error_type and second.init_ms is not None


def test_a_timeout_kills_the_process_keeps_the_logs_and_resets():
    with ExecutionEnvironment(code("app.loops_forever", timeout_s=0.5)) as env:
        started = time.monotonic()
        first = env.invoke({}, "r1")
        took = time.monotonic() - started
        assert not env.alive
        second = env.invoke({}, "r2")
    assert first.timed_out and first.error["errorType"] == "Sandbox.Timedout"
    assert first.error["errorMessage"] == "RequestId: r1 Error: Task timed out after 0.50 seconds"
    assert first.duration_ms == 500.0 and 0.5 <= took < 1.5
    assert "about to loop" in first.log
    assert second.init_ms is not None


@pytest.mark.parametrize(
    "handler, error_type, message",
    [
        (
            "app.returns_a_set",
            "Runtime.MarshalError",
            "Unable to marshal response: Object of type set is not JSON serializable",
        ),
        (
            "app.returns_too_much",
            "Function.ResponseSizeTooLarge",
            "exceeded maximum allowed payload size (6291556 bytes)",
        ),
    ],
)
def test_responses_lambda_cannot_send(handler, error_type, message):
    with ExecutionEnvironment(code(handler, memory_mb=512)) as env:
        result = env.invoke({}, "r1")
    assert result.error["errorType"] == error_type and message in result.error["errorMessage"]


@pytest.mark.parametrize(
    "module, error_type, message",
    [
        ("broken_syntax", "Runtime.UserCodeSyntaxError", "Syntax error in module 'broken_syntax'"),
        (
            "bad_import",
            "Runtime.ImportModuleError",
            "Unable to import module 'bad_import': No module named 'a_module_that_does_not_exist'",
        ),
        ("init_raises", "KeyError", "'DATABASE_URL'"),  # any other exception keeps its own type, as on AWS
        ("init_exits", "Runtime.ExitError", "Runtime exited with error: exit status 3"),
    ],
)
def test_init_errors(module, error_type, message):
    with ExecutionEnvironment(code(f"{module}.handler")) as env:
        result = env.invoke({}, "r1")
    assert result.error["errorType"] == error_type and message in result.error["errorMessage"]
    assert result.init_ms is not None


def test_missing_handler_function():
    with ExecutionEnvironment(code("app.nowhere")) as env:
        result = env.invoke({}, "r1")
    assert result.error == {
        "errorType": "Runtime.HandlerNotFound",
        "requestId": "r1",
        "errorMessage": "Handler 'nowhere' missing on module 'app'",
    }


def test_decimals_come_back_as_the_numbers_they_hold():
    """As the Python runtime marshals them (a DynamoDB item returned as it is read): not a MarshalError."""
    with ExecutionEnvironment(code("app.returns_decimals")) as env:
        result = env.invoke({}, "r1")
    assert result.error is None and result.response == {"price": 19.99, "stock": 3, "big": 100.0}


def test_init_is_timed_once_per_environment():
    with ExecutionEnvironment(code("slow_init.handler")) as env:
        cold, warm = env.invoke({}, "r1"), env.invoke({}, "r2")
    assert cold.init_ms >= 300 and warm.init_ms is None and warm.response == "ready"


def test_a_flood_of_output_is_cut_and_never_hangs():
    with ExecutionEnvironment(code("app.prints_a_flood", timeout_s=0.5)) as env:
        result = env.invoke({}, "r1")
    assert result.timed_out
    assert 1_000_000 <= len(result.log) <= 1_100_000


def test_a_fork_bomb_ends_with_a_timeout_and_no_process_left():
    with ExecutionEnvironment(code("app.fork_bomb", timeout_s=0.5)) as env:
        pid = env.process.pid if env.process else None
        result = env.invoke({}, "r1")
        group = pid
    assert result.timed_out
    assert group is None or not _live_members(group)


def test_children_are_killed_with_the_environment():
    with ExecutionEnvironment(code("app.spawns_and_returns")) as env:
        child = env.invoke({}, "r1").response["child"]
        assert not gone(child)
    deadline = time.monotonic() + 5
    while not gone(child) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert gone(child)


def test_deleting_its_files_deletes_only_the_environments_copy():
    before = sorted(p.name for p in HANDLERS.iterdir())
    with ExecutionEnvironment(code("app.deletes_its_folder")) as env:
        left = env.invoke({}, "r1").response
        folder = env.folder
    assert set(left) <= {"__pycache__", *(p.name for p in HANDLERS.iterdir() if p.is_dir())}  # it removes files only
    assert not any(name.endswith(".py") for name in left)
    assert sorted(p.name for p in HANDLERS.iterdir()) == before
    assert not folder.exists()  # the environment's folder goes at shutdown


def test_no_worker_outlives_lambdalab_objects():
    env = ExecutionEnvironment(code("app.echo"))
    env.invoke({"a": 1}, "r1")
    pid = env.process.pid
    env.shutdown()
    assert gone(pid) and env.folder is None
    assert os.getpid() != pid  # the handler never ran in this process


def test_tmp_is_the_environments_own_and_survives_warm_invocations():
    name = f"lambdalab-test-{uuid.uuid4().hex}.txt"
    try:
        with ExecutionEnvironment(code("app.uses_literal_tmp")) as env:
            first, second = env.invoke({"file": name}, "r1").response, env.invoke({"file": name}, "r2").response
            folder = env.folder
            kept = (folder / "tmp" / name).read_text() if first["tmpdir"] == "/tmp" else None
        with ExecutionEnvironment(code("app.uses_literal_tmp"), number=2) as fresh:
            third = fresh.invoke({"file": name}, "r3").response
        assert (first["size"], second["size"]) == (1, 2)
        if first["tmpdir"] == "/tmp":  # Linux let the worker mount its own folder over /tmp
            assert kept == "xx" and third["size"] == 1  # a new environment starts with an empty /tmp
            assert not Path("/tmp", name).exists()
        else:  # elsewhere (or with Python itself under /tmp) the code gets its own folder through TMPDIR
            assert first["tmpdir"].endswith("/tmp") and first["tmpdir"] != "/tmp"
        assert not folder.exists()
    finally:
        Path("/tmp", name).unlink(missing_ok=True)  # what a literal /tmp path wrote without a private /tmp


def test_ephemeral_storage_limits_what_the_code_can_write():
    with ExecutionEnvironment(code("app.writes_a_big_file", ephemeral_mb=1)) as env:
        result = env.invoke({}, "r1")
    assert result.error["errorType"] == "OSError" and "File too large" in result.error["errorMessage"]


def test_init_past_its_10_seconds_is_retried_inside_the_invoke(monkeypatch):
    """AWS's suppressed init, with the 10 s shrunk to 0.1 s so that the test stays quick."""
    monkeypatch.setattr("lambdalab.runtime.environment.limits.INIT_LIMIT_S", 0.1)
    with ExecutionEnvironment(code("slow_init.handler", timeout_s=2.0)) as env:
        retried = env.invoke({}, "r1")
    assert retried.response == "ready" and retried.init_ms >= 300
    with ExecutionEnvironment(code("slow_init.handler", timeout_s=0.2), number=2) as env:
        too_slow = env.invoke({}, "r2")
    assert too_slow.timed_out and too_slow.error["errorType"] == "Sandbox.Timedout"


def test_max_memory_is_the_codes_own_not_lambdalabs():
    """A worker is forked from lambdalab: its peak must not start from lambdalab's own (a large TUI or test run)."""
    ballast = bytearray(200 * 1024 * 1024)  # this process now has a peak far above the function's 128 MB
    ballast[::4096] = b"x" * len(ballast[::4096])
    with ExecutionEnvironment(code("app.echo")) as env:
        result = env.invoke({}, "r1")
    assert result.error is None and 5 < result.max_memory_mb < 100
    del ballast


def test_an_environment_ends_with_the_process_that_started_it(tmp_path):
    """If lambdalab dies without shutting an environment down (a grading time limit kills it), a handler that
    never returns must not live on, burning a core: the worker follows its parent."""
    import subprocess
    import sys

    script = tmp_path / "parent.py"
    script.write_text(
        "import sys, threading, time\n"
        "from pathlib import Path\n"
        f"sys.path.insert(0, {str(Path(__file__).parent.parent)!r})\n"
        "from lambdalab.runtime import ExecutionEnvironment, FunctionCode\n"
        f"env = ExecutionEnvironment(FunctionCode(name='orders', code_dir=Path({str(HANDLERS)!r}), "
        f"handler='app.spins_silently', timeout_s=60, preload={preload!r}))\n"
        "threading.Thread(target=env.invoke, args=({}, 'r1'), daemon=True).start()\n"
        "for _ in range(500):\n    if env.process is None:\n        time.sleep(0.01)\n"
        "print(env.process.pid if env.process else 'no worker', flush=True)\n"
        "time.sleep(60)\n"
    )
    parent = subprocess.Popen([sys.executable, str(script)], stdout=subprocess.PIPE, text=True)
    worker = int(parent.stdout.readline())
    deadline = time.monotonic() + 10
    while cpu_seconds(worker) < 0.5 and time.monotonic() < deadline:  # Init takes far less: the handler spins
        time.sleep(0.05)
    assert cpu_seconds(worker) >= 0.5
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 10
    while not gone(worker) and time.monotonic() < deadline:
        time.sleep(0.1)
    try:
        assert gone(worker)
    finally:
        if not gone(worker):
            os.kill(worker, 9)  # a failed test must not leave a spinning process behind


def test_a_folder_left_by_a_process_killed_outright_goes_with_the_next_one(tmp_path):
    from lambdalab.paths import process_folder

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    left = tmp_path / f"orders-{dead.pid}-abc12345"
    alive = tmp_path / f"orders-{os.getpid()}-def67890"
    other = tmp_path / f"billing-{dead.pid}-abc12345"
    for folder in (left, alive, other):
        folder.mkdir()
    made = process_folder(tmp_path, "orders")
    assert not left.exists() and alive.exists() and other.exists()  # other labels are another owner's business
    assert made.name.startswith(f"orders-{os.getpid()}-")


def test_forked_workers_come_from_one_fork_server_that_imported_the_preload_once(start):
    with ExecutionEnvironment(code("app.has_module")) as one, ExecutionEnvironment(code("app.has_module"), 2) as two:
        first, other = (env.invoke({"module": PRELOAD}, "r").response for env in (one, two))
    if start == "started":
        assert not first["loaded"] and first["parent"] == os.getpid()
    else:
        assert first["loaded"] and other["loaded"]
        assert first["parent"] == other["parent"] != os.getpid()  # the fork server, not lambdalab


@pytest.mark.parametrize("start", ["forked"], indirect=True)
def test_a_fork_server_that_died_is_replaced(start):
    with ExecutionEnvironment(code("app.has_module")) as env:
        server = env.invoke({"module": PRELOAD}, "r1").response["parent"]
    os.kill(server, 9)
    with ExecutionEnvironment(code("app.has_module"), 2) as env:
        again = env.invoke({"module": PRELOAD}, "r2").response
    assert again["loaded"] and again["parent"] != server


@pytest.mark.parametrize("start", ["forked"], indirect=True)
def test_a_fork_of_lambdalab_uses_a_fork_server_of_its_own(start):
    """`lambdalab serve` forks a session from a zygote: the copy must not share its parent's fork server."""
    with ExecutionEnvironment(code("app.has_module")) as env:
        ours = env.invoke({"module": PRELOAD}, "r1").response["parent"]
    read, write = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - runs in the forked copy, which reports through the pipe
        try:
            with ExecutionEnvironment(code("app.has_module"), 2) as env:
                os.write(write, json.dumps(env.invoke({"module": PRELOAD}, "r2").response).encode())
        finally:
            os._exit(0)
    os.close(write)
    theirs = json.loads(os.read(read, 4096))
    os.waitpid(child, 0)
    os.close(read)
    assert theirs["loaded"] and theirs["parent"] not in (ours, os.getpid())
