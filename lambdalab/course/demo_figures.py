"""Re-run a demo and check the figures its `watch` lines and `try` answers quote.

A demo's text quotes numbers the learner will see when running the scenario. This module runs the scenario
(and, for each `try`, the scenario with the try's `change` applied), collects every figure the run shows, and
names the quoted numbers that are not among them.

What counts as a quoted figure (`quoted_figures`): a number in the prose that is written with a thousands
separator (1,228), a decimal point (0.52), a dollar sign ($0.001303), or three or more digits (172), or that is
followed by a unit the report prints (ms, %, MB, GB-s, USD), or by "times" used as a ratio ("14 times as much").
Not figures: one- and two-digit counts without such a unit ("3 times", "1 environment", "5 minutes"), numbers that
are part of a name or an identifier (orders-80, arm64, traffic[1], p99, S3), and HTTP status codes after "HTTP".

What a figure matches (`Figures.has`): a number shown by the run, compared at the precision the prose writes it,
so "2,860" matches 2,860.03 and "$0.001303" matches 0.0013026 (rounded to the prose's decimals). The run's numbers
are those of the text report (`lambdalab sim`), every number in the JSON report (`lambdalab sim --json`), the
scenario's own values (a rate of 200/s, a 500ms duration as 0.5 s and 500 ms) and lambdalab's documented limits and
prices (lambdalab/limits.py: "the 10 s Init limit", "$0.20 per million requests"). A line that mentions the logs
(`--logs`, a log file, REPORT, START, END) also matches the numbers of the REPORT and timeout lines; a line that
mentions `--trace` also matches the trace events' numbers. A figure followed by "s" is also compared in ms (and
"ms" in s); a percentage is also compared with the run's shares (0.000194 as 0.0194 %). A figure written after
"about", "around", "almost", "nearly", "roughly", "approximately" or "close to" is rounded to its significant
digits (trailing zeros of a whole number are not significant): "about 88,000 ms" matches 87,500 to 88,499. A
percentage or a ratio that is not a shown number is checked as the ratio of two figures of the same line, or of
one of them and a scenario value ("17 % more": 0.003643 / 0.003113; "79 % of the new timeout": 3,955.71 / 5,000).
A `try` answer's figures are looked for in the run with the change first, then in the demo's own run (answers
compare the two: "from $0.001303 to $0.001393").

A `try`'s `change` follows a small grammar (documented in lessons/README.md, "demo"): one or more `PATH: VALUE`,
joined by " and " or ";". PATH is dotted keys with list indexes (`functions.checkout.reserved_concurrency`,
`traffic[1].rate`, `functions.api.extensions[0].shutdown`); VALUE is YAML (`250`, `5s`, `{every: 10}`), and `null`
deletes the key. A trailing parenthesised remark is ignored: `traffic[0].rate: 400/s (the orders traffic)`.
"""

from __future__ import annotations

import copy
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from lambdalab import content, limits
from lambdalab.course.model import DemoStep, Lesson
from lambdalab.engine import Simulation
from lambdalab.engine.destinations import timestamp
from lambdalab.engine.logs import traced_lines
from lambdalab.engine.report import build_report
from lambdalab.engine.report_text import render
from lambdalab.engine.scenario import build_scenario
from lambdalab.engine.units import parse_duration
from lambdalab.inputs import Document, InputErrors, load_yaml

