"""CloudWatch log lines in AWS's exact text format: START, END and REPORT, plus timeout and error lines.

Format from https://docs.aws.amazon.com/lambda/latest/dg/python-logging.html: fields
are tab-separated; Duration has two decimals; Billed Duration is whole ms,
rounded up; Init Duration appears only on a cold start; failed invocations end
their REPORT with `Status: timeout` or `Status: error` and `Error Type: ...`
(as seen in current real logs; see lambda-facts.md section 3.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class InvocationReport:
    """What one invocation's log lines say. The engine fills it from its model; the runtime from measurement."""

    request_id: str
    duration_ms: float
    billed_ms: int
    memory_mb: int
    max_memory_used_mb: int
    version: str = "$LATEST"
    init_ms: float | None = None
    error: str | None = None  # errorType, e.g. Sandbox.Timedout, Runtime.OutOfMemory, ValueError
    error_message: str | None = None
    timed_out: bool = False
    timeout_s: float = 0.0
    timestamp: str = ""  # ISO-8601 of the invocation's end, for the timeout line


def start_line(report: InvocationReport) -> str:
    return f"START RequestId: {report.request_id} Version: {report.version}"


def end_line(report: InvocationReport) -> str:
    return f"END RequestId: {report.request_id}"


def report_line(report: InvocationReport) -> str:
    fields = [
        f"REPORT RequestId: {report.request_id}",
        f"Duration: {report.duration_ms:.2f} ms",
        f"Billed Duration: {report.billed_ms} ms",
        f"Memory Size: {report.memory_mb} MB",
        f"Max Memory Used: {report.max_memory_used_mb} MB",
    ]
    if report.init_ms is not None:
        fields.append(f"Init Duration: {report.init_ms:.2f} ms")
    if report.timed_out:
        fields.append("Status: timeout")
    elif report.error is not None and report.error.startswith("Runtime."):
        fields += ["Status: error", f"Error Type: {report.error}"]
    return "\t".join(fields)


def invocation_lines(report: InvocationReport, output: str | None = None) -> list[str]:
    """START, what the function wrote, END and REPORT.

    A simulated function writes nothing but its failure (`[ERROR] ...`); real code's `output` is
    given as it printed it, and already holds its own `[ERROR]` lines.
    """
    lines = [start_line(report)]
    if output is not None:
        lines += output.splitlines()
    elif report.error is not None and not report.timed_out and not report.error.startswith("Runtime."):
        lines.append(f"[ERROR] {report.error}: {report.error_message}")
    if report.timed_out:
        lines.append(f"{report.timestamp} {report.request_id} Task timed out after {report.timeout_s:.2f} seconds")
    lines += [end_line(report), report_line(report)]
    return lines


def traced_lines(data: dict[str, Any], request_id: str, timeout_s: float, stamp: str) -> list[str]:
    """The lines of one `invoke_end` trace event (`sim --logs` and the simulator's log panel both write them);
    `stamp` is the time the timeout line says."""
    report = InvocationReport(
        request_id=request_id,
        duration_ms=data["duration_ms"],
        billed_ms=data["billed_ms"],
        memory_mb=data["memory_mb"],
        max_memory_used_mb=data["max_memory_used_mb"],
        init_ms=data["init_ms"],
        error=data["error"],
        error_message=data["error_message"],
        timed_out=data["timed_out"],
        timeout_s=timeout_s,
        timestamp=stamp,
        version=data["version"],
    )
    return invocation_lines(report, output=data["output"])
