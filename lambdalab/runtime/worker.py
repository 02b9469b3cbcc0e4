"""One execution environment's process: Init (import the handler's module), then Invoke, again and again.

Run as a script by lambdalab.runtime.environment (`python -I worker.py IN_FD OUT_FD`), never imported by
lambdalab itself, and standard library only: the learner's code runs here, in its own process, with the
limits below, the way the Python runtime runs it on Lambda
(https://docs.aws.amazon.com/lambda/latest/dg/lambda-runtime-environment.html,
https://docs.aws.amazon.com/lambda/latest/dg/python-handler.html).

Messages are JSON lines: the parent sends `config` once, then `invoke`s; this process answers `init`
and one `result` per invoke. What the code prints goes back inside those answers, in order, so each
invocation's log lines land between its START and END.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import resource
import signal
import sys
import tempfile
import threading
import time
import traceback

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing into the process the code runs in
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import ModuleType
    from typing import Any

RESPONSE_LIMIT = 6_291_556  # bytes: larger is Function.ResponseSizeTooLarge (shared/reference/lambda-facts.md §1.1)
LOG_LIMIT = 1_048_576  # bytes of output kept per phase; beyond it, a note says how much was cut
# Set by forkserver.py in a worker forked from it: the milliseconds it spent importing modules ahead of the
# handler (AWS's durable SDK), counted in this environment's Init as they would be on Lambda.
PRELOAD_MS = 0.0


class Output:
    """sys.stdout and sys.stderr of the handler: up to LOG_LIMIT characters a phase, sent to the parent
    every few kilobytes and, from a background thread, every few milliseconds, so that a handler
    killed at its timeout (even in a loop that never prints again) still leaves its logs."""

    FLUSH_CHARS = 8192
    FLUSH_S = 0.02

    def __init__(self, send: Callable[[dict[str, Any]], None]) -> None:
        self.send = send
        self.lock = threading.Lock()
        self.parts: list[str] = []
        self.pending = 0  # characters in parts
        self.kept = 0  # characters kept this phase (sent or pending)
        self.cut = 0
        threading.Thread(target=self._flush_often, daemon=True).start()

    def write(self, text: str) -> int:
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        with self.lock:
            room = LOG_LIMIT - self.kept
            if room > 0:
                piece = text[:room]
                self.parts.append(piece)
                self.kept += len(piece)
                self.pending += len(piece)
            self.cut += max(0, len(text) - max(room, 0))
            if self.pending >= self.FLUSH_CHARS:
                self._flush()
        return len(text)

    def flush(self) -> None:
        with self.lock:
            self._flush()

    def _flush(self) -> None:
        if self.parts:
            self.send({"type": "log", "data": "".join(self.parts)})
            self.parts, self.pending = [], 0

    def _flush_often(self) -> None:
        while True:
            time.sleep(self.FLUSH_S)
            self.flush()

    def isatty(self) -> bool:
        return False

    def take(self) -> str:
        """What is left of this phase's output (the rest went out already); the next phase starts afresh."""
        with self.lock:
            text = "".join(self.parts)
            if self.cut:
                text += (
                    f"\n[lambdalab: {self.cut:,} more characters of output were cut; "
                    f"the limit is {LOG_LIMIT:,} per invocation]\n"
                )
            self.parts, self.pending, self.kept, self.cut = [], 0, 0, 0
        return text


class Context:
    """The context object (https://docs.aws.amazon.com/lambda/latest/dg/python-context.html)."""

    def __init__(self, config: dict[str, Any], request_id: str, deadline: float, invoked_arn: str) -> None:
        self.function_name = config["function_name"]
        self.function_version = config["version"]
        self.invoked_function_arn = invoked_arn
        self.memory_limit_in_mb = config["memory_mb"]
        self.aws_request_id = request_id
        self.log_group_name = config["log_group"]
        self.log_stream_name = config["log_stream"]
        self.identity = None
        self.client_context = None
        self._deadline = deadline

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


