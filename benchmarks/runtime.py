"""Performance benchmark for lambdalab's runtime: warm invocation round trip and environment start-up.

Run from the repository root:

    python benchmarks/runtime.py            # a few seconds
    python benchmarks/runtime.py --json

Targets (issue: real handlers):
1. A warm invocation of a trivial handler: at most 1 ms round trip, median (so that 10,000 real
   invocations take seconds).
2. Starting an environment: at most 50 ms more than the handler's own import time, median of 20
   cold starts (start-up = the first invocation's wall time minus its Init Duration and its Duration).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lambdalab.runtime import ExecutionEnvironment, FunctionCode  # noqa: E402

TARGET_WARM_MS = 1.0
TARGET_START_MS = 50.0
HANDLER = "def handler(event, context):\n    return {'ok': True}\n"


def measure(warm_count: int = 2000, cold_count: int = 20) -> dict:
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "app.py").write_text(HANDLER)
        code = FunctionCode("bench", Path(folder), "app.handler")
        with ExecutionEnvironment(code) as env:
            env.invoke({}, "warm-up")
            warm = []
            for n in range(warm_count):
                started = time.perf_counter()
                env.invoke({"n": n}, f"r{n}")
                warm.append((time.perf_counter() - started) * 1000)
        starts, imports = [], []
        for n in range(cold_count):
            with ExecutionEnvironment(code, number=n) as env:
                started = time.perf_counter()
                result = env.invoke({}, f"c{n}")
                wall = (time.perf_counter() - started) * 1000
            starts.append(wall - result.init_ms - result.duration_ms)
            imports.append(result.init_ms)
    return {
        "warm_ms_median": round(statistics.median(warm), 3),
        "warm_ms_p99": round(sorted(warm)[int(len(warm) * 0.99)], 3),
        "warm_count": warm_count,
        "ten_thousand_warm_s": round(statistics.mean(warm) * 10, 2),
        "start_ms_median": round(statistics.median(starts), 1),
        "start_ms_max": round(max(starts), 1),
        "import_ms_median": round(statistics.median(imports), 2),
        "cold_count": cold_count,
        "met": {
            "warm": statistics.median(warm) <= TARGET_WARM_MS,
            "start": statistics.median(starts) <= TARGET_START_MS,
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    out = measure()
    if parser.parse_args().json:
        print(json.dumps(out, indent=2))
        return
    mark = {True: "yes", False: "NO"}
    print("lambdalab runtime benchmark")
    print(
        f"1. warm invocation round trip: median {out['warm_ms_median']} ms, p99 {out['warm_ms_p99']} ms "
        f"({out['warm_count']:,} calls; 10,000 would take {out['ten_thousand_warm_s']} s)   "
        f"target {TARGET_WARM_MS:g} ms   met: {mark[out['met']['warm']]}"
    )
    print(
        f"2. environment start-up beyond the handler's import: median {out['start_ms_median']} ms, "
        f"max {out['start_ms_max']} ms (import itself {out['import_ms_median']} ms; {out['cold_count']} cold starts)   "
        f"target {TARGET_START_MS:g} ms   met: {mark[out['met']['start']]}"
    )


if __name__ == "__main__":
    main()