# A number as prose writes it: an optional $, digits with optional thousands separators, optional decimals.
_NUMBER = re.compile(r"(?<![\w.\-\[/:$])(\$?)(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?(?![\w\]]|\.\d)")
_UNIT = re.compile(r"\s?(ms|%|MB|GB-s|USD|s|times)\b|\s?(%)")
_RATIO_TIMES = re.compile(r"\s?times (as|the|more|less|fewer|higher|lower|[\w-]+'s)\b")
_APPROX = re.compile(r"(about|around|almost|nearly|roughly|approximately|close to|~)\s*\$?$", re.I)
_LOG_WORDS = re.compile(r"--logs|\blogs?\b|\.log\b|REPORT|START|\bEND\b")
_TRACE_WORDS = re.compile(r"--trace|\btrace\b")
_SERIES = re.compile(r"--series (\d+(?:\.\d+)?(?:ms|s|m|h))")
_REPORT_FIELD = re.compile(r"(?:Duration|Memory Size|Memory Used|after): (\d+(?:\.\d+)?)|after (\d+(?:\.\d+)?) seconds")
_SIGNIFICANT_UNITS = ("ms", "%", "MB", "GB-s", "USD")
_OPERATOR_BEFORE = re.compile(r"(?:^|\s)[x×+=/]\s*\$?$|\($")
_OPERATOR_AFTER = re.compile(r"\s*(?:ms|s|%|MB|GB-s)?(?:\s[A-Za-z]+)?\s+[x×+=/](?:\s|$)")
_CHANGE_PART = re.compile(r"^\s*([A-Za-z_][\w\-]*(?:\[\d+\])*(?:\.[\w\-\$]+(?:\[\d+\])*)*)\s*:\s+(.+?)\s*$", re.S)
_REMARK = re.compile(r"\s+\([^()]*\)\s*$")


@dataclass(frozen=True)
class Quoted:
    """One number a line quotes."""

    text: str  # as written, with its unit: "3,000.00 ms"
    value: float
    decimals: int
    unit: str  # "", "ms", "s", "%", "MB", "GB-s", "USD", "times"
    approx: bool
    ratio: bool  # a percentage or "N times ...": may be a ratio of two figures

    def matches(self, x: float) -> bool:
        if self.approx:
            return _rounds_to(x, self.value, _significant(self))
        return round(x, self.decimals) == round(self.value, self.decimals)


def _significant(q: Quoted) -> int:
    digits = re.sub(r"\D", "", q.text.split(" ")[0])
    if q.decimals == 0:
        digits = digits.rstrip("0") or "0"
    return max(1, len(digits.lstrip("0")))


def _rounds_to(x: float, value: float, significant: int) -> bool:
    if value == 0:
        return abs(x) < 0.5
    exponent = math.floor(math.log10(abs(value))) - significant + 1
    step = 10.0**exponent
    return abs(x - value) <= step / 2 + 1e-9 * abs(value)


def quoted_figures(line: str) -> list[Quoted]:
    """The numbers `line` quotes as figures of a run (see the module's docstring for the rule)."""
    found = []
    code = [m.span() for m in re.finditer(r"`[^`]*`", line)]
    for match in _NUMBER.finditer(line):
        if any(start < match.start() < end for start, end in code):
            continue
        dollar, whole, frac = match.group(1), match.group(2), match.group(3) or ""
        before = line[: match.start()]
        if re.search(r"HTTP\s*$|HTTP \d{3}(, \d{3})*( or|,)? $", before):
            continue
        rest = line[match.end() :]
        ratio = bool(_RATIO_TIMES.match(rest))
        unit_match = _UNIT.match(rest)
        unit = "times" if ratio else (unit_match.group(1) or unit_match.group(2) or "") if unit_match else ""
        if unit == "times":
            unit = "times" if ratio else ""
        if dollar:
            unit = "USD"
        value = float(whole.replace(",", "") + frac)
        decimals = len(frac) - 1 if frac else 0
        digits = len(whole.replace(",", "").lstrip("0"))
        if not ("," in whole or frac or dollar or digits >= 3 or unit in _SIGNIFICANT_UNITS or unit == "times"):
            continue
        text = dollar + whole + frac + (f" {unit}" if unit and unit != "USD" else "")
        approx = bool(_APPROX.search(before[-16:]))
        found.append(Quoted(text, value, decimals, unit, approx, ratio=unit in ("%", "times")))
    return found


