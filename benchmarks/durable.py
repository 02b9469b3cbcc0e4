"""Performance benchmark for durable functions: 1,000 executions, each with 10 steps and a one-day wait.

Run from the repository root:

    python benchmarks/durable.py           # median of 3 runs
    python benchmarks/durable.py --json    # one JSON object on stdout instead of the lines

The target (the durable functions task): the whole run, parsing included, in under 5 s of wall time. The
day-long waits cost nothing to simulate (virtual time jumps to the next timer), so the work is the
invocations (2,000, plus the steps' retries) and the replays of the steps before the wait.

Targets are reported, never asserted: this is a measurement, not a test, and it exits 0 unless it crashes.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

# Benchmark the working tree, not whatever copy of lambdalab happens to be installed.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lambdalab.engine import Simulation, parse_scenario  # noqa: E402
from lambdalab.engine.report import build_report  # noqa: E402

TARGET_WALL_S = 5.0
EXECUTIONS = 1_000


def scenario_text() -> str:
    """Ten steps (five before the wait, five after, one in ten attempts failing) around a one-day wait."""
    step = "{step: s%d, duration: {mean: 80ms, jitter: 20ms}, errors: {rate: 0.1}, size: 256}"
    steps = [step % i for i in range(1, 6)] + ["{wait: overnight, for: 1d}"] + [step % i for i in range(6, 11)]
    lines = "\n".join(f"        - {s}" for s in steps)
    return f"""\
name: durable benchmark
duration: 3d
functions:
  flow:
    memory: 512
    timeout: 60s
    behaviour: {{init: 250ms, duration: 30ms}}
    durable:
      execution_timeout: 7d
      steps:
{lines}
traffic:
  - {{target: flow:$LATEST, invocation: async, rate: 20/s, for: 50s, execution_name: "run-{{n}}"}}
"""


def one_run() -> tuple[float, dict]:
    started = time.perf_counter()
    sim = Simulation(parse_scenario(scenario_text(), name="durable-benchmark.yaml")).run()
    report = build_report(sim)
    return time.perf_counter() - started, report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="one JSON object on stdout")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    times, report = [], {}
    for _ in range(args.rounds):
        wall, report = one_run()
        times.append(wall)
    durable = report["functions"]["flow"]["durable"]
    result = {
        "executions": durable["executions"]["started"],
        "succeeded": durable["executions"]["succeeded"],
        "invocations": durable["invocations"],
        "operations_billed": durable["operations"]["billed"],
        "engine_events": report["engine"]["events"],
        "wall_s_median": round(statistics.median(times), 3),
        "target_wall_s": TARGET_WALL_S,
        "met": statistics.median(times) < TARGET_WALL_S,
    }
    if args.json:
        print(json.dumps(result))
        return
    print(
        f"{result['executions']:,} executions ({result['succeeded']:,} succeeded), {result['invocations']:,} "
        f"invocations, {result['operations_billed']:,} operations, {result['engine_events']:,} engine events"
    )
    verdict = "met" if result["met"] else "MISSED"
    median = result["wall_s_median"]
    print(f"wall time, median of {args.rounds}: {median:.3f} s (target < {TARGET_WALL_S:g} s: {verdict})")


if __name__ == "__main__":
    main()
