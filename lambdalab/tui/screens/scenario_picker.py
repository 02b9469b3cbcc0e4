"""Pick a scenario to simulate: a shipped example, or any scenario file by path."""

from __future__ import annotations

from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from lambdalab import content
from lambdalab.inputs import InputErrors, load_yaml


def scenario_title(path: Path) -> str:
    """The scenario's `name`, or its file name when the file does not load."""
    try:
        data = load_yaml(path).data
    except InputErrors:
        return path.stem
    return str(data.get("name") or path.stem) if isinstance(data, dict) else path.stem


class ScenarioPickerScreen(ModalScreen[Path | None]):
    BINDINGS = [Binding("escape", "dismiss_none", "Cancel")]

    def compose(self) -> ComposeResult:
        with Vertical(id="picker"):
            yield Static("Choose a scenario to simulate (Enter), or type a file path below.")
            yield OptionList(
                *(
                    Option(f"{name}: {scenario_title(path)}", id=name)
                    for name, path in content.shipped_scenarios().items()
                ),
                id="picker-list",
            )
            yield Input(placeholder="…or a scenario file, e.g. my-scenario.yaml", id="picker-path")
            yield Static(id="picker-error")

    def action_dismiss_none(self) -> None:
        self.dismiss(None)

    @on(OptionList.OptionSelected, "#picker-list")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        if event.option.id is not None:  # always: each option's id is its scenario's name
            self.dismiss(content.shipped_scenarios()[event.option.id])

    @on(Input.Submitted, "#picker-path")
    def _typed(self, event: Input.Submitted) -> None:
        path = Path(event.value.strip()).expanduser()
        if not path.is_file():
            self.query_one("#picker-error", Static).update(f"{path}: no such file")
            return
        self.dismiss(path)