@dataclass
class Figures:
    """The numbers one run shows, in the pools the docstring names."""

    shown: set[float] = field(default_factory=set)  # text report, JSON report, limits and prices
    shares: set[float] = field(default_factory=set)  # numbers that a percentage may quote x 100
    scenario: set[float] = field(default_factory=set)
    logs: set[float] = field(default_factory=set)
    trace: set[float] = field(default_factory=set)
    series: dict[str, set[float]] = field(default_factory=dict)  # "1s" -> the numbers of `--series 1s`

    def pool(self, line: str) -> set[float]:
        pool = self.shown | self.scenario
        if _LOG_WORDS.search(line):
            pool |= self.logs
        if _TRACE_WORDS.search(line):
            pool |= self.trace
        for step in _SERIES.findall(line):
            pool |= self.series.get(step, set())
        return pool

    def has(self, q: Quoted, line: str) -> bool:
        pool = self.pool(line)
        scales = [1.0]
        if q.unit == "s":
            scales.append(1000.0)
        elif q.unit == "ms":
            scales.append(0.001)
        for scale in scales:
            if any(q.matches(x / scale) for x in pool):
                return True
        return q.unit == "%" and any(q.matches(x * 100) for x in pool)


def _derived(q: Quoted, line: set[float], others: set[float]) -> bool:
    """Whether `q` is the sum, difference, product or ratio of a number a of the line and a number b of the line
    or the scenario ("850 ms each (700 ms Init + 150 ms)", "200 x 6 = 1,200"); a percentage may be a ratio or a
    relative difference ("17 % more": a/b - 1; "20 % less": 1 - a/b)."""
    for a in line:
        for b in others:
            if a == b:
                continue
            forms = [a + b, abs(a - b), a * b]
            if b:
                forms.append(a / b)
            if a:
                forms.append(b / a)
            if q.unit == "%" and a and b:
                forms += [f * 100 for r in (a / b, b / a) for f in (r, r - 1, 1 - r)]
            if any(q.matches(f) for f in forms):
                return True
    return False


def missing(line: str, runs: list[Figures]) -> list[str]:
    """The figures `line` quotes that none of `runs` shows (the first run is the one the line describes)."""
    quoted = quoted_figures(line)
    absent: list[Quoted] = []
    found: set[float] = set()
    for q in quoted:
        if any(run.has(q, line) for run in runs):
            if not q.ratio:
                found.add(q.value)
        else:
            absent.append(q)
    scenario = set().union(*(run.scenario for run in runs))
    written = {float(m.group(2).replace(",", "") + (m.group(3) or "")) for m in _NUMBER.finditer(line)}
    not_found = {q.value for q in absent}
    operands = {v for v in found | written if v not in not_found and v not in (0.0, 1.0)}
    others = operands | {v for v in scenario if v not in (0.0, 1.0)}
    return [q.text for q in absent if not ((q.ratio or _in_arithmetic(q, line)) and _derived(q, operands, others))]


def _in_arithmetic(q: Quoted, line: str) -> bool:
    """Whether `q` is written as an operand or the result of arithmetic: next to x, ×, +, = or / ."""
    for match in _NUMBER.finditer(line):
        if float(match.group(2).replace(",", "") + (match.group(3) or "")) != q.value:
            continue
        before = line[max(0, match.start() - 12) : match.start()]
        after = line[match.end() : match.end() + 12]
        if _OPERATOR_BEFORE.search(before) or _OPERATOR_AFTER.match(after):
            return True
    return False


# --- running a scenario -----------------------------------------------------------------------------------------


def run_figures(
    data: Any, name: str, *, logs: bool = False, trace: bool = False, series: tuple[str, ...] = ()
) -> tuple[Figures, str]:
    """Run the scenario `data` (as loaded from YAML) and collect what the run shows; also the text report.
    `series`: steps ("1s") of `--series` that a line quotes, each one more run, kept apart in `Figures.series`."""
    scenario = build_scenario(Document(name, data))
    figures = Figures()
    for step in series[1:]:  # the first step's series comes with the run below
        with Simulation(scenario, series_step=parse_duration(step)) as sim:
            sim.run()
        figures.series[step] = set()
        _json_numbers(build_report(sim)["series"], figures.series[step])
    with Simulation(scenario, series_step=parse_duration(series[0]) if series else None) as sim:
        if logs:
            sim.subscribe(_log_collector(sim, figures.logs))
        if trace:
            sim.subscribe(_trace_collector(figures.trace))
        sim.run()
    report = build_report(sim)
    text = render(sim, report)
    if series:
        figures.series[series[0]] = set()
        _json_numbers(report.pop("series"), figures.series[series[0]])
    figures.shown |= _text_numbers(_without_charts(text))
    _json_numbers(report, figures.shown)
    figures.shares = set(figures.shown)
    _limits(figures.shown)
    _scenario_numbers(data, figures.scenario)
    return figures, text


