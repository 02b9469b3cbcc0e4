"""`lambdalab invoke`: run a real Python handler in a fresh execution environment, like `sam local invoke`,
minus Docker."""

from __future__ import annotations

import argparse
import json
import math
import sys
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lambdalab import content, limits
from lambdalab.commands import UsageError
from lambdalab.engine.edge import TRIGGERS, association_problems
from lambdalab.engine.edge import outcome as edge_outcome
from lambdalab.engine.logs import InvocationReport, invocation_lines
from lambdalab.engine.units import parse_duration
from lambdalab.runtime import CodeTooLarge, ExecutionEnvironment, FunctionCode, Invocation

NAME = "invoke"
HELP = "run a real Python handler in a fresh execution environment and print its logs and response"
EXAMPLES = """\
  lambdalab invoke app.py:handler                         the event is {}
  lambdalab invoke app.py:handler --event s3-put          a sample event shipped with lambdalab (see --list-events)
  lambdalab invoke src --handler app.handler --event event.json --memory 256 --timeout 10s
  echo '{"name": "Ada"}' | lambdalab invoke app.py:handler --event -
  lambdalab invoke app.py:handler --repeat 3              one cold start, then two warm invocations
  lambdalab invoke app.py:handler --env TABLE=orders --json
  lambdalab invoke edge.py:handler --edge viewer-request    Lambda@Edge: CloudFront's event, its limits, its verdict

exit status: 0 when every invocation succeeded, 1 when the function failed (its error document is printed),
2 for bad input (no such file, an event that is not JSON, a setting out of Lambda's range)"""

REQUEST_LIMIT = 6_291_456  # bytes of a synchronous request (shared/reference/lambda-facts.md §1.1)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", metavar="TARGET", help="FILE.py:function, or a code folder with --handler")
    parser.add_argument(
        "--handler", metavar="MODULE.FUNCTION", help="the handler inside a code folder, e.g. app.handler"
    )
    parser.add_argument(
        "--event",
        default=None,
        metavar="FILE|-|NAME",
        help="the event: a JSON file, - for stdin, or a sample event's name (default: {})",
    )
    parser.add_argument(
        "--memory", type=int, default=128, metavar="MB", help="memory in MB, 128 to 10240 (default 128)"
    )
    parser.add_argument("--timeout", default="3s", metavar="DURATION", help="timeout, up to 900s (default 3s)")
    parser.add_argument(
        "--env", action="append", default=[], metavar="K=V", help="an environment variable (repeatable)"
    )
    parser.add_argument("--name", help="the function's name (default: the handler's module)")
    parser.add_argument("--repeat", type=int, default=1, metavar="N", help="invoke N times in the same environment")
    parser.add_argument(
        "--json", action="store_true", help="print the result as JSON (one object; a list of them with --repeat)"
    )
    parser.add_argument("--list-events", action="store_true", help="list the sample events and exit")
    parser.add_argument(
        "--edge",
        choices=TRIGGERS,
        metavar="TRIGGER",
        help=f"run as Lambda@Edge on this CloudFront trigger ({', '.join(TRIGGERS)}): its limits are "
        "checked, the event defaults to the trigger's sample, and the result is validated",
    )


def run(args: argparse.Namespace) -> int:
    if args.list_events:
        for name, path in content.sample_events().items():
            print(f"{name:<28} {path}")
        return 0
    code = _function(args)
    if args.edge:
        problems = association_problems(args.edge, code.memory_mb, code.timeout_s, code.environment)
        if problems:
            raise UsageError(f"--edge {args.edge}: " + "; ".join(problems))
    event = _event(args.event if args.event or not args.edge else f"cloudfront-{args.edge}")
    if args.repeat < 1:
        raise UsageError("--repeat takes a number of invocations, 1 or more")
    results = []
    with ExecutionEnvironment(code) as environment:
        for _ in range(args.repeat):
            try:
                invocation = environment.invoke(event, str(uuid.uuid4()))
            except CodeTooLarge as exc:
                raise UsageError(str(exc)) from None
            results.append(invocation)
            if not args.json:
                _print_text(code, invocation)
    verdicts = [edge_outcome(args.edge, event, i.response, i.error, i.timed_out) for i in results] if args.edge else []
    if args.json:
        shaped = [_shape(code, invocation) for invocation in results]
        for shape, verdict in zip(shaped, verdicts):
            shape["edge"] = {
                "trigger": args.edge,
                "status": verdict.status,
                "valid": verdict.status == 200,
                "problems": list(verdict.problems),
                "summary": verdict.summary,
            }
        print(json.dumps(shaped[0] if args.repeat == 1 else shaped, indent=2))
    else:
        for verdict in verdicts[-1:]:
            print(f"CloudFront ({args.edge}): {verdict.summary}")
            for problem in verdict.problems:
                print(f"  - {problem}")
    failed = any(invocation.error for invocation in results) or any(v.status != 200 for v in verdicts)
    return 1 if failed else 0


