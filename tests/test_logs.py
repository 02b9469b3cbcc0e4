"""START / END / REPORT lines in AWS's exact text format (tab-separated, 2-decimal ms, billed whole ms)."""

from __future__ import annotations

from lambdalab.engine.logs import InvocationReport, invocation_lines, report_line

RID = "8f507cfc-1234-4697-b07a-ac58fc914c95"


def test_warm_report_line_matches_aws_format():
    line = report_line(InvocationReport(RID, 15.7412, 16, 128, 56))
    assert line == (
        f"REPORT RequestId: {RID}\tDuration: 15.74 ms\tBilled Duration: 16 ms\t"
        "Memory Size: 128 MB\tMax Memory Used: 56 MB"
    )


def test_cold_report_line_adds_init_duration():
    line = report_line(InvocationReport(RID, 15.74, 146, 128, 56, init_ms=130.49))
    assert line.endswith("\tMax Memory Used: 56 MB\tInit Duration: 130.49 ms")


def test_timeout_lines_put_the_message_between_start_and_end_and_mark_the_report():
    report = InvocationReport(
        RID,
        3000.0,
        3000,
        128,
        64,
        error="Sandbox.Timedout",
        timed_out=True,
        timeout_s=3,
        timestamp="2026-01-01T00:00:03.000Z",
    )
    assert invocation_lines(report) == [
        f"START RequestId: {RID} Version: $LATEST",
        f"2026-01-01T00:00:03.000Z {RID} Task timed out after 3.00 seconds",
        f"END RequestId: {RID}",
        f"REPORT RequestId: {RID}\tDuration: 3000.00 ms\tBilled Duration: 3000 ms\tMemory Size: 128 MB\t"
        "Max Memory Used: 64 MB\tStatus: timeout",
    ]


def test_runtime_errors_carry_status_and_error_type_but_exceptions_log_an_error_line():
    oom = InvocationReport(RID, 812.5, 813, 128, 128, error="Runtime.OutOfMemory", error_message="killed")
    assert report_line(oom).endswith("\tMax Memory Used: 128 MB\tStatus: error\tError Type: Runtime.OutOfMemory")
    exc = InvocationReport(RID, 5.0, 5, 128, 40, error="KeyError", error_message="'order'")
    lines = invocation_lines(exc)
    assert lines[1] == "[ERROR] KeyError: 'order'"
    assert "Status" not in lines[-1]


def test_version_on_start_line_is_the_executed_version():
    lines = invocation_lines(InvocationReport(RID, 1.0, 1, 128, 40, version="7"))
    assert lines[0] == f"START RequestId: {RID} Version: 7"