class RequestIdFilter(logging.Filter):
    """Puts the current request id on every record, as the Lambda Python runtime's log format shows it, and,
    under the simulator, the invocation's virtual time as the record's time: the wall clock made the same
    scenario's logs differ from run to run. Init's records (logged at import) show the virtual time of the
    Init, as an invocation's show its own."""

    request_id = ""
    at_s: float | None = None  # epoch seconds; None: the wall clock (`lambdalab invoke`)

    @staticmethod
    def log_at(at_ms: int | None) -> None:
        """Stamp the records from now on with `at_ms` (epoch ms), or with the wall clock for None."""
        RequestIdFilter.at_s = None if at_ms is None else at_ms / 1000

    def filter(self, record: logging.LogRecord) -> bool:
        record.aws_request_id = RequestIdFilter.request_id
        if RequestIdFilter.at_s is not None:
            record.created = RequestIdFilter.at_s
            record.msecs = RequestIdFilter.at_s % 1 * 1000
        return True


def main(inbox_fd: int, outbox_fd: int) -> None:
    inbox = os.fdopen(inbox_fd, "r", encoding="utf-8")
    outbox = os.fdopen(outbox_fd, "w", encoding="utf-8")

    sending = threading.Lock()  # the output thread sends too

    def send(message: dict[str, Any]) -> None:
        with sending:
            outbox.write(json.dumps(message) + "\n")
            outbox.flush()

    config: dict[str, Any] = json.loads(inbox.readline())
    linux = load_beside("linux")
    # Read now, while lambdalab's own files are in view (a private /tmp hides a copy installed under /tmp), and
    # run only for a durable function's first invoke: other handlers' memory stays as it was.
    durable_client_source = source_beside("durable_client")
    # Before any thread starts: a threaded process may not unshare.
    if config.get("view") or config.get("user") or config.get("unprivileged"):
        try:
            shut_in(config, linux)
        except OSError as exc:
            send(
                {
                    "type": "init",
                    "init_ms": 0.0,
                    "log": "",
                    "error": {
                        "errorType": linux.CONFINEMENT_FAILED,
                        "errorMessage": f"lambdalab could not shut this environment in: {exc}",
                    },
                }
            )
            return
    elif private_tmp(config["tmp"], linux):
        config["environment"]["TMPDIR"] = config["tmp"] = "/tmp"
    output = Output(send)
    end_with_parent()
    setup(config, output)
    RequestIdFilter.log_at(config.get("log_time_ms"))
    handler, init_error, init_ms = load_handler(config["handler"])
    send({"type": "init", "init_ms": PRELOAD_MS + init_ms, "error": init_error, "log": output.take()})
    if init_error:
        return

    def ask(question: dict[str, Any]) -> dict[str, Any]:
        """A call to the Lambda API from a durable function's SDK, answered by lambdalab (durable_client.py)."""
        send(question)
        answer: dict[str, Any] = json.loads(inbox.readline())
        return answer

    for line in inbox:
        message = json.loads(line)
        if message["type"] != "invoke":
            return
        if message.get("durable"):
            load_source("durable_client", durable_client_source).install(ask)
        result = invoke(config, handler, message, output)
        send(result)
        if result.get("exit") is not None:
            return


