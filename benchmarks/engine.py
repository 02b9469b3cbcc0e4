"""Performance benchmark for lambdalab's engine: throughput, speed against SimPy, and memory at scale.

Run from the repository root (SimPy is only needed for the comparison: pip install -e '.[bench]'):

    python benchmarks/engine.py            # full run, about a minute
    python benchmarks/engine.py --quick    # smaller sizes, a smoke run of about ten seconds
    python benchmarks/engine.py --json     # one JSON object on stdout instead of the table

It measures the issue's three targets:

1. Throughput: engine events per second (events_run / wall seconds of the run,
   parsing excluded), median of 3 runs, on a Lambda-shaped scenario: cold and
   warm environments, idle expiry, reserved-concurrency throttles, async
   retries after function errors and throttle backoff. Target: 500,000/s.
2. The same workload written in SimPy (simpy_model.py), timed in the same
   rounds, interleaved with the engine so that machine noise hits both alike.
   Target: the engine at least 5x faster.
3. Scale: 100,000 and 1,000,000 requests (sync 10,000/s, ~50 ms each), each in
   a fresh subprocess so that peak RSS belongs to that run alone. Target: the
   million in under 10 s and 300 MB, with memory that follows concurrency (the
   same here) rather than the number of requests.

Targets are reported, never asserted: this is a measurement, not a test, and it
always exits 0 unless it crashes.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

# Benchmark the working tree, not whatever copy of lambdalab happens to be installed.
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lambdalab.engine import Simulation, parse_scenario  # noqa: E402
from lambdalab.engine.report import build_report  # noqa: E402

TARGET_EVENTS_PER_S = 500_000
TARGET_SPEEDUP = 5.0
TARGET_MILLION_WALL_S = 10.0
TARGET_MILLION_RSS_MB = 300.0
ROUNDS = 3


# --- the workload -----------------------------------------------------------------------------
#
# One description feeds both implementations: it is rendered to scenario YAML for
# the engine and handed as data to the SimPy model, so the two cannot drift apart.
# Times are seconds; distributions are (kind, a, b) as in simpy_model.sampler.
# Arrivals are uniform so that request counts match exactly between the two.


def lambda_workload(scale: float) -> dict:
    """Four functions, five minutes, ~516,000 requests at scale 1 (rates and reservations scale together)."""

    def reserved(n: int) -> int:
        return max(1, round(n * scale))

    functions = {
        # A synchronous API with a traffic gap longer than its idle expiry: the whole pool expires,
        # then comes back cold.
        "api": dict(
            memory=512,
            timeout=10.0,
            reserved=None,
            idle_expiry=30.0,
            init=("jitter", 0.25, 0.1),
            duration=("lognormal", 0.03, 0.25),
            error_rate=0.02,
        ),
        # Synchronous, offered ~30 concurrent against a reservation of 25: a steady stream of 429s.
        "checkout": dict(
            memory=1024,
            timeout=6.0,
            reserved=reserved(25),
            idle_expiry=60.0,
            init=("jitter", 0.4, 0.1),
            duration=("jitter", 0.06, 0.03),
            error_rate=0.01,
        ),
        # Async bursts above the reservation: throttle backoff, plus 10 % errors retried at +60 s and +120 s.
        "thumbnailer": dict(
            memory=2048,
            timeout=30.0,
            reserved=reserved(20),
            idle_expiry=20.0,
            init=("uniform", 0.5, 1.5),
            duration=("exponential", 0.08, 0.0),
            error_rate=0.1,
            max_retries=2,
        ),
        # Async bursts on the unreserved pool, each a cold-start wave after the previous pool expired.
        "ingest": dict(
            memory=256,
            timeout=15.0,
            reserved=None,
            idle_expiry=15.0,
            init=("lognormal", 0.4, 1.5),
            duration=("uniform", 0.02, 0.12),
            error_rate=0.05,
            max_retries=2,
        ),
    }

    def traffic(target: str, invocation: str, rate: float, start: float, length: float) -> dict:
        rate = round(rate * scale, 3)
        return dict(target=target, invocation=invocation, rate=rate, start=start, length=length, end=start + length)

    plan = [
        traffic("api", "sync", 1200, 0.0, 100.0),
        traffic("api", "sync", 1200, 160.0, 140.0),
        traffic("checkout", "sync", 500, 0.0, 300.0),
        *(traffic("thumbnailer", "async", 400, t, 15.0) for t in (0.0, 60.0, 120.0, 180.0, 240.0)),
        *(traffic("ingest", "async", 800, t, 20.0) for t in (30.0, 130.0, 230.0)),
    ]
    return dict(duration=300.0, account_concurrency=1000, functions=functions, traffic=plan)


def scale_workload(requests: int, rate: float = 10_000.0) -> dict:
    """The scale test: one synchronous function at a steady rate, so concurrency is the same at any length.

    Init is short (a compiled runtime) so that the opening cold wave, 10,000/s x (Init + duration),
    stays under the account's 1,000: every request runs and steady state is ~500 busy environments.
    """
    length = requests / rate
    return dict(
        duration=length + 1.0,  # one more second lets the last requests finish
        account_concurrency=1000,
        functions={
            "api": dict(
                memory=512,
                timeout=10.0,
                reserved=None,
                idle_expiry=60.0,
                init=("jitter", 0.02, 0.005),
                duration=("jitter", 0.05, 0.02),
            )
        },
        traffic=[dict(target="api", invocation="sync", rate=rate, start=0.0, length=length, end=length)],
    )


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:g}ms"


def _distribution_yaml(dist: tuple) -> str:
    kind, a, b = dist
    if kind == "fixed":
        return _ms(a)
    if kind == "jitter":
        return f"{{mean: {_ms(a)}, jitter: {_ms(b)}}}"
    if kind == "exponential":
        return f"{{dist: exponential, mean: {_ms(a)}}}"
    if kind == "uniform":
        return f"{{dist: uniform, min: {_ms(a)}, max: {_ms(b)}}}"
    return f"{{dist: lognormal, median: {_ms(a)}, p99: {_ms(b)}}}"


def to_yaml(workload: dict, name: str) -> str:
    lines = [
        f"name: {name}",
        f"duration: {workload['duration']:g}s",
        f"account: {{concurrency: {workload['account_concurrency']}}}",
        "functions:",
    ]
    for fn_name, fn in workload["functions"].items():
        lines += [
            f"  {fn_name}:",
            f"    memory: {fn['memory']}",
            f"    timeout: {fn['timeout']:g}s",
            f"    idle_expiry: {fn['idle_expiry']:g}s",
        ]
        if fn["reserved"] is not None:
            lines.append(f"    reserved_concurrency: {fn['reserved']}")
        lines += [
            "    behaviour:",
            f"      init: {_distribution_yaml(fn['init'])}",
            f"      duration: {_distribution_yaml(fn['duration'])}",
        ]
        if fn.get("error_rate"):
            lines.append(f"      errors: {{rate: {fn['error_rate']}}}")
        if "max_retries" in fn:
            lines.append(f"    async: {{maximum_retry_attempts: {fn['max_retries']}}}")
    lines.append("traffic:")
    for t in workload["traffic"]:
        lines.append(
            f"  - {{target: {t['target']}, invocation: {t['invocation']}, rate: {t['rate']:g}/s, "
            f"start: {t['start']:g}s, for: {t['length']:g}s}}"
        )
    return "\n".join(lines) + "\n"


def expected_requests(workload: dict) -> int:
    """Uniform arrivals at start + n / rate for n = 0, 1, ... while before the end."""
    total = 0
    for t in workload["traffic"]:
        n = 0
        while t["start"] + n / t["rate"] < t["end"]:
            n += 1
        total += n
    return total


# --- one engine run ---------------------------------------------------------------------------


def run_engine(scenario) -> tuple[Simulation, float]:
    """Build and run a parsed scenario; returns the simulation and the wall seconds of the run."""
    gc.collect()  # start every timed run from the same heap state, whatever ran before
    started = time.perf_counter()
    sim = Simulation(scenario).run()
    return sim, time.perf_counter() - started


def engine_counts(sim: Simulation) -> dict[str, dict[str, int]]:
    """The engine's counters under the SimPy model's names, for the sanity table."""
    out = {}
    for name, fn in sim.functions.items():
        out[name] = dict(
            requests=fn.outcomes.requests,
            invocations=fn.metrics.invocations,
            errors=fn.metrics.errors,
            throttles=fn.metrics.throttles,
            cold_starts=fn.metrics.cold_starts,
            created=fn.metrics.environments_created,
            expired=fn.metrics.environments_created - len(fn.environments),
            succeeded=fn.outcomes.succeeded,
            failed=fn.outcomes.failed,
            throttled=fn.outcomes.throttled,
            retried=fn.async_state.retried,
            dropped=fn.async_state.dropped,
        )
    return out


def run_simpy(workload: dict) -> tuple[dict, float]:
    import simpy_model  # imported late: the scale subprocesses must not carry SimPy in their RSS

    gc.collect()
    started = time.perf_counter()
    counts = simpy_model.run(workload)
    return counts, time.perf_counter() - started


# --- targets 1 and 2: throughput and SimPy, side by side --------------------------------------


def throughput_and_simpy(scale: float) -> dict:
    workload = lambda_workload(scale)
    scenario = parse_scenario(to_yaml(workload, "bench-lambda"), name="bench.yaml")
    try:
        import simpy

        simpy_version = simpy.__version__
    except ImportError:  # the comparison is optional; throughput alone still means something
        simpy_version = None

    engine_s, simpy_s, events, sim, simpy_counts = [], [], set(), None, None
    for _ in range(ROUNDS):
        sim, seconds = run_engine(scenario)
        engine_s.append(seconds)
        events.add(sim.loop.events_run)
        if simpy_version:
            simpy_counts, seconds = run_simpy(workload)
            simpy_s.append(seconds)
    assert len(events) == 1, "the engine is deterministic: every run executes the same events"
    events_run = events.pop()
    report = build_report(sim)  # not timed: proves the run reports, and gives the in-flight figure
    median_engine = statistics.median(engine_s)
    result = {
        "scenario": {
            "functions": len(workload["functions"]),
            "traffic_generators": len(workload["traffic"]),
            "virtual_s": workload["duration"],
            "requests": expected_requests(workload),
            "scale": scale,
            "in_flight_at_end": sum(f["outcomes"]["in_flight"] for f in report["functions"].values()),
        },
        "throughput": {
            "events": events_run,
            "runs_s": [round(s, 4) for s in engine_s],
            "median_s": round(median_engine, 4),
            "events_per_s": round(events_run / median_engine),
            "target": TARGET_EVENTS_PER_S,
            "met": events_run / median_engine >= TARGET_EVENTS_PER_S,
        },
        "simpy": None,
    }
    bare_s = statistics.median(bare_loop_seconds(events_run, 1_300) for _ in range(ROUNDS))
    result["bare_loop"] = {
        "median_s": round(bare_s, 4),
        "us_per_event": round(bare_s / events_run * 1e6, 3),
        "engine_us_per_event": round(median_engine / events_run * 1e6, 3),
    }
    if simpy_s:
        median_simpy = statistics.median(simpy_s)
        mine = engine_counts(sim)
        result["simpy"] = {
            "simpy_version": simpy_version,
            "runs_s": [round(s, 4) for s in simpy_s],
            "median_s": round(median_simpy, 4),
            "engine_median_s": round(median_engine, 4),
            "speedup": round(median_simpy / median_engine, 2),
            "target": TARGET_SPEEDUP,
            "bare_loop_speedup": round(median_simpy / bare_s, 2),
            "met": median_simpy / median_engine >= TARGET_SPEEDUP,
            "requests_match": all(mine[f]["requests"] == simpy_counts[f]["requests"] for f in mine),
            "sanity": {f: {k: [mine[f][k], simpy_counts[f][k]] for k in mine[f]} for f in mine},
        }
    return result


def bare_loop_seconds(events: int, pending: int) -> float:
    """The floor under any heapq engine in this interpreter: `events` pops, each pushing one successor.

    Each action draws one random number and schedules the next, with `pending` entries in the heap
    (the workload's in-flight count), and nothing else: no Lambda at all. Whatever the engine spends
    above this is its model; a speedup over SimPy can never exceed SimPy's time over this one.
    """
    import heapq
    import itertools
    import random

    heap, seq, rand, clock = [], itertools.count(), random.Random(1).random, [0.0]

    def action(_: object) -> None:
        heapq.heappush(heap, (clock[0] + rand(), next(seq), action, None))

    for _ in range(pending):
        action(None)
    gc.collect()
    started = time.perf_counter()
    for _ in range(events):
        clock[0], _, act, arg = heapq.heappop(heap)
        act(arg)
    return time.perf_counter() - started


# --- target 3: a million requests, memory in a fresh process ----------------------------------


def _proc_status_mb(field: str) -> float | None:
    """A memory figure of this process from /proc/self/status (Linux), in MB; None elsewhere."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def peak_rss_mb() -> float:
    """Peak resident memory of this process alone.

    VmHWM first: on Linux, ru_maxrss of an exec'd child starts from the RSS of the parent
    it was forked from (the kernel carries the old address space's high-water mark over
    exec), so after the SimPy rounds it would report the parent's peak, not the child's.
    """
    peak = _proc_status_mb("VmHWM")
    if peak is not None:
        return peak
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / 2**20 if sys.platform == "darwin" else rss / 1024  # bytes on macOS, KB elsewhere


def _current_rss_mb() -> float | None:
    """Resident memory now. The peak alone cannot show what a run adds: parsing (YAML,
    JSON Schema) peaks before the run starts and leaves freed memory that the run reuses."""
    return _proc_status_mb("VmRSS")


def scale_child(requests: int) -> None:
    """Runs inside the subprocess: parse, run, report, and say what it cost, as JSON on stdout."""
    workload = scale_workload(requests)
    scenario = parse_scenario(to_yaml(workload, f"bench-scale-{requests}"), name="bench-scale.yaml")
    gc.collect()
    rss_before = _current_rss_mb()  # the interpreter, lambdalab and its imports: what every run pays
    sim, run_s = run_engine(scenario)
    rss_after = _current_rss_mb()  # the finished simulation is still alive here, so this is what it holds
    started = time.perf_counter()
    report = build_report(sim)
    report_s = time.perf_counter() - started
    fn = report["functions"]["api"]
    json.dump(
        {
            "requests": fn["outcomes"]["requests"],
            "events": sim.loop.events_run,
            "run_s": run_s,
            "report_s": report_s,
            "rss_before_run_mb": rss_before,
            "rss_after_run_mb": rss_after,
            "peak_rss_mb": peak_rss_mb(),
            "max_concurrency": fn["metrics"]["ConcurrentExecutions"],
            "environments_max": fn["environments"]["max"],
            "throttled": fn["outcomes"]["throttled"],
            "heap_left": len(sim.loop.heap),
        },
        sys.stdout,
    )


def scale_runs(sizes: list[int]) -> dict:
    runs = []
    for requests in sizes:
        started = time.perf_counter()
        child = subprocess.run(
            [sys.executable, __file__, "--scale-child", str(requests)],
            capture_output=True,
            text=True,
            check=True,
            cwd=REPO,
        )
        wall = time.perf_counter() - started  # the whole job: interpreter start, imports, parse, run, report
        data = json.loads(child.stdout)
        data["wall_s"] = wall
        data["events_per_s"] = round(data["events"] / data["run_s"])
        runs.append({k: round(v, 4) if isinstance(v, float) else v for k, v in data.items()})
    largest = runs[-1]
    return {
        "runs": runs,
        "target_wall_s": TARGET_MILLION_WALL_S,
        "target_peak_rss_mb": TARGET_MILLION_RSS_MB,
        # Growth from the smallest to the largest run, above the fixed cost of the interpreter and imports.
        "rss_growth_mb": round(largest["peak_rss_mb"] - runs[0]["peak_rss_mb"], 1) + 0.0,  # + 0.0: no "-0.0"
        "met": largest["requests"] >= 1_000_000
        and largest["wall_s"] < TARGET_MILLION_WALL_S
        and largest["peak_rss_mb"] < TARGET_MILLION_RSS_MB,
    }


# --- output -----------------------------------------------------------------------------------


def _mark(met: bool) -> str:
    return "yes" if met else "NO"


def print_table(out: dict) -> None:
    m = out["machine"]
    print(f"lambdalab engine benchmark ({out['mode']})")
    print(
        f"  Python {m['python']} ({m['implementation']}), {m['platform']}, os.cpu_count() = {m['cpu_count']}, "
        f"load average at start {m['load_average']}"
    )

    s, t = out["scenario"], out["throughput"]
    print(
        f"\n1. Throughput: Lambda-shaped scenario, {s['functions']} functions, {s['traffic_generators']} generators, "
        f"{s['virtual_s']:g} s virtual, {s['requests']:,} requests ({s['in_flight_at_end']:,} in flight at the end)"
    )
    print(f"   engine events      {t['events']:>12,}")
    print(f"   run wall (s)       {'  '.join(f'{x:.3f}' for x in t['runs_s'])}   median {t['median_s']:.3f}")
    print(f"   events/s           {t['events_per_s']:>12,}   target {t['target']:,}   met: {_mark(t['met'])}")

    b = out["bare_loop"]
    print(
        f"   per event          {b['engine_us_per_event']:.3f} us; a bare heapq loop of as many events, "
        f"one random draw each and no Lambda: {b['us_per_event']:.3f} us"
    )

    sp = out["simpy"]
    print("\n2. Against SimPy: the same workload, rounds interleaved with the engine's")
    print("   (the SimPy model keeps counters only; the engine also keeps histograms, billing and maxima)")
    if sp is None:
        print("   skipped: simpy is not installed (pip install -e '.[bench]')")
    else:
        print(
            f"   SimPy {sp['simpy_version']} wall (s)  {'  '.join(f'{x:.3f}' for x in sp['runs_s'])}"
            f"   median {sp['median_s']:.3f}"
        )
        print(f"   engine wall (s)         median {sp['engine_median_s']:.3f} (the same rounds as above)")
        print(f"   speedup                 {sp['speedup']:.2f}x   target {sp['target']:g}x   met: {_mark(sp['met'])}")
        print(f"   ceiling                 {sp['bare_loop_speedup']:.2f}x: SimPy against the bare heapq loop above")
        print(
            "   sanity, engine / SimPy (chance makes them differ a little; "
            f"requests match: {_mark(sp['requests_match'])})"
        )
        functions = list(sp["sanity"])
        print("     " + f"{'':<12}" + "".join(f"{fn:>20}" for fn in functions))
        for key in sp["sanity"][functions[0]]:
            cells = (sp["sanity"][fn][key] for fn in functions)
            print("     " + f"{key:<12}" + "".join(f"{f'{a:,} / {b:,}':>20}" for a, b in cells))

    sc = out["scale"]
    print("\n3. Scale: sync 10,000/s, ~50 ms each, one fresh process per size")
    print(
        f"   {'requests':>10} {'wall s':>7} {'run s':>6} {'events/s':>9} {'RSS before':>11} {'RSS after':>10} "
        f"{'peak RSS':>9} {'concurrency':>12} {'environments':>13} {'throttled':>10}"
    )
    for r in sc["runs"]:
        before = f"{r['rss_before_run_mb']:.1f}" if r["rss_before_run_mb"] is not None else "-"
        after = f"{r['rss_after_run_mb']:.1f}" if r["rss_after_run_mb"] is not None else "-"
        print(
            f"   {r['requests']:>10,} {r['wall_s']:>7.2f} {r['run_s']:>6.2f} {round(r['events_per_s']):>9,} "
            f"{before:>11} {after:>10} {r['peak_rss_mb']:>9.1f} {r['max_concurrency']:>12,} "
            f"{r['environments_max']:>13,} {r['throttled']:>10,}"
        )
    print(
        "   (MB; wall s is the whole subprocess: interpreter start, imports, parse, run and report;"
        " concurrency and environments are maxima)"
    )
    print(f"   peak RSS growth from smallest to largest: {sc['rss_growth_mb']:+.1f} MB")
    print(
        f"   target: 1,000,000 requests under {sc['target_wall_s']:g} s and {sc['target_peak_rss_mb']:g} MB"
        f"   met: {_mark(sc['met']) if sc['runs'][-1]['requests'] >= 1_000_000 else 'n/a (quick run)'}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes, a smoke run of about ten seconds")
    parser.add_argument("--json", action="store_true", help="print one JSON object instead of the table")
    parser.add_argument("--scale-child", type=int, help=argparse.SUPPRESS)  # internal: one scale run, in a subprocess
    args = parser.parse_args()
    if args.scale_child:
        scale_child(args.scale_child)
        return

    # Quick mode keeps every feature of the workload and shrinks only the sizes.
    scale, sizes = (0.1, [10_000, 100_000]) if args.quick else (1.0, [100_000, 1_000_000])
    out = {
        "mode": "quick" if args.quick else "full",
        "machine": {
            "python": platform.python_version(),
            "implementation": platform.python_implementation(),
            "platform": platform.platform(terse=True),
            "cpu_count": os.cpu_count(),
            # Other work on the machine slows every figure here; the load average says whether there was any.
            "load_average": [round(x, 2) for x in os.getloadavg()] if hasattr(os, "getloadavg") else None,
        },
        **throughput_and_simpy(scale),
        "scale": scale_runs(sizes),
    }
    if args.json:
        json.dump(out, sys.stdout, indent=2)
        print()
    else:
        print_table(out)


if __name__ == "__main__":
    main()
