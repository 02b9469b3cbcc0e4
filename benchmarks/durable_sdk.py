"""Performance benchmark for durable functions in real code: a handler written with AWS's SDK, a 30-day wait.

Run from the repository root, with the `durable` extra installed (aws-durable-execution-sdk-python):

    python benchmarks/durable_sdk.py            # about ten seconds
    python benchmarks/durable_sdk.py --json

Target (the Lambda 2026 issue): a real-code durable handler with a 30-day wait checked by `lambdalab check`
in under 2 s. Measured two ways:
1. `lambdalab check durable-order-approval`, as a learner runs it (a subprocess, in a fresh workspace with
   the reference solution): all six checks of the exercise, one of which has an order wait 30 days for an
   approval that never comes; median of 5 runs.
2. The runtime alone: a handler (a step, `context.wait(Duration.from_days(30))`, a step) run to completion
   in a fresh environment, median of 5 executions: the wait ends as soon as the virtual clock reaches it.
   Also reported: the same with a warm environment, and the invocations' own durations.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lambdalab.grading.exercises import load_catalogue  # noqa: E402
from lambdalab.runtime import ExecutionEnvironment, FunctionCode  # noqa: E402
from lambdalab.runtime.durable import SDK_MODULES, run_execution, start_execution  # noqa: E402

TARGET_S = 2.0
CODE = FunctionCode(
    "trial", REPO / "tests" / "handlers" / "durable", "workflows.thirty_day_wait", timeout_s=30, preload=SDK_MODULES
)
START_MS = 1_800_000_000_000
THIRTY_DAYS_MS = 30 * 86_400_000
EXERCISE = "durable-order-approval"


def longest_approval_window_hours() -> int:
    """The longest wait the exercise's visible checks give an order: the benchmark is void without 30 days."""
    exercise = next(e for e in load_catalogue().exercises if e.id == EXERCISE)
    return max(
        event["approval_hours"]
        for check in exercise.checks
        if not check.hidden
        for traffic in check.setup["override"]["traffic"]
        for event in traffic.get("events", [])
    )


def check_seconds(runs: int = 5) -> tuple[float, float]:
    """`lambdalab check` of the exercise, reference solution in place: median and max wall seconds."""
    exercise = next(e for e in load_catalogue().exercises if e.id == EXERCISE)
    with tempfile.TemporaryDirectory() as scratch:
        workspace = Path(scratch) / "ws"
        subprocess.run([sys.executable, "-m", "lambdalab", "start", str(workspace)], capture_output=True, check=True)
        for file in (exercise.folder / "solution").glob("*.py"):
            (workspace / exercise.folder.name / file.name).write_bytes(file.read_bytes())
        times = []
        for _ in range(runs):
            started = time.perf_counter()
            done = subprocess.run(
                [sys.executable, "-m", "lambdalab", "check", EXERCISE], cwd=workspace, capture_output=True, text=True
            )
            times.append(time.perf_counter() - started)
            assert done.returncode == 0, done.stdout + done.stderr  # every check passes: nothing skipped
    return statistics.median(times), max(times)


def one_execution(env: ExecutionEnvironment, n: int) -> tuple[float, list[float], int]:
    """Wall seconds to run one execution to its end, its invocations' durations (ms) and the virtual span (ms)."""
    execution = start_execution("us-east-1", "123456789012", "trial", "live", f"t-{n}", f"e-{n}", {}, START_MS)
    started = time.perf_counter()
    runs = run_execution(env, execution)
    wall = time.perf_counter() - started
    assert execution.status == "SUCCEEDED" and execution.result == '"trial ended"', execution.error
    return wall, [run.invocation.duration_ms for run in runs], execution.operations[0]["EndTimestamp"] - START_MS


def measure(count: int = 5) -> dict:
    check_median, check_max = check_seconds(count)
    window_days = longest_approval_window_hours() / 24
    cold, warm, durations, spans = [], [], [], []
    for n in range(count):
        with ExecutionEnvironment(CODE, number=n) as env:
            wall, invocation_ms, span = one_execution(env, n)
            cold.append(wall)
            spans.append(span)
            wall, invocation_ms, span = one_execution(env, count + n)
            warm.append(wall)
            durations += invocation_ms
    return {
        "check_s_median": round(check_median, 3),
        "check_s_max": round(check_max, 3),
        "check_longest_wait_days": window_days,
        "cold_s_median": round(statistics.median(cold), 3),
        "cold_s_max": round(max(cold), 3),
        "warm_s_median": round(statistics.median(warm), 3),
        "invocation_ms_median": round(statistics.median(durations), 1),
        "virtual_days": round(min(spans) / 86_400_000, 3),
        "count": count,
        "met": check_median < TARGET_S
        and window_days >= 30
        and statistics.median(cold) < TARGET_S
        and min(spans) >= THIRTY_DAYS_MS,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    out = measure()
    if parser.parse_args().json:
        print(json.dumps(out, indent=2))
        return
    print("lambdalab durable functions (AWS's SDK, real code) benchmark")
    print(
        f"lambdalab check {EXERCISE} (6 checks, one waits {out['check_longest_wait_days']:g} days): "
        f"median {out['check_s_median']} s wall (max {out['check_s_max']} s; {out['count']} runs)"
    )
    print(
        f"a 30-day wait, run to completion: median {out['cold_s_median']} s wall with a cold start "
        f"(max {out['cold_s_max']} s), {out['warm_s_median']} s warm; {out['virtual_days']} virtual days; "
        f"invocations {out['invocation_ms_median']} ms each (median; {out['count']} executions)   "
        f"target {TARGET_S:g} s   met: {'yes' if out['met'] else 'NO'}"
    )


if __name__ == "__main__":
    main()
