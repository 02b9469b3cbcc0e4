"""Performance benchmark for durable functions in real code: a handler written with AWS's SDK, a 30-day wait.

Run from the repository root, with the `durable` extra installed (aws-durable-execution-sdk-python):

    python benchmarks/durable_sdk.py            # a few seconds
    python benchmarks/durable_sdk.py --json

Target: the handler (a step, `context.wait(Duration.from_days(30))`, a step) runs to completion, cold start
included, in under 2 s of wall time, median of 5 executions each in a fresh environment: the wait ends as
soon as the virtual clock reaches it. Also reported: the same with a warm environment, and the invocations'
own durations.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lambdalab.runtime import ExecutionEnvironment, FunctionCode  # noqa: E402
from lambdalab.runtime.durable import run_execution, start_execution  # noqa: E402

TARGET_S = 2.0
CODE = FunctionCode("trial", REPO / "tests" / "handlers" / "durable", "workflows.thirty_day_wait", timeout_s=30)
START_MS = 1_800_000_000_000
THIRTY_DAYS_MS = 30 * 86_400_000


def one_execution(env: ExecutionEnvironment, n: int) -> tuple[float, list[float], int]:
    """Wall seconds to run one execution to its end, its invocations' durations (ms) and the virtual span (ms)."""
    execution = start_execution("us-east-1", "123456789012", "trial", "live", f"t-{n}", f"e-{n}", {}, START_MS)
    started = time.perf_counter()
    runs = run_execution(env, execution)
    wall = time.perf_counter() - started
    assert execution.status == "SUCCEEDED" and execution.result == '"trial ended"', execution.error
    return wall, [run.invocation.duration_ms for run in runs], execution.operations[0]["EndTimestamp"] - START_MS


def measure(count: int = 5) -> dict:
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
        "cold_s_median": round(statistics.median(cold), 3),
        "cold_s_max": round(max(cold), 3),
        "warm_s_median": round(statistics.median(warm), 3),
        "invocation_ms_median": round(statistics.median(durations), 1),
        "virtual_days": round(min(spans) / 86_400_000, 3),
        "count": count,
        "met": statistics.median(cold) < TARGET_S and min(spans) >= THIRTY_DAYS_MS,
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
        f"a 30-day wait, run to completion: median {out['cold_s_median']} s wall with a cold start "
        f"(max {out['cold_s_max']} s), {out['warm_s_median']} s warm; {out['virtual_days']} virtual days; "
        f"invocations {out['invocation_ms_median']} ms each (median; {out['count']} executions)   "
        f"target {TARGET_S:g} s   met: {'yes' if out['met'] else 'NO'}"
    )


if __name__ == "__main__":
    main()
