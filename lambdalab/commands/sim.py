"""`lambdalab sim`: run a scenario in virtual time and report what Lambda did."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import IO, Any

from lambdalab import content
from lambdalab.commands import UsageError
from lambdalab.engine import Simulation, load_scenario
from lambdalab.engine.destinations import timestamp
from lambdalab.engine.logs import traced_lines
from lambdalab.engine.real_code import DEFAULT_CAP, RealEnvironmentsExceeded
from lambdalab.engine.report import build_report, to_json
from lambdalab.engine.report_text import render
from lambdalab.engine.units import format_duration, parse_duration
from lambdalab.runtime import CodeTooLarge

NAME = "sim"
MAX_SERIES_STEPS = 100_000  # samples of one run: beyond, a typo (--series 1ms on 6 h) would fill memory
HELP = "run a scenario in virtual time and report concurrency, throttles, retries and cost"
EXAMPLES = """\
  lambdalab sim --list                              the example scenarios shipped with lambdalab
  lambdalab sim burst-reserved-concurrency          run one of them by name
  lambdalab sim my.yaml --seed 7 --json             the report as JSON, with another seed
  lambdalab sim my.yaml --series 1s --json          add per-second time series to the report
  lambdalab sim my.yaml --trace run.jsonl           every engine event as JSON lines
  lambdalab sim my.yaml --logs run.log              START/END/REPORT lines, as CloudWatch Logs shows them

exit status: 0 when every `expect` held, 1 when one failed, 2 when the file is invalid"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("file", nargs="?", metavar="FILE", help="a scenario file, or the name of a shipped example")
    parser.add_argument("--list", action="store_true", help="list the shipped example scenarios and exit")
    parser.add_argument(
        "--seed", type=int, metavar="N", help="the random seed (default: the scenario's `seed`, else 0)"
    )
    parser.add_argument("--until", metavar="DURATION", help="stop early, at this virtual time (e.g. 30s)")
    parser.add_argument("--json", action="store_true", help="print the report as one JSON object, nothing else")
    parser.add_argument("--series", metavar="STEP", help="add time series sampled every STEP (e.g. 1s) to the report")
    parser.add_argument("--trace", metavar="FILE", help="write every engine event to FILE as JSON lines")
    parser.add_argument("--logs", metavar="FILE", help="write the functions' log lines (START, END, REPORT) to FILE")
    parser.add_argument(
        "--real-environments",
        type=int,
        default=DEFAULT_CAP,
        metavar="N",
        help=f"functions with real `code:` may run at most N environments (processes) at once (default {DEFAULT_CAP})",
    )


def run(args: argparse.Namespace) -> int:
    if args.list:
        return _list()
    if not args.file:
        raise UsageError("give a scenario FILE, or a shipped example's name (see `lambdalab sim --list`)")
    scenario = load_scenario(_resolve(args.file))
    series_step = _duration_option("--series", args.series) if args.series else None
    if series_step is not None and series_step <= 0:
        raise UsageError("--series needs a step above zero, such as 1s")
    until = _duration_option("--until", args.until) if args.until else None
    if series_step is not None:
        end = scenario.duration if until is None else min(until, scenario.duration)
        if end / series_step > MAX_SERIES_STEPS:
            raise UsageError(
                f"--series {args.series} would take {end / series_step:,.0f} samples of this run; "
                f"lambdalab keeps at most {MAX_SERIES_STEPS:,}: give a step of at least "
                f"{format_duration(math.ceil(end / MAX_SERIES_STEPS * 1000) / 1000)}"
            )
    if args.real_environments < 1:
        raise UsageError("--real-environments takes a number of processes, 1 or more")
    sim = Simulation(
        scenario, seed=args.seed, series_step=series_step, until=until, real_environments=args.real_environments
    )
    with sim, _open(args.trace, "--trace") as trace, _open(args.logs, "--logs") as logs:
        if trace:
            sim.subscribe(_trace_writer(sim, trace))
        if logs:
            sim.subscribe(_log_writer(sim, logs))
        try:
            sim.run()
        except (RealEnvironmentsExceeded, CodeTooLarge) as exc:
            raise UsageError(f"{args.file}: stopped at {sim.now:g} s of virtual time: {exc}") from None
    report = build_report(sim)
    sys.stdout.write(to_json(report) + "\n" if args.json else render(sim, report))
    return 0 if all(e["passed"] for e in report["expectations"]) else 1


def _resolve(name: str) -> Path:
    path = Path(name)
    if path.is_file():
        return path
    if path.exists():
        raise UsageError(f"{name}: not a file")
    shipped = content.shipped_scenarios()
    if name in shipped:
        return shipped[name]
    raise UsageError(f"{name}: no such file, and no shipped scenario of that name (see `lambdalab sim --list`)")


def _list() -> int:
    for name, path in content.shipped_scenarios().items():
        try:
            summary = (load_scenario(path).description.splitlines() or [""])[0]
        except Exception as exc:  # a broken shipped file should not hide the others
            summary = f"(invalid: {exc})"
        print(f"{name:34} {summary}")
    return 0


def _duration_option(flag: str, value: str) -> float:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise UsageError(f"{flag}: {exc}") from None


class _open:
    """Open FILE for writing, or nothing; a bad path is a usage error, not a traceback."""

    def __init__(self, path: str | None, flag: str):
        self.path, self.flag = path, flag
        self.file: IO[str] | None = None

    def __enter__(self) -> IO[str] | None:
        if self.path:
            try:
                self.file = open(self.path, "w", encoding="utf-8")
            except OSError as exc:
                raise UsageError(f"{self.flag} {self.path}: {exc.strerror}") from None
        return self.file

    def __exit__(self, *exc: Any) -> None:
        if self.file:
            self.file.close()


def _trace_writer(sim: Simulation, out: IO[str]):
    def write(time: float, kind: str, data: dict) -> None:
        record = {"t": round(time, 6), "kind": kind, **data}
        if "request_id" in record:
            record["request_id"] = sim.request_id(record["request_id"])
        out.write(json.dumps(record, separators=(",", ":")) + "\n")

    return write


def _log_writer(sim: Simulation, out: IO[str]):
    def write(time: float, kind: str, data: dict) -> None:
        if kind != "invoke_end":
            return
        function = sim.runtimes[data["function"]]
        ended = timestamp(time)
        lines = traced_lines(data, sim.request_id(data["request_id"]), function.timeout, ended)
        group = f"/aws/lambda/{function.config.name}"  # one log group for all of a function's versions
        started = timestamp(time - data["duration_ms"] / 1000.0)  # START is logged when the invoke phase begins
        for n, line in enumerate(lines):
            out.write(f"{started if n == 0 else ended}\t{group}\t{line}\n")

    return write
