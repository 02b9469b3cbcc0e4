"""Performance benchmark for lambdalab's TUI: first paint, the simulator's UI cost, key latency and memory.

Run from the repository root:

    python benchmarks/tui.py            # about half a minute
    python benchmarks/tui.py --json     # one JSON object instead of the table
    python benchmarks/tui.py --scenario assets/scenarios/tenant-isolation.yaml   # the simulator on another scenario
    python benchmarks/tui.py --scenario FILE --start 180   # ... playing from virtual time 180 s

The issue's targets, measured headless (Textual's test driver renders every
frame but writes it nowhere, so a real terminal adds its own drawing time):

1. Time to first paint of the course map: from a fresh interpreter's start to
   the course map mounted and drawn, median of 5 runs. Target: 0.8 s or less.
2. The simulator playing a scenario with 1,000 concurrent environments at 10
   UI updates a second: CPU time of the UI thread (the engine's worker thread
   is not counted) over wall time. Target: at most 25 % of one core.
3. Key latency while it plays: from a key press to the screen showing its
   effect. Target: under 100 ms.
4. Peak memory of the process with the simulator open. Target: 150 MB.

Targets are reported, never asserted; the script exits 0 unless it crashes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from engine import peak_rss_mb  # noqa: E402  (benchmarks/engine.py: peak memory of this process alone)

TARGET_FIRST_PAINT_S = 0.8
TARGET_UI_CPU = 0.25
TARGET_KEY_MS = 100.0
TARGET_RSS_MB = 150.0
PLAY_WALL_S = 8.0

# A steady 2,000 requests a second of 0.5 s each: about 1,000 environments busy at once, for a long time; and,
# beside it, something for every concept view (async retries to a DLQ, an SQS queue with redrives, a FIFO
# queue, a Kinesis stream with a poison record, an alias shifting by CodeDeploy, a denied caller), so that
# every view is open and drawing while the thousand environments run.
THOUSAND_ENVIRONMENTS = """\
name: A thousand concurrent environments, and every view
duration: 10m
account: {concurrency: 3000, region: us-east-1, account_id: "111122223333"}
queues:
  dlq: {}
  orders: {visibility_timeout: 30s, max_receive_count: 3, dead_letter: orders-dlq}
  orders-dlq: {}
  groups.fifo: {fifo: true, visibility_timeout: 20s}
  skipped: {}
streams:
  views: {type: kinesis, shards: 4}
functions:
  api:
    memory: 512
    timeout: 10s
    behaviour:
      init: 200ms
      duration: {mean: 500ms, jitter: 100ms}
  worker:
    timeout: 5s
    behaviour:
      init: 100ms
      duration: {mean: 100ms, jitter: 20ms}
      errors: {when: {path: $.poison, equals: true}}
    dead_letter_queue: dlq
    async: {maximum_retry_attempts: 2}
    versions: {"1": {}, "2": {}}
    aliases: {live: {version: "1"}}
    resource_policy:
      - {Effect: Allow, Principal: {Service: s3.amazonaws.com}, Action: "lambda:InvokeFunction",
         Resource: "arn:aws:lambda:us-east-1:111122223333:function:worker",
         Condition: {ArnLike: {"aws:SourceArn": "arn:aws:s3:::photos"}}}
event_source_mappings:
  - {source: queue:orders, function: worker, batch_size: 10}
  - {source: queue:groups.fifo, function: worker, batch_size: 1}
  - {source: stream:views, function: worker, starting_position: TRIM_HORIZON, batch_size: 100, bisect_on_error: true,
     maximum_retry_attempts: 2, on_failure: queue:skipped}
deployments:
  - {function: worker, alias: live, to: "2", config: Linear10PercentEvery1Minute, start: 1m}
traffic:
  - {target: api, invocation: sync, rate: 2000/s, for: 10m}
  - {target: worker, invocation: async, rate: 5/s, for: 10m, events: [{n: 1}, {n: 2}, {n: 3, poison: true}]}
  - {target: "worker:live", invocation: sync, rate: 10/s, for: 10m}
  - {target: queue:orders, rate: 20/s, for: 10m, events: [{n: 1}, {n: 2}, {poison: true}]}
  - {target: queue:groups.fifo, rate: 5/s, for: 10m, message_group: $.g, events: [{g: a, poison: true}, {g: b}, {g: c}]}
  - {target: stream:views, rate: 50/s, for: 10m, partition_key: $.page, events: [{page: a}, {page: b}, {page: c}]}
  - {target: stream:views, burst: 1, at: 30s, partition_key: $.page, event: {page: a, poison: true}}
  - {target: worker, invocation: async, rate: 1/s, for: 10m, principal: s3.amazonaws.com,
     source_arn: "arn:aws:s3:::strangers"}
"""

FIRST_PAINT_CHILD = """
import time
started = time.perf_counter()
import asyncio
from lambdalab.tui.app import LambdalabApp
from lambdalab.tui.screens.course_map import CourseMapScreen

async def main():
    app = LambdalabApp()
    async with app.run_test(size=(120, 40)) as pilot:
        while not isinstance(app.screen, CourseMapScreen) or not app.screen.query("#lessons"):
            await asyncio.sleep(0.005)
        await pilot.pause()  # the first frame is composed and drawn
        print(time.perf_counter() - started)

