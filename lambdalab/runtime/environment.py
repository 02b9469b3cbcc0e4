"""An execution environment running real code: one worker process, Init once, then warm invocations.

The learner's code never runs in lambdalab's process. Each environment gets a
private copy of the code (so a handler that deletes files in its folder
deletes its copy), a private temporary folder (TMPDIR; removed at shutdown),
its own process group (so a timeout kills every process it started), and
resource limits set by the worker. Timeouts are enforced here, on the wall
clock: a handler that loops forever is killed when its time is up, as on AWS.
"""

from __future__ import annotations

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from lambdalab import limits
from lambdalab.paths import environments_dir, process_folder
from lambdalab.runtime import confinement, forked, linux

WORKER = Path(__file__).with_name("worker.py")
CODE_SIZE_LIMIT = 250 * 1024 * 1024  # unzipped deployment package (shared/reference/lambda-facts.md §5)
EXTRA_PROCESSES = 32  # a handler may start this many processes beyond what the user already runs
NOT_CODE = ("__pycache__", ".git", ".venv", "node_modules")  # folders never copied with a function's code


class CodeTooLarge(Exception):
    """The function's folder is over Lambda's deployment-package limit."""


class ConfinementFailed(Exception):
    """The environment could not be shut in as the grader asked: not the code's fault, and its code never ran."""


@dataclass(frozen=True)
class FunctionCode:
    """What an environment needs to run a function's real code."""

    name: str
    code_dir: Path
    handler: str  # module.function, relative to code_dir
    memory_mb: int = 128
    timeout_s: float = 3.0
    ephemeral_mb: int = 512
    environment: dict[str, str] = field(default_factory=dict)
    region: str = "us-east-1"
    account_id: str = "123456789012"
    version: str = "$LATEST"
    # Modules every environment imports (AWS's durable SDK): imported once, by a fork server (forked.py)
    preload: tuple[str, ...] = ()


@dataclass
class Invocation:
    """One invocation's outcome, with what a REPORT line needs."""

    request_id: str
    response: Any = None  # the handler's return value (decoded JSON)
    error: dict[str, Any] | None = None  # the error document, when the function failed
    log: str = ""  # what the code printed and logged, in order
    duration_ms: float = 0.0
    init_ms: float | None = None  # set on a cold start
    max_memory_mb: int = 0
    timed_out: bool = False


_LIVE: weakref.WeakSet[ExecutionEnvironment] = weakref.WeakSet()


def live_groups() -> frozenset[int]:
    """The process groups of every environment of this process whose worker runs now (each worker leads its
    own): what a sweep for processes left behind (lambdalab.grading.grader) must spare."""
    return frozenset(env.process.pid for env in list(_LIVE) if env.process is not None)