def end_with_parent() -> None:
    """If the process that started this one dies without shutting it down (killed by a grading time limit,
    say), nobody is left to stop a handler that never returns at its timeout: so this process, and every
    process the code started, ends within half a second of its parent."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        os.killpg(0, signal.SIGKILL)  # this process leads its own process group

    threading.Thread(target=watch, daemon=True).start()


def setup(config: dict[str, Any], output: Output) -> None:
    """The environment Lambda gives the code: variables, folders, limits, output and logging."""
    os.environ.clear()
    os.environ.update(config["environment"])
    os.chdir(config["task_root"])
    sys.path.insert(0, config["task_root"])
    tempfile.tempdir = config["tmp"]
    # Memory: the configured size on top of what the interpreter has mapped already, so that a
    # runaway allocation fails here (MemoryError) instead of taking the machine's memory.
    mapped = _vm_size_bytes()
    limit = mapped + config["memory_mb"] * 1024 * 1024
    for name, value in (
        ("RLIMIT_AS", limit),
        ("RLIMIT_FSIZE", config["ephemeral_mb"] * 1024 * 1024),
        ("RLIMIT_NPROC", config["max_processes"]),
        ("RLIMIT_CORE", 0),
    ):
        try:
            resource.setrlimit(getattr(resource, name), (value, value))
        except (ValueError, OSError, AttributeError):
            pass  # not lowerable here (or not on this platform): the parent's timeout still applies
    sys.stdout = sys.stderr = output
    handler = logging.StreamHandler(output)
    formatter = logging.Formatter(
        "[%(levelname)s]\t%(asctime)s.%(msecs)03dZ\t%(aws_request_id)s\t%(message)s\n", "%Y-%m-%dT%H:%M:%S"
    )
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    handler.terminator = ""
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]


def private_tmp(folder: str, linux: ModuleType) -> bool:
    """Make /tmp this environment's own folder (a bind mount in a private mount namespace), where Linux
    lets this user do so; False elsewhere, and the code then gets its folder through TMPDIR only.

    The folder outlives this process, as /tmp outlives a reset on Lambda, and goes at shutdown.
    """
    needed = [folder, sys.executable, sys.prefix, *sys.path]  # what must stay reachable once /tmp is covered
    if not linux.available() or any(p and _under_tmp(p) for p in needed):
        return False
    try:
        linux.enter_namespaces(linux.CLONE_NEWNS)
        linux.make_private()
        linux.mount(folder, "/tmp", None, linux.MS_BIND)
        return True
    except OSError:
        return False


def shut_in(config: dict[str, Any], linux: ModuleType) -> None:
    """The grader's confinement: a filesystem view holding only what the code needs (where asked), then an
    unprivileged user (or, where lambdalab cannot switch users, no capabilities), and no way to gain
    privileges back."""
    view = config.get("view")
    if view:
        linux.enter_namespaces(linux.CLONE_NEWNS)
        linux.build_view(view["scratch"], view["binds"], view["hidden"], view["links"])
        config["environment"]["TMPDIR"] = config["tmp"] = "/tmp"
    if config.get("user"):
        linux.drop_to_user(*config["user"])
    elif view or os.getuid() == 0:
        linux.drop_capabilities()
    linux.no_new_privileges()


def load_beside(name: str) -> ModuleType:
    """lambdalab/runtime/NAME.py, beside this script (which `python -I` cannot import as a package); once."""
    key = f"lambdalab_{name}"
    if key in sys.modules:
        return sys.modules[key]
    spec = importlib.util.spec_from_file_location(key, os.path.join(os.path.dirname(__file__), f"{name}.py"))
    assert spec is not None and spec.loader is not None  # a path ending in .py always gets a source file loader
    module = sys.modules[key] = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def source_beside(name: str) -> str:
    """The text of lambdalab/runtime/NAME.py, to be run later by load_source."""
    with open(os.path.join(os.path.dirname(__file__), f"{name}.py"), encoding="utf-8") as file:
        return file.read()


def load_source(name: str, source: str) -> ModuleType:
    """A module made once from source read earlier (load_beside, for a file that may no longer be in view)."""
    key = f"lambdalab_{name}"
    if key not in sys.modules:
        module = sys.modules[key] = type(sys)(key)  # a new module (types.ModuleType, without importing it)
        module.__file__ = os.path.join(os.path.dirname(__file__), f"{name}.py")
        exec(compile(source, module.__file__, "exec"), module.__dict__)
    return sys.modules[key]


def _under_tmp(path: str) -> bool:
    return (
        os.path.abspath(path) == "/tmp"
        or os.path.abspath(path).startswith("/tmp/")
        or os.path.realpath(path).startswith("/tmp/")
    )


def _peak_memory_kb() -> int:
    """This process's peak resident memory. VmHWM first: ru_maxrss of a process started by fork and exec
    carries over the high-water mark of the process it was forked from (lambdalab's, not the code's)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def _vm_size_bytes() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 64 * 1024 * 1024