asyncio.run(main())
"""


def first_paint_runs(n: int = 5) -> list[float]:
    """Each run in a fresh interpreter, so imports are paid as a learner pays them."""
    out = []
    for _ in range(n):
        with tempfile.TemporaryDirectory() as home:
            child = subprocess.run(
                [sys.executable, "-c", FIRST_PAINT_CHILD],
                cwd=REPO,
                capture_output=True,
                text=True,
                check=True,
                env={**os.environ, "LAMBDALAB_HOME": home},
            )
        out.append(float(child.stdout.strip().splitlines()[-1]))
    return out


async def simulator_run(path: Path | None = None, start: float = 0.0) -> dict:
    from lambdalab.course.progress import ProgressStore
    from lambdalab.engine.managed_instances import ManagedRuntime
    from lambdalab.tui.app import LambdalabApp
    from lambdalab.tui.screens.simulator import SPEEDS, SimulatorScreen

    with tempfile.TemporaryDirectory() as home:
        scenario = path.resolve() if path else Path(home) / "thousand.yaml"
        if path is None:
            scenario.write_text(THOUSAND_ENVIRONMENTS)
        app = LambdalabApp(store=ProgressStore(Path(home)))
        async with app.run_test(size=(160, 48)) as pilot:  # wide and tall enough for every view at once
            await pilot.pause()
            app.open_simulator(scenario, autoplay=False)
            await pilot.pause()
            screen = app.screen
            assert isinstance(screen, SimulatorScreen)
            views = screen._shown_views()
            if start:
                screen.seek(start)
            screen.speed_index = SPEEDS.index(1)
            screen.playing = True
            await asyncio.sleep(3.0)  # the cold-start wave, before measuring the steady state
            ui_cpu_start, wall_start, virtual_start = time.thread_time(), time.perf_counter(), screen.run.now
            await asyncio.sleep(PLAY_WALL_S)
            ui_cpu = time.thread_time() - ui_cpu_start
            wall = time.perf_counter() - wall_start
            virtual = screen.run.now - virtual_start
            runtimes = screen.run.sim.runtimes.values()
            busy = sum(f.busy for f in runtimes)
            environments = sum(len(f.ees) if isinstance(f, ManagedRuntime) else len(f.environments) for f in runtimes)
            latencies = []
            for _ in range(10):
                before = screen.chart_function
                title = screen.query_one("#sim-status").content
                started = time.perf_counter()
                # pilot.press also waits for the app to go idle, which a playing simulator never quite is:
                # measure from the key to the status line showing the new speed instead.
                press = asyncio.create_task(pilot.press("minus" if len(latencies) % 2 else "plus"))
                while str(screen.query_one("#sim-status").content) == str(title) and time.perf_counter() - started < 2:
                    await asyncio.sleep(0.001)
                latencies.append((time.perf_counter() - started) * 1000)
                await press
                assert screen.chart_function == before
                await asyncio.sleep(0.2)
            rss = peak_rss_mb()
    return {
        "ui_cpu_share": round(ui_cpu / wall, 3),
        "wall_s": round(wall, 2),
        "virtual_s": round(virtual, 2),
        "busy": busy,
        "environments": environments,
        "views": views,
        "key_latency_ms": [round(x, 1) for x in latencies],
        "key_latency_median_ms": round(statistics.median(latencies), 1),
        "key_latency_max_ms": round(max(latencies), 1),
        "peak_rss_mb": round(rss, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--scenario", type=Path, help="play this scenario file instead of the thousand environments")
    parser.add_argument("--start", type=float, default=0.0, help="play from this virtual time (seconds)")
    args = parser.parse_args()
    paints = first_paint_runs()
    sim = asyncio.run(simulator_run(args.scenario, args.start))
    out = {
        "first_paint_s": [round(x, 3) for x in paints],
        "first_paint_median_s": round(statistics.median(paints), 3),
        "simulator": sim,
        "met": {
            "first_paint": statistics.median(paints) <= TARGET_FIRST_PAINT_S,
            "ui_cpu": sim["ui_cpu_share"] <= TARGET_UI_CPU,
            "key_latency": sim["key_latency_max_ms"] < TARGET_KEY_MS,
            "memory": sim["peak_rss_mb"] <= TARGET_RSS_MB,
        },
    }
    if args.json:
        print(json.dumps(out, indent=2))
        return
    mark = {True: "yes", False: "NO"}
    print("lambdalab TUI benchmark (headless; course map at 120x40, simulator at 160x48)")
    print(
        f"1. first paint of the course map (s): {'  '.join(f'{x:.3f}' for x in paints)}   "
        f"median {out['first_paint_median_s']:.3f}   target {TARGET_FIRST_PAINT_S}   "
        f"met: {mark[out['met']['first_paint']]}"
    )
    print(
        f"2. simulator at 1x{f' on {args.scenario}' if args.scenario else ''}, views {', '.join(sim['views'])}, "
        f"{sim['busy']:,} busy of {sim['environments']:,} environments, {sim['virtual_s']} s virtual "
        f"in {sim['wall_s']} s: UI thread {sim['ui_cpu_share'] * 100:.1f} % of a core   "
        f"target {TARGET_UI_CPU * 100:.0f} %   met: {mark[out['met']['ui_cpu']]}"
    )
    print(
        f"3. key to screen (ms): median {sim['key_latency_median_ms']}, max {sim['key_latency_max_ms']}   "
        f"target < {TARGET_KEY_MS:g}   met: {mark[out['met']['key_latency']]}"
    )
    print(
        f"4. peak memory with the simulator open: {sim['peak_rss_mb']} MB   target {TARGET_RSS_MB:g}   "
        f"met: {mark[out['met']['memory']]}"
    )


if __name__ == "__main__":
    main()