def _function(args: argparse.Namespace) -> FunctionCode:
    if not args.target:
        raise UsageError("give the handler: FILE.py:function, or a code folder and --handler module.function")
    target, _, function = args.target.partition(":") if not Path(args.target).exists() else (args.target, "", "")
    path = Path(target)
    if not path.exists():
        raise UsageError(f"{target}: no such file or folder")
    if path.is_file():
        if path.suffix != ".py":
            raise UsageError(f"{target}: a handler is a Python file (.py)")
        if not function and not args.handler:
            raise UsageError(f"name the handler function: {target}:handler")
        code_dir, handler = path.parent, args.handler or f"{path.stem}.{function}"
    else:
        if not args.handler:
            raise UsageError(f"{target} is a folder: give the handler with --handler module.function")
        code_dir, handler = path, args.handler
    if not limits.MEMORY_MIN_MB <= args.memory <= limits.MEMORY_MAX_MB:
        raise UsageError(f"--memory {args.memory}: Lambda allows {limits.MEMORY_MIN_MB} to {limits.MEMORY_MAX_MB} MB")
    try:
        timeout = parse_duration(args.timeout)
    except ValueError as exc:
        raise UsageError(f"--timeout {args.timeout}: {exc}") from None
    if not 0 < timeout <= limits.TIMEOUT_MAX_S:
        raise UsageError(f"--timeout {args.timeout}: Lambda allows up to {limits.TIMEOUT_MAX_S:g} s")
    environment = {}
    for item in args.env:
        key, equals, value = item.partition("=")
        if not equals or not key:
            raise UsageError(f"--env {item}: write it as KEY=VALUE")
        environment[key] = value
    name = args.name or handler.rpartition(".")[0].replace(".", "-") or "function"
    return FunctionCode(
        name=name,
        code_dir=code_dir.resolve(),
        handler=handler,
        memory_mb=args.memory,
        timeout_s=timeout,
        environment=environment,
    )


def _event(source: str | None) -> Any:
    """The event as decoded JSON, from a file, stdin or a sample's name; bad JSON names the line and column."""
    if source is None:
        return {}
    samples = content.sample_events()
    if source == "-":
        text, where = sys.stdin.read(), "<stdin>"
    elif Path(source).exists() and not Path(source).is_dir():
        text, where = Path(source).read_text("utf-8", errors="replace"), source
    elif source in samples:
        text, where = samples[source].read_text("utf-8"), str(samples[source])
    else:
        names = ", ".join(samples) or "none shipped"
        raise UsageError(f"--event {source}: no such file, and no sample event of that name ({names})")
    if len(text.encode("utf-8")) > REQUEST_LIMIT:
        raise UsageError(
            f"{where}: RequestTooLargeException: {len(text.encode())} byte payload is too large for the "
            f"RequestResponse invocation type (limit {REQUEST_LIMIT} bytes)"
        )
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}:{exc.lineno}:{exc.colno}: the event is not JSON: {exc.msg}") from None


def _report(code: FunctionCode, invocation: Invocation) -> InvocationReport:
    error = invocation.error or {}
    return InvocationReport(
        request_id=invocation.request_id,
        duration_ms=invocation.duration_ms,
        billed_ms=_billed(invocation),
        memory_mb=code.memory_mb,
        max_memory_used_mb=invocation.max_memory_mb,
        init_ms=invocation.init_ms,
        error=error.get("errorType"),
        error_message=error.get("errorMessage"),
        timed_out=invocation.timed_out,
        timeout_s=code.timeout_s,
        timestamp=datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
    )


def _billed(invocation: Invocation) -> int:
    """Invoke plus Init, rounded up to the millisecond (Init is billed on demand since 1 August 2025,
    https://aws.amazon.com/lambda/pricing/)."""
    return math.ceil(invocation.duration_ms + (invocation.init_ms or 0.0))


def _print_text(code: FunctionCode, invocation: Invocation) -> None:
    for line in invocation_lines(_report(code, invocation), output=invocation.log):
        print(line)
    print()
    print(json.dumps(invocation.error if invocation.error else invocation.response, indent=2))
    print()


def _shape(code: FunctionCode, invocation: Invocation) -> dict:
    """The `--json` shape of shared/spec/cli.md."""
    report = {
        "duration_ms": round(invocation.duration_ms, 2),
        "billed_duration_ms": _billed(invocation),
        "memory_size_mb": code.memory_mb,
        "max_memory_used_mb": invocation.max_memory_mb,
    }
    if invocation.init_ms is not None:
        report["init_duration_ms"] = round(invocation.init_ms, 2)
    error = None
    if invocation.error:
        error = {
            "errorMessage": invocation.error.get("errorMessage", ""),
            "errorType": invocation.error["errorType"],
            "requestId": invocation.request_id,
            "stackTrace": invocation.error.get("stackTrace", []),
        }
    return {
        "request_id": invocation.request_id,
        "response": invocation.response,
        "function_error": "Unhandled" if invocation.error else None,
        "error": error,
        "logs": "\n".join(invocation_lines(_report(code, invocation), output=invocation.log)) + "\n",
        "report": report,
    }
