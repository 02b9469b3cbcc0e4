"""The knobs dialog: change one function's settings and the traffic rate, then re-run."""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Grid, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static

from lambdalab.inputs import InputErrors
from lambdalab.tui.knobs import KNOBS, RATE, KnobSettings, apply, current_values, scenario_from


class KnobsScreen(ModalScreen[KnobSettings | None]):
    BINDINGS = [Binding("escape", "cancel", "Cancel"), Binding("ctrl+s", "apply", "Re-run with these")]

    def __init__(self, data: dict, name: str, function: str):
        super().__init__()
        self.data = data
        self.scenario_name = name
        self.function = function

    def compose(self) -> ComposeResult:
        with Vertical(id="knobs"):
            yield Static(
                "Change the settings, then Ctrl+S (or the button) re-runs and keeps the previous run to compare."
            )
            functions = list(self.data["functions"])
            yield Select([(f, f) for f in functions], value=self.function, allow_blank=False, id="knob-function")
            with Grid(id="knob-grid"):
                for knob, (_, label) in KNOBS.items():
                    yield Label(label)
                    yield Input(id=f"knob-{knob}")
                yield Label("Traffic rate x (for this function)")
                yield Input("1", id=f"knob-{RATE}")
            yield Static(id="knob-errors")
            yield Button("Re-run with these", variant="primary", id="knob-apply")

    def on_mount(self) -> None:
        self._fill()

    def _fill(self) -> None:
        for knob, value in current_values(self.data, self.function).items():
            self.query_one(f"#knob-{knob}", Input).value = "" if value is None else str(value)

    @on(Select.Changed, "#knob-function")
    def _function_changed(self, event: Select.Changed) -> None:
        self.function = str(event.value)
        self._fill()

    @on(Button.Pressed, "#knob-apply")
    def _pressed(self) -> None:
        self.action_apply()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_apply(self) -> None:
        settings = self.settings()
        if settings is None:
            return
        try:
            scenario_from(apply(self.data, settings), self.scenario_name)
        except InputErrors as exc:
            self.query_one("#knob-errors", Static).update(
                "\n".join(e.message if not e.path else f"{e.path}: {e.message}" for e in exc.errors)
            )
            return
        self.dismiss(settings)

    def settings(self) -> KnobSettings | None:
        values = {}
        for knob in KNOBS:
            text = self.query_one(f"#knob-{knob}", Input).value.strip()
            values[knob] = _typed(text) if text else None
        try:
            rate = float(self.query_one(f"#knob-{RATE}", Input).value or "1")
        except ValueError:
            self.query_one("#knob-errors", Static).update("Traffic rate x takes a number, such as 2 or 0.5.")
            return None
        if rate <= 0:
            self.query_one("#knob-errors", Static).update("Traffic rate x must be above zero.")
            return None
        return KnobSettings(self.function, values, rate)


def _typed(text: str) -> int | float | str:
    """What YAML would make of it: 512 is a number, "3s" stays text."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
