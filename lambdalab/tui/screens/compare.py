"""Two runs side by side: the previous run (before the knobs changed) and the current one."""

from __future__ import annotations

from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Static

from lambdalab.tables import table

FIGURES = (  # (label, where in a function's report)
    ("invocations", ("metrics", "Invocations")),
    ("errors", ("metrics", "Errors")),
    ("throttles", ("metrics", "Throttles")),
    ("cold starts", ("metrics", "ColdStarts")),
    ("peak concurrency", ("metrics", "ConcurrentExecutions")),
    ("p99 duration ms", ("metrics", "Duration", "p99")),
    ("retried", ("outcomes", "retried")),
    ("dropped", ("outcomes", "dropped")),
    ("to DLQ", ("outcomes", "to_dlq")),
    ("cost USD", ("metrics", "CostUSD")),
)


def comparison_lines(before: dict, after: dict) -> list[str]:
    """A table per function: each figure before and after, and the change."""
    lines = [
        f"before: {before['changes']}, at {before['virtual_time_s']:g} s of virtual time",
        f"now:    {after['changes']}, at {after['virtual_time_s']:g} s of virtual time",
        "",
    ]
    for name in after["functions"]:
        rows = []
        for label, path in FIGURES:
            old, new = _get(before["functions"].get(name, {}), path), _get(after["functions"][name], path)
            change = "" if old is None or new is None or old == new else f"{new - old:+,.6g}"
            rows.append([label, old, new, change])
        lines += [f"{name}", *table(["", "before", "now", "change"], rows), ""]
    return lines


def _get(report: dict, path: tuple) -> float | None:
    value: Any = report  # a dict on the way down, the figure at the end
    for key in path:
        value = value.get(key) if isinstance(value, dict) else None
    return value


class CompareScreen(ModalScreen):
    BINDINGS = [Binding("escape,c", "app.pop_screen", "Close")]

    def __init__(self, before: dict, after: dict):
        super().__init__()
        self.lines = comparison_lines(before, after)

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="compare"):
            yield Static(Content("\n".join(self.lines)), id="compare-table")