def _without_charts(text: str) -> str:
    """The text report without its charts' axis labels (a chart's title, with its peak, stays)."""
    lines = text.splitlines()
    kept = []
    for i, line in enumerate(lines):
        if "┤" in line or "└" in line or (i and "└" in lines[i - 1]):
            continue
        kept.append(line)
    return "\n".join(kept)


def _text_numbers(text: str) -> set[float]:
    return {
        float(m.group(0).replace(",", "")) for m in re.finditer(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?", text)
    }


def _json_numbers(value: Any, into: set[float]) -> None:
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        if math.isfinite(value):
            into.add(float(value))
    elif isinstance(value, dict):
        for item in value.values():
            _json_numbers(item, into)
    elif isinstance(value, (list, tuple)):
        for item in value:
            _json_numbers(item, into)


def _limits(into: set[float]) -> None:
    for key, value in vars(limits).items():
        if key.isupper() and ("PRICE" in key or key.endswith(("_USD", "_FEE"))):
            numbers: set[float] = set()
            _json_numbers(value, numbers)
            into |= numbers
            if "PER_REQUEST" in key:
                into |= {v * 1_000_000 for v in numbers}


def _scenario_numbers(value: Any, into: set[float]) -> None:
    if isinstance(value, str):
        into |= {float(m) for m in re.findall(r"\d+(?:\.\d+)?", value)}
        try:
            seconds = parse_duration(value)
        except ValueError:
            return
        into |= {seconds, seconds * 1000}
    elif isinstance(value, bool):
        return
    elif isinstance(value, (int, float)):
        into.add(float(value))
    elif isinstance(value, dict):
        for item in value.values():
            _scenario_numbers(item, into)
    elif isinstance(value, list):
        for item in value:
            _scenario_numbers(item, into)


def _log_collector(sim: Simulation, into: set[float]):
    """The numbers of the REPORT and timeout lines `lambdalab sim --logs` writes (commands/sim.py)."""

    def collect(time: float, kind: str, data: dict) -> None:
        if kind != "invoke_end":
            return
        function = sim.runtimes[data["function"]]
        for line in traced_lines(data, sim.request_id(data["request_id"]), function.timeout, timestamp(time)):
            for match in _REPORT_FIELD.finditer(line):
                into.add(float(match.group(1) or match.group(2)))

    return collect


def _trace_collector(into: set[float]):
    def collect(time: float, kind: str, data: dict) -> None:
        into.add(round(time, 6))
        _json_numbers(data, into)

    return collect


# --- changes ----------------------------------------------------------------------------------------------------


_ABSENT = object()


class ChangeError(ValueError):
    """A `try`'s change that does not follow the grammar, or names a path the scenario does not have."""


def parse_change(change: str) -> list[tuple[tuple[str | int, ...], Any]]:
    """`PATH: VALUE [and|; PATH: VALUE ...] [(remark)]` -> [(key path, value)]; ChangeError otherwise."""
    text = _REMARK.sub("", change.strip())
    parts = [p for p in re.split(r"\s+and\s+|\s*;\s*", text) if p.strip()]
    if not parts:
        raise ChangeError("an empty change")
    edits = []
    for part in parts:
        match = _CHANGE_PART.match(part)
        if not match:
            raise ChangeError(f"{part!r} is not `path: value` (e.g. `traffic[1].rate: 20/s`)")
        path: list[str | int] = []
        for key in match.group(1).split("."):
            name, *indexes = re.split(r"\[", key)
            path.append(name)
            path += [int(i.rstrip("]")) for i in indexes]
        try:
            value = yaml.safe_load(match.group(2))
        except yaml.YAMLError as exc:
            raise ChangeError(f"{match.group(2)!r} is not a YAML value: {exc}") from None
        edits.append((tuple(path), value))
    return edits


def apply_change(data: Any, change: str) -> Any:
    """A copy of the scenario `data` with `change` applied; a null value deletes the key."""
    data = copy.deepcopy(data)
    for path, value in parse_change(change):
        parent = data
        for n, key in enumerate(path[:-1]):
            if isinstance(parent, dict) and isinstance(key, str) and key not in parent and value is not None:
                parent[key] = {}  # a mapping the scenario leaves out, as `async:` on a function without one
            try:
                parent = parent[key]
            except (KeyError, IndexError, TypeError):
                raise ChangeError(f"the scenario has no {_dotted(path[: n + 1])}") from None
        last = path[-1]
        if isinstance(parent, dict) and isinstance(last, str):
            if value is not None:
                parent[last] = value
            elif parent.pop(last, _ABSENT) is _ABSENT:
                raise ChangeError(f"the scenario has no {_dotted(path)} to delete")
        elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
            if value is None:
                del parent[last]
            else:
                parent[last] = value
        elif isinstance(parent, list) and isinstance(last, int) and last == len(parent) and value is not None:
            parent.append(value)
        else:
            raise ChangeError(f"cannot set {_dotted(path)} in this scenario")
    return data


def _dotted(path: tuple) -> str:
    return "".join(f"[{k}]" if isinstance(k, int) else f".{k}" for k in path).lstrip(".")


# --- a demo -----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mismatch:
    where: str  # "watch[2]", "try[1].change", "try[1].answer"
    line: str
    problem: str  # "not in the run: 172, 1,228" or why the change does not apply

    def __str__(self) -> str:
        return f"{self.where}: {self.problem}\n    {self.line}"


def scenario_path(lesson: Lesson, step: DemoStep) -> Path:
    if step.scenario_file is not None:
        return step.scenario_file
    assert step.scenario is not None
    return content.shipped_scenarios()[step.scenario]


def _needs(lines: list[str]) -> dict[str, Any]:
    """What a run must collect beyond its reports for `lines`: logs, trace, time series (each costs time)."""
    return {
        "logs": any(_LOG_WORDS.search(line) for line in lines),
        "trace": any(_TRACE_WORDS.search(line) for line in lines),
        "series": tuple(sorted({step for line in lines for step in _SERIES.findall(line)})),
    }


def check_demo(lesson: Lesson, step: DemoStep) -> list[Mismatch]:
    """Every figure of `step` that its run does not show, and every change that does not apply."""
    doc = load_yaml(scenario_path(lesson, step))
    base, _ = run_figures(doc.data, doc.name, **_needs([*step.watch, *(v.answer for v in step.try_)]))
    found = [
        Mismatch(f"watch[{i}]", line, "not in the run: " + ", ".join(absent))
        for i, line in enumerate(step.watch)
        if (absent := missing(line, [base]))
    ]
    for i, variation in enumerate(step.try_):
        try:
            data = apply_change(doc.data, variation.change)
        except ChangeError as exc:
            found.append(Mismatch(f"try[{i}].change", variation.change, str(exc)))
            continue
        try:
            changed, _ = run_figures(data, doc.name, **_needs([variation.answer]))
        except InputErrors as exc:
            # A change the scenario refuses: the answer quotes the refusal's figures, or the demo's own run's.
            refusal = Figures(shown={float(n) for e in exc.errors for n in re.findall(r"\d+(?:\.\d+)?", e.message)})
            if absent := missing(variation.answer, [refusal, base]):
                refused = "; ".join(e.message for e in exc.errors)
                problem = f"the changed scenario is refused ({refused}); not in that or the demo's run: "
                found.append(Mismatch(f"try[{i}].answer", variation.answer, problem + ", ".join(absent)))
            continue
        if absent := missing(variation.answer, [changed, base]):
            found.append(Mismatch(f"try[{i}].answer", variation.answer, "not in the run: " + ", ".join(absent)))
    return found
