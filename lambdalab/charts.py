"""Text charts for terminals: concurrency against its limits, and counts over time.

No Textual here: the CLI report draws these as lines of text, and the TUI's
chart widget uses the same bucketing so both show the same picture.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

BLOCKS = " ▁▂▃▄▅▆▇█"
LIMIT = "─"


def resample(values: Sequence[float], columns: int, combine: Callable[[Sequence[float]], float] = max) -> list[float]:
    """Squeeze (or keep) a series into at most `columns` buckets, combining each bucket with `combine`."""
    if len(values) <= columns:
        return list(values)
    out = []
    for c in range(columns):
        lo, hi = c * len(values) // columns, (c + 1) * len(values) // columns
        out.append(combine(values[lo:hi]))
    return out


def column_chart(
    values: Sequence[float],
    height: int,
    limits: dict[str, float] | None = None,
    top: float | None = None,
    label_width: int = 0,
) -> list[str]:
    """Rows of a column chart, top row first, with a y-axis and horizontal limit lines.

    Each limit is drawn as a line of `─` at its height (where no column covers
    it) and named at the right, so a reader sees how close a series came.
    """
    limits = limits or {}
    top = max([top or 0, *values, *limits.values(), 1])
    label_width = max(label_width, len(f"{top:g}"))
    rows = []
    for r in range(height, 0, -1):
        row_low, row_high = (r - 1) * top / height, r * top / height
        chars = []
        for v in values:
            fill = (v - row_low) / (row_high - row_low)
            chars.append(BLOCKS[-1] if fill >= 1 else BLOCKS[max(0, int(fill * 8))] if fill > 0 else " ")
        names = [name for name, level in limits.items() if row_low < level <= row_high]
        if names:
            chars = [LIMIT if c == " " else c for c in chars]
        label = f"{top:g}" if r == height else (f"{0:g}" if r == 1 else "")
        rows.append((f"{label:>{label_width}} ┤{''.join(chars)}" + (f"  {', '.join(names)}" if names else "")).rstrip())
    rows.append(" " * label_width + " └" + "─" * len(values))
    return rows


def strip(values: Sequence[float]) -> str:
    """One row of eighth-blocks scaled to the series' own maximum (a sparkline); blank where zero."""
    peak = max(values, default=0)
    if peak <= 0:
        return " " * len(values)
    return "".join(" " if v <= 0 else BLOCKS[max(1, round(v / peak * 8))] for v in values)


TICK_STEPS = (
    0.1,
    0.2,
    0.5,
    1,
    2,
    5,
    10,
    15,
    30,
    60,
    120,
    300,
    600,
    900,
    1800,
    3600,
    7200,
    10800,
    21600,
    43200,
    86400,
    172800,
    604800,
)
TICK_ROOM = 9  # columns a tick's label needs, with its gap


def time_label(seconds: float, tick: float) -> str:
    """A tick's label in the unit its spacing suggests: 12s, 1.5min, 2h, 3d."""
    for unit, name in ((86400, "d"), (3600, "h"), (60, "min")):
        if tick >= unit:
            return f"{seconds / unit:g}{name}"
    return f"{seconds:g}s"


def time_axis(start: float, end: float, columns: int) -> tuple[str, str]:
    """An x axis for virtual time from `start` to `end` over `columns`: a rule with ┬ at each tick and a row of
    labels under them, ticks as far apart as their labels need (s, min, h or d, as the span suggests)."""
    span = max(end - start, 1e-9)
    per_column = span / max(columns, 1)
    tick = next((t for t in TICK_STEPS if t / per_column >= TICK_ROOM), TICK_STEPS[-1])
    rule, labels = ["─"] * columns, [" "] * columns
    first = -(-start // tick) * tick
    t = first
    while t <= end + 1e-9:
        column = min(columns - 1, int(round((t - start) / per_column)))
        rule[column] = "┬"
        text = time_label(round(t, 6), tick)
        at = min(column, columns - len(text))
        if at >= 0 and all(c == " " for c in labels[max(0, at - 1) : at + len(text)]):
            labels[at : at + len(text)] = text
        t += tick
    return "".join(rule), "".join(labels)