class ExecutionEnvironment:
    def __init__(self, code: FunctionCode, number: int = 1, shut_in: confinement.Confinement | None = None):
        self.code = code
        self.number = number
        self.shut_in = shut_in or confinement.current()
        self.folder: Path | None = None
        self.process: subprocess.Popen[bytes] | forked.ForkedProcess | None = None
        self._inbox: int | None = None  # the channel from the worker (a file descriptor) and to it: set by _start
        self._outbox: IO[str] | None = None
        self._stray = b""  # output written straight to file descriptors 1 and 2, past sys.stdout
        self._log = ""  # output the worker has sent so far in this phase
        self.log_stream = f"{time.strftime('%Y/%m/%d')}/[{code.version}]{os.urandom(16).hex()}"

    @property
    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    # --- lifecycle ------------------------------------------------------------------------------

    def _start(self, limit_s: float, log_time_ms: int | None) -> dict[str, Any] | None:
        """Init: a fresh process imports the handler, its log records stamped with `log_time_ms` (see
        invoke). The worker's `init` message, or None past `limit_s`."""
        if self.folder is None:
            self.folder = process_folder(environments_dir(), self.code.name)
            # Even if nobody calls shutdown() (a crash, a forgotten environment), the folder goes when this
            # object does, or when lambdalab exits.
            self._finalizer = weakref.finalize(self, shutil.rmtree, self.folder, True)
            _copy_code(self.code.code_dir, self.folder / "task")
            (self.folder / "tmp").mkdir()
            self._hand_over(self.folder)
        self.process, to_worker, from_worker = self._spawn(self.folder / "task")
        _LIVE.add(self)
        # Even if nobody shuts this environment down, its processes go when this object does.
        self._process_finalizer = weakref.finalize(self, linux.kill_group, self.process.pid)
        self._outbox = os.fdopen(to_worker, "w", encoding="utf-8")
        self._inbox = from_worker
        self._buffer = b""
        self._send({**self._config(self.folder), "log_time_ms": log_time_ms})
        message = self._receive(time.monotonic() + limit_s)
        if message is not None and message["type"] in ("exit", GARBLED):  # died during Init, or broke the channel
            if message["type"] == GARBLED:
                self._kill()
            how = GARBLED_WHY if message["type"] == GARBLED else f"exit status {self.process.wait()}"
            return {
                "type": "init",
                "init_ms": 0.0,
                "log": "",
                "error": {"errorType": "Runtime.ExitError", "errorMessage": f"Runtime exited with error: {how}"},
            }
        if message is None or message["type"] != "init":
            return None
        if message["error"] and message["error"].get("errorType") == linux.CONFINEMENT_FAILED:
            self._kill()
            raise ConfinementFailed(message["error"]["errorMessage"])
        return message

    def _spawn(self, cwd: Path) -> tuple[subprocess.Popen[bytes] | forked.ForkedProcess, int, int]:
        """A new worker process, and the ends of its channels (to it, from it): forked from a process that
        imported the code's slow modules already (code.preload), or else started from scratch."""
        if self.code.preload:
            started = forked.spawn(self.code.preload, cwd)
            if started is not None:
                return started
        to_worker_r, to_worker_w = os.pipe()
        from_worker_r, from_worker_w = os.pipe()
        process = subprocess.Popen(
            [sys.executable, "-I", str(WORKER), str(to_worker_r), str(from_worker_w)],
            pass_fds=(to_worker_r, from_worker_w),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            cwd=cwd,
            env=forked.worker_environment(),
        )
        os.close(to_worker_r)
        os.close(from_worker_w)
        return process, to_worker_w, from_worker_r

    def _hand_over(self, folder: Path) -> None:
        """The code's folders belong to the user the code runs as, when that is another one."""
        shut_in = self.shut_in
        if shut_in.uid is None:
            return
        assert shut_in.gid is not None  # a confinement that names a user names its group too
        for path in (folder, *folder.rglob("*")):
            os.lchown(path, shut_in.uid, shut_in.gid)
        services = self.code.environment.get("LAMBDALAB_SERVICES")
        if services:
            os.chown(services, shut_in.uid, shut_in.gid)

    def _confinement(self, folder: Path) -> dict[str, Any]:
        shut_in = self.shut_in
        settings: dict[str, Any] = {
            "user": [shut_in.uid, shut_in.gid] if shut_in.uid is not None else None,
            "view": None,
            "unprivileged": shut_in.graded,
        }
        if shut_in.view:
            scratch = folder / "view"
            scratch.mkdir(exist_ok=True)
            services = self.code.environment.get("LAMBDALAB_SERVICES")
            settings["view"] = {
                "scratch": str(scratch),
                **confinement.view_plan(shut_in, folder / "task", folder / "tmp", [Path(services)] if services else []),
            }
        return settings

    def _config(self, folder: Path) -> dict[str, Any]:
        code = self.code
        log_group = f"/aws/lambda/{code.name}"
        env = {
            **code.environment,
            # Set by Lambda, and not overridable (https://docs.aws.amazon.com/lambda/latest/dg/configuration-envvars.html)
            "_HANDLER": code.handler,
            "AWS_REGION": code.region,
            "AWS_DEFAULT_REGION": code.region,
            "AWS_EXECUTION_ENV": f"AWS_Lambda_python{sys.version_info.major}.{sys.version_info.minor}",
            "AWS_LAMBDA_FUNCTION_NAME": code.name,
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(code.memory_mb),
            "AWS_LAMBDA_FUNCTION_VERSION": code.version,
            "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
            "AWS_LAMBDA_LOG_GROUP_NAME": log_group,
            "AWS_LAMBDA_LOG_STREAM_NAME": self.log_stream,
            "LAMBDA_TASK_ROOT": str(folder / "task"),
            "LAMBDA_RUNTIME_DIR": str(WORKER.parent),
            "LANG": "en_US.UTF-8",
            "TZ": ":UTC",
            "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "TMPDIR": str(folder / "tmp"),
            "HOME": str(folder / "tmp"),
        }
        return {
            "type": "config",
            "handler": code.handler,
            "function_name": code.name,
            "version": code.version,
            "memory_mb": code.memory_mb,
            "ephemeral_mb": code.ephemeral_mb,
            "log_group": log_group,
            "log_stream": self.log_stream,
            "task_root": str(folder / "task"),
            "tmp": str(folder / "tmp"),
            "environment": env,
            "max_processes": _user_processes(self.shut_in.uid) + EXTRA_PROCESSES,
            **self._confinement(folder),
        }

    def init(self, request_id: str, log_time_ms: int | None = None) -> Invocation:
        """The Init phase alone, for a caller that times it as its own phase (the engine); the next
        invoke finds the environment warm. Its error, if Init failed, is in the result. `log_time_ms`:
        as for invoke."""
        result = Invocation(request_id)
        self._cold_start(result, log_time_ms)
        return result

    def invoke(
        self,
        event: Any,
        request_id: str,
        invoked_arn: str | None = None,
        durable: Callable[[str, dict[str, Any]], dict[str, Any]] | None = None,
        log_time_ms: int | None = None,
    ) -> Invocation:
        """One invocation; a cold start first when the environment has no live process.

        `log_time_ms` (epoch ms) is the time its log records show: the simulator's virtual time, so that a
        scenario's logs are the same at every run; None: the wall clock's.

        `durable` answers the Lambda API calls of a durable function's SDK made during it (action and
        request in, `{"response": ...}` or `{"error": ...}` out): see lambdalab.runtime.durable."""
        code = self.code
        result = Invocation(request_id)
        deadline = time.monotonic() + code.timeout_s
        if not self.alive:
            after_init = self._cold_start(result, log_time_ms)
            if after_init is None:
                return result
            deadline = after_init
        arn = invoked_arn or f"arn:aws:lambda:{code.region}:{code.account_id}:function:{code.name}"
        self._send(
            {
                "type": "invoke",
                "request_id": request_id,
                "event": event,
                "invoked_arn": arn,
                "remaining_ms": max(0.0, (deadline - time.monotonic()) * 1000),
                "durable": durable is not None,
                "log_time_ms": log_time_ms,
            }
        )
        started = time.monotonic()
        message = self._receive(deadline)
        while message is not None and message["type"] == "durable":
            self._send(durable(message["action"], message["request"]) if durable else NOT_DURABLE)
            message = self._receive(deadline)
        if message is None:
            return self._time_out(result)
        if message["type"] in ("exit", GARBLED):
            return self._exited(result, started, message["type"] == GARBLED)
        result.log += self._take_log() + message["log"]
        result.duration_ms = message["duration_ms"]
        result.max_memory_mb = max(1, round(message["max_memory_kb"] / 1024))
        if message["error"] is not None:
            result.error = {**message["error"], "requestId": request_id}
        else:
            result.response = message["response"]
        if result.max_memory_mb > code.memory_mb and result.error is None:
            result.error = {
                "errorType": limits.OUT_OF_MEMORY_ERROR,
                "requestId": request_id,
                "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: signal: killed",
            }
            message["exit"] = "killed"
        if message["exit"] is not None:
            self._reset()
        result.log += self._take_stray()
        return self._own_paths(result)

    def _own_paths(self, result: Invocation) -> Invocation:
        """Tracebacks name the learner's own files, not the environment's private copy of them."""
        assert self.folder is not None  # the invoke ran in the folder _start made; only shutdown removes it
        copy, original = str(self.folder / "task"), str(self.code.code_dir)
        result.log = result.log.replace(copy, original)
        if result.error and "stackTrace" in result.error:
            result.error["stackTrace"] = [frame.replace(copy, original) for frame in result.error["stackTrace"]]
        return result

    def _cold_start(self, result: Invocation, log_time_ms: int | None) -> float | None:
        """Start the process and import the handler; the invoke's deadline, or None when Init failed
        (then `result` holds the error). On demand, Init has 10 s of its own; past that, Lambda retries
        Init inside the invoke, on the timeout's clock
        (https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html)."""
        code = self.code
        init = self._start(limits.INIT_LIMIT_S, log_time_ms)
        if init is None:
            self._kill()
            init = self._start(code.timeout_s, log_time_ms)
            if init is None:
                result.init_ms = code.timeout_s * 1000
                self._time_out(result)
                return None
            deadline = time.monotonic() + code.timeout_s - float(init["init_ms"]) / 1000
        else:
            deadline = time.monotonic() + code.timeout_s
        result.init_ms, result.log = init["init_ms"], self._take_log() + init["log"]
        if init["error"] is not None:
            result.error = {**init["error"], "requestId": result.request_id}
            self._reset()
            result.log += self._take_stray()
            return None
        return deadline

    def _time_out(self, result: Invocation) -> Invocation:
        timeout = self.code.timeout_s
        result.timed_out = True
        result.duration_ms = timeout * 1000
        result.max_memory_mb = self._peak_memory_mb()
        result.error = {
            "errorType": limits.TIMEOUT_ERROR,
            "requestId": result.request_id,
            "errorMessage": f"RequestId: {result.request_id} Error: Task timed out after {timeout:.2f} seconds",
        }
        self._reset()
        result.log += self._take_log() + self._take_stray()
        return result

    def _exited(self, result: Invocation, started: float, garbled: bool = False) -> Invocation:
        """The process ended during the invoke (os._exit, a signal), or broke the runtime's channel and is
        ended for it: AWS's runtime-exit error."""
        if garbled:
            self._kill()
            how = GARBLED_WHY
        else:
            assert self.process is not None  # the invoke's process: only _kill clears it, and it has not run
            status = self.process.wait()
            how = (
                f"signal: {signal.Signals(-status).name.removeprefix('SIG').lower()}"
                if status < 0
                else f"exit status {status}"
            )
            if status == -signal.SIGKILL:
                how = "signal: killed"
        result.duration_ms = (time.monotonic() - started) * 1000
        result.error = {
            "errorType": "Runtime.ExitError",
            "requestId": result.request_id,
            "errorMessage": f"RequestId: {result.request_id} Error: Runtime exited with error: {how}",
        }
        self._reset()
        result.log += self._take_log() + self._take_stray()
        return result

    def _peak_memory_mb(self) -> int:
        """The worker's peak resident memory, read from outside (it cannot say so itself when it is stuck)."""
        if self.process is None:
            return 0
        try:
            with open(f"/proc/{self.process.pid}/status") as status:
                for line in status:
                    if line.startswith("VmHWM:"):
                        return max(1, round(int(line.split()[1]) / 1024))
        except OSError:
            pass
        return 0

    def _reset(self) -> None:
        """After a failure like a timeout or a crash: the process goes, the folder stays (on AWS /tmp is
        not wiped by a reset), and the next invoke pays Init again."""
        self._kill()

    def shutdown(self) -> None:
        """The environment is gone for good: its processes and its folder. A runtime with no extensions gets
        no time to end on its own (0 ms: shared/reference/lambda-facts.md §"Shutdown",
        https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html#runtimes-lifecycle-shutdown),
        so its code's atexit handlers never run, as on Lambda."""
        self._kill()
        if self.folder is not None:
            self._finalizer()  # removes the folder, once
            self.folder = None

    def __enter__(self) -> ExecutionEnvironment:
        return self

    def __exit__(self, *_: Any) -> None:
        self.shutdown()

    # --- plumbing -------------------------------------------------------------------------------

    def _kill(self) -> None:
        """Kill the process and everything it started (its process group), until none is left."""
        if self.process is None:
            return
        self._process_finalizer.detach()  # killed here: a later exit must not kill a reused process group id
        group = self.process.pid
        try:
            os.killpg(group, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        try:
            self.process.wait(2)  # reap the worker, so that only processes it started are left in its group
        except subprocess.TimeoutExpired:
            pass
        for _ in range(200):  # a fork bomb keeps forking: keep killing until no live process is left in the group
            try:
                os.killpg(group, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                break
            if not _live_members(group):
                break
            time.sleep(0.005)
        self._stray += self._read_stray()
        for stream in (self._outbox, self.process.stdout):
            try:
                if stream is not None:  # never, with a process: _start opens both channels right after it
                    stream.close()
            except OSError:
                pass
        try:
            if self._inbox is not None:  # the same
                os.close(self._inbox)
        except OSError:
            pass
        self.process = None

    def _send(self, message: dict[str, Any]) -> None:
        assert self._outbox is not None  # _start opens the channel before the first message
        try:
            self._outbox.write(json.dumps(message) + "\n")
            self._outbox.flush()
        except (BrokenPipeError, OSError):
            pass  # the process is gone; the receive that follows says so

    def _receive(self, deadline: float) -> dict[str, Any] | None:
        """The next message other than output; {"type": "exit"} when the process has gone; None at the deadline.

        Output (`log` messages) is kept on the way, so it is never lost, even when the deadline comes first.
        """
        # Only called while there is a process, whose channels _start opened with it (stdout is a pipe).
        assert self._inbox is not None and self.process is not None and self.process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(self._inbox, selectors.EVENT_READ)
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while True:
                while b"\n" in self._buffer:
                    line, _, self._buffer = self._buffer.partition(b"\n")
                    message = _runtime_message(line)
                    if message["type"] != "log":
                        return message
                    self._log += message["data"]
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                for key, _ in selector.select(remaining):
                    if key.fileobj is self._inbox:
                        chunk = os.read(self._inbox, 1 << 20)
                        if not chunk:
                            return {"type": "exit"}  # the process closed its end: it is exiting, or has
                        self._buffer += chunk
                    elif not self._stray_chunk():
                        selector.unregister(self.process.stdout)  # closed: nothing more will come that way

    def _stray_chunk(self) -> bool:
        """Output that bypassed sys.stdout (os.write, child processes): kept, up to a limit. False at its end."""
        assert self.process is not None and self.process.stdout is not None  # _receive's process, stdout a pipe
        chunk = os.read(self.process.stdout.fileno(), 1 << 16)
        if len(self._stray) < (1 << 20):
            self._stray += chunk
        return bool(chunk)

    def _read_stray(self) -> bytes:
        if self.process is None or self.process.stdout is None or self.process.stdout.closed:
            return b""
        data = b""
        os.set_blocking(self.process.stdout.fileno(), False)
        try:
            while len(data) < (1 << 20):
                chunk = os.read(self.process.stdout.fileno(), 1 << 16)
                if not chunk:
                    break
                data += chunk
        except (BlockingIOError, OSError):
            pass
        return data

    def _take_log(self) -> str:
        log, self._log = self._log, ""
        return log

    def _take_stray(self) -> str:
        stray = self._stray + (self._read_stray() if self.alive else b"")
        self._stray = b""
        return stray.decode("utf-8", "replace")


# What each message from a worker must hold. The code runs in that process and may break its side of the
# channel (replace `json`, write to the descriptor): anything else is GARBLED, and the environment ends.
_MESSAGE_FIELDS: dict[str, dict[str, tuple[type, ...]]] = {
    "log": {"data": (str,)},
    "durable": {"action": (str,), "request": (dict,)},
    "init": {"init_ms": (int, float), "log": (str,), "error": (dict, type(None))},
    "result": {
        "duration_ms": (int, float),
        "max_memory_kb": (int, float),
        "log": (str,),
        "error": (dict, type(None)),
        "response": (str, type(None)),
        "exit": (int, str, type(None)),
    },
}
# The answer to a durable SDK's API call in a function invoked without a durable execution, as Lambda refuses it.
NOT_DURABLE = {
    "error": {
        "Error": {
            "Code": "InvalidParameterValueException",
            "Message": "The function is not running a durable execution",
        },
        "ResponseMetadata": {"HTTPStatusCode": 400},
    }
}
GARBLED = "garbled"
GARBLED_WHY = (
    "lambdalab could not read the runtime's message (did the code replace the json module, or write "
    "to the runtime's own file descriptor?)"
)


def _runtime_message(line: bytes) -> dict[str, Any]:
    try:
        message: dict[str, Any] = json.loads(line)  # anything but an object fails the lookups below (TypeError)
        fields = _MESSAGE_FIELDS[message["type"]]
        if all(isinstance(message[k], kinds) for k, kinds in fields.items()):
            if message["type"] == "result" and message["error"] is None:
                message["response"] = json.loads(message["response"])
            if message.get("error") is None or all(isinstance(v, (str, list)) for v in message["error"].values()):
                return message
    except (ValueError, TypeError, KeyError, AttributeError):
        pass
    return {"type": GARBLED}


def _copy_code(source: Path, target: Path) -> None:
    """The function's own copy of its code, as Lambda unpacks the package into /var/task."""
    size = sum(p.stat().st_size for p in source.rglob("*") if p.is_file())
    if size > CODE_SIZE_LIMIT:
        raise CodeTooLarge(
            f"{source}: the code is {size / 1024 / 1024:.0f} MB; Lambda's limit is 250 MB unzipped "
            f"(https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)"
        )
    shutil.copytree(source, target, ignore=shutil.ignore_patterns(*NOT_CODE))


def _live_members(group: int) -> bool:
    """Whether a process of this group is still running (killed ones may linger as zombies until reaped)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return True  # cannot tell: the caller keeps killing until the group is gone
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[2]) == group and fields[0] not in ("Z", "X"):
            return True
    return False


def _user_processes(uid: int | None = None) -> int:
    """How many processes this user (or `uid`) runs now: RLIMIT_NPROC counts them all."""
    if not Path("/proc").is_dir():
        return 256  # cannot count: a generous allowance
    uid = os.getuid() if uid is None else uid
    count = 0
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if entry.stat().st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count
