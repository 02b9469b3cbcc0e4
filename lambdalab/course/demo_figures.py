"""Re-run a demo and check the figures its `watch` lines and `try` answers quote.

A demo's text quotes numbers the learner will see when running the scenario. `check_demo` runs the scenario (and,
for each `try`, the scenario with the try's `change` applied), collects every number the run shows, and names the
quoted figures that are not among them, and the changes that do not follow the grammar below.

Quoted figures (`quoted_figures`): a number written with a thousands separator (1,228), a decimal point (0.52), a
dollar sign ($0.001303) or three or more digits (172), or followed by a unit the report prints (ms, %, MB, GB-s,
USD), or by "times" used as a ratio ("14 times as much"). A one- or two-digit number is a figure when the report's
name for what it counts is next to it: "28 Errors", "ColdStarts is 29", "in_flight 21", "15 are still running",
"peaks at 36", "a peak of 19" (the names: invocations, errors, throttles, cold starts, succeeded, failed, dropped,
in flight, denied, timed out, retried, environments, operations, replays, executions, at once, running, waiting,
and any CamelCase metric or snake_case key). Not figures: other small numbers ("ran 3 times", "1 environment",
"5 minutes", "60 s", "lesson 3"), numbers inside a name or an identifier (orders-80, arm64, traffic[1], p99, S3),
HTTP status codes after "HTTP", and anything in a `code span` (a setting to type).

The run's numbers (`run_figures`): those of the text report (`lambdalab sim`, without its charts' axis labels),
every number of the JSON report (`lambdalab sim --json`), the scenario's own values (a rate of 200/s as 200, a
duration of 500ms as 0.5 s and 500 ms) and lambdalab's prices (lambdalab/limits.py: "$0.20 per million requests").
A figure with $ or USD matches only amounts of money: the report's costs, fees and prices. A line that mentions the
logs (`--logs`, a log file, REPORT, START, END) may also quote the REPORT and timeout lines' numbers; one that
mentions `--trace`, the trace events' numbers; one that names `--series STEP`, that time series.

Matching (`Quoted.matches`): at the precision the prose writes, so "2,860" and "2,860.03" match 2,860.03 and
"$0.001303" matches 0.0013026. After "about", "around", "almost", "nearly", "roughly", "approximately" or "close
to", a figure is rounded to its significant digits, trailing zeros of a whole number not counting: "about 88,000
ms" matches 87,500 to 88,500. A figure followed by "s" is also compared in ms, "ms" in s, and a percentage with
the run's shares x 100 (0.000194 as 0.0194 %). A figure the run does not show may be derived, if the line shows
how: written next to x, +, = or / it may be the sum, difference, product or quotient of a number of the line and
a number of the line or the scenario ("700 ms Init + 150 ms = 850 ms"); a percentage or "N times" may be their
ratio, a percentage also their relative difference ("$0.003643 against $0.003113, 17 % more").
A `try` answer's figures are looked for in the changed run, then in the demo's own run (answers compare the two:
"from $0.001303 to $0.001393"); when the changed scenario is refused, in the refusal's message and the demo's run.

The rule is a pool, not a parser: a figure is matched against every number of the run, not against the metric
its sentence names. A wrong round number (400 where the run shows 100) passes when the run or the scenario shows
that number elsewhere, and a small count (28) often appears among a run's numbers; "about" with one significant
digit accepts a wide range. Specific figures (1,228, 3,955.71, $0.001303) are checked for what they are.

A `try`'s `change` (`parse_change`, documented in lessons/README.md, "demo"): one or more `PATH: VALUE`, joined by
" and " or ";", with an optional parenthesised remark at the end. PATH is dotted keys with list indexes
(`functions.checkout.reserved_concurrency`, `traffic[1].rate`, `functions.api.extensions[0].shutdown`); a missing
key on the way is added as a mapping, and the index just past a list's end appends. VALUE is YAML (`250`, `5s`,
`{every: 10}`); `null` deletes the key or the list item.
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
# A small count is a figure when the report's name for it is next to it: "28 Errors", "ColdStarts is 29",
# "in_flight 21", "peaks at 36", "retried 30".
_COUNT_NAMES = (
    r"(?i:invocations|errors|throttles|cold starts?|throttled|succeeded|succeed|failed|dropped|in flight|"
    r"denied|timed out|retried|environments|operations|replays|concurrent executions|executions|at once|"
    r"spillover invocations)|[A-Z][a-z]+(?:[A-Z][a-z]+)+|[a-z]+_[a-z_]+"
)
_COUNTED_AFTER = re.compile(rf"\s+(?:(?:are|is|were|was|still) )*(?:{_COUNT_NAMES}|running|waiting)\b")
_COUNTED_BEFORE = re.compile(
    rf"\b(?:{_COUNT_NAMES}|peak conc\.|peaks? at(?: exactly)?|peak of|created|most alive)"
    r"(?: is| of| at| to|:| =| drops? to| falls? to| rises? to| stays| grows to)?\s+$"
)
_MONEY_KEY = re.compile(r"usd|cost|fee|price", re.I)
_SERIES = re.compile(r"--series (\d+(?:\.\d+)?(?:ms|s|m|h))")
_REPORT_FIELD = re.compile(r"(?:Duration|Memory Size|Memory Used|after): (\d+(?:\.\d+)?)|after (\d+(?:\.\d+)?) seconds")
_SIGNIFICANT_UNITS = ("ms", "%", "MB", "GB-s", "USD")
_OPERATOR_BEFORE = re.compile(r"(?:^|\s)[x×+=/]\s*\$?$")
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
        counted = _COUNTED_AFTER.match(rest) or _COUNTED_BEFORE.search(before)
        if not ("," in whole or frac or dollar or digits >= 3 or unit in _SIGNIFICANT_UNITS or unit == "times"):
            if not counted:
                continue
        text = dollar + whole + frac + (f" {unit}" if unit and unit != "USD" else "")
        approx = bool(_APPROX.search(before[-16:]))
        found.append(Quoted(text, value, decimals, unit, approx, ratio=unit in ("%", "times")))
    return found


@dataclass
class Figures:
    """The numbers one run shows, in the pools the docstring names."""

    shown: set[float] = field(default_factory=set)  # text report, JSON report, limits and prices
    usd: set[float] = field(default_factory=set)  # amounts of money: what a figure with $ or USD may match
    scenario: set[float] = field(default_factory=set)
    logs: set[float] = field(default_factory=set)
    trace: set[float] = field(default_factory=set)
    series: dict[str, set[float]] = field(default_factory=dict)  # "1s" -> the numbers of `--series 1s`

    def pool(self, line: str, q: Quoted | None = None) -> set[float]:
        if q is not None and q.unit == "USD":
            return self.usd
        pool = self.shown | self.scenario
        if _LOG_WORDS.search(line):
            pool |= self.logs
        if _TRACE_WORDS.search(line):
            pool |= self.trace
        for step in _SERIES.findall(line):
            pool |= self.series.get(step, set())
        return pool

    def has(self, q: Quoted, line: str) -> bool:
        pool = self.pool(line, q)
        scales = [1.0]
        if q.unit == "s":
            scales.append(1000.0)
        elif q.unit == "ms":
            scales.append(0.001)
        for scale in scales:
            if any(q.matches(x / scale) for x in pool):
                return True
        return q.unit == "%" and any(q.matches(x * 100) for x in pool)


def _derived(q: Quoted, line: set[float], others: set[float], arithmetic: bool) -> bool:
    """Whether `q` is derived from a number a of the line and a number b of the line or the scenario: written as
    arithmetic, their sum, difference, product or quotient ("700 ms Init + 150 ms = 850 ms", "200 x 6 = 1,200");
    a percentage or "N times", their ratio, and a percentage also their relative difference ("17 % more": a/b - 1;
    "20 % less": 1 - a/b)."""
    for a in line:
        for b in others:
            if a == b or not (a and b):
                continue
            forms = [a + b, abs(a - b), a * b, a / b, b / a] if arithmetic else []
            if q.unit == "%":
                forms += [f * 100 for r in (a / b, b / a) for f in (r, r - 1, 1 - r)]
            elif q.unit == "times":
                forms += [a / b, b / a]
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
    return [q.text for q in absent if not _derived(q, operands, others, _in_arithmetic(q, line))]


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
    figures.usd |= _text_numbers(" ".join(re.findall(r"\$[\d.,]+", text)))
    _json_numbers(report, figures.shown, figures.usd)
    _limits(figures.shown, figures.usd)
    _scenario_numbers(data, figures.scenario)
    _json_numbers(data, set(), figures.usd)  # the scenario's prices (an instance's hourly_usd)
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


def _json_numbers(value: Any, into: set[float], usd: set[float] | None = None, money: bool = False) -> None:
    """Every number in `value` into `into`; those under a key that names money (CostUSD, provisioned_usd, fee,
    price) also into `usd`."""
    if isinstance(value, bool):
        return
    if isinstance(value, (int, float)):
        if math.isfinite(value):
            into.add(float(value))
            if money and usd is not None:
                usd.add(float(value))
    elif isinstance(value, dict):
        for key, item in value.items():
            _json_numbers(item, into, usd, money or bool(_MONEY_KEY.search(str(key))))
    elif isinstance(value, (list, tuple)):
        for item in value:
            _json_numbers(item, into, usd, money)


def _limits(into: set[float], usd: set[float]) -> None:
    for key, value in vars(limits).items():
        if key.isupper() and ("PRICE" in key or key.endswith(("_USD", "_FEE"))):
            numbers: set[float] = set()
            _json_numbers(value, numbers)
            if "PER_REQUEST" in key or key.endswith("_PRICE_USD"):
                numbers |= {v * 1_000_000 for v in numbers}  # "$0.20 per million requests"
            into |= numbers
            usd |= numbers


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