def load_handler(name: str) -> tuple[Any, dict[str, str | list[str]] | None, float]:
    """Import the module and find the function: the Init phase. Errors as the Python runtime (awslambdaric's
    bootstrap) names them: an ImportError or SyntaxError gets a Runtime.* type, any other exception its own."""
    started = time.perf_counter()
    module_name, _, function_name = name.rpartition(".")
    error: dict[str, str | list[str]] | None = None
    handler = None
    try:
        if not module_name:
            raise ValueError(f"Bad handler '{name}': not enough values to unpack (expected 2, got 1)")
        module = importlib.import_module(module_name)
        handler = getattr(module, function_name, None)
        if not callable(handler):
            error = {
                "errorType": "Runtime.HandlerNotFound",
                "errorMessage": f"Handler '{function_name}' missing on module '{module_name}'",
            }
    except SyntaxError as exc:
        error = {
            "errorType": "Runtime.UserCodeSyntaxError",
            "errorMessage": f"Syntax error in module '{module_name}': {exc}",
        }
    except MemoryError:
        error = {"errorType": "Runtime.OutOfMemory", "errorMessage": "Runtime exited with error: signal: killed"}
    except ImportError as exc:
        error = {
            "errorType": "Runtime.ImportModuleError",
            "errorMessage": f"Unable to import module '{module_name}': {exc}",
            "stackTrace": traceback.format_tb(exc.__traceback__)[1:],
        }
    except SystemExit as exc:
        error = {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"Runtime exited with error: exit status {_exit_status(exc)}",
        }
    except Exception as exc:  # raised by the module's own code: the runtime reports it under its own type
        error = {
            "errorType": type(exc).__name__,
            "errorMessage": str(exc),
            "stackTrace": traceback.format_tb(exc.__traceback__)[1:],
        }
    return handler, error, (time.perf_counter() - started) * 1000


def _exit_status(exc: SystemExit) -> int:
    """What the process would exit with: sys.exit() is 0, sys.exit("why") is 1."""
    return exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)


def invoke(
    config: dict[str, Any], handler: Callable[[Any, Context], Any], message: dict[str, Any], output: Output
) -> dict[str, Any]:
    request_id = message["request_id"]
    RequestIdFilter.request_id = request_id
    RequestIdFilter.log_at(message.get("log_time_ms"))
    started = time.perf_counter()
    context = Context(config, request_id, time.monotonic() + message["remaining_ms"] / 1000, message["invoked_arn"])
    result: dict[str, Any] = {"type": "result", "response": None, "error": None, "exit": None}
    try:
        response = handler(message["event"], context)
        payload = _marshal(response)
        if isinstance(payload, dict):
            result["error"] = payload
        elif len(payload.encode("utf-8")) > RESPONSE_LIMIT:
            result["error"] = {
                "errorType": "Function.ResponseSizeTooLarge",
                "errorMessage": f"Response payload size exceeded maximum allowed payload size "
                f"({RESPONSE_LIMIT} bytes).",
            }
        else:
            result["response"] = payload
    except MemoryError:
        result["error"] = {
            "errorType": "Runtime.OutOfMemory",
            "errorMessage": "Runtime exited with error: signal: killed",
        }
        result["exit"] = "killed"
    except SystemExit as exc:
        code = _exit_status(exc)
        result["error"] = {
            "errorType": "Runtime.ExitError",
            "errorMessage": f"RequestId: {request_id} Error: Runtime exited with error: exit status {code}",
        }
        result["exit"] = code
    except BaseException as exc:
        frames = traceback.format_tb(exc.__traceback__)[1:]  # the handler's frames, not this loop's
        result["error"] = {
            "errorMessage": str(exc),
            "errorType": type(exc).__name__,
            "requestId": request_id,
            "stackTrace": frames,
        }
        output.write(f"[ERROR] {type(exc).__name__}: {exc}\nTraceback (most recent call last):\n{''.join(frames)}")
    result["duration_ms"] = (time.perf_counter() - started) * 1000
    result["max_memory_kb"] = _peak_memory_kb()
    result["log"] = output.take()
    return result


def _marshal(response: Any) -> str | dict[str, str]:
    """The response as JSON text, or the error document when it cannot be."""
    try:
        return json.dumps(response, default=_decimal_as_number)
    except (TypeError, ValueError) as exc:
        return {"errorType": "Runtime.MarshalError", "errorMessage": f"Unable to marshal response: {exc}"}


def _decimal_as_number(value: Any) -> Any:
    """The Python runtime writes a Decimal (what boto3's DynamoDB resource gives for every number) as the JSON
    number it holds, NaN as NaN (awslambdaric's lambda_runtime_marshaller.py,
    https://github.com/aws/aws-lambda-python-runtime-interface-client); anything else is a marshal error.
    The decimal module is looked up, not imported: a handler that returns a Decimal has imported it."""
    decimal = sys.modules.get("decimal")
    if decimal is not None and isinstance(value, decimal.Decimal):
        return float("nan") if value.is_nan() else json.loads(str(value))
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]))
