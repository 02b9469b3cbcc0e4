"""Asked before the learner's unsaved text would be lost: save it, discard it, or keep editing."""

from __future__ import annotations

from typing import Literal

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

Choice = Literal["save", "discard"]


class UnsavedScreen(ModalScreen[Choice | None]):
    """Dismisses with "save", "discard", or None (keep editing)."""

    BINDINGS = [
        Binding("s", "choose('save')", "Save"),
        Binding("d", "choose('discard')", "Discard"),
        Binding("escape", "choose(None)", "Keep editing"),
    ]

    def __init__(self, names: list[str]):
        super().__init__()
        self.names = names

    def compose(self) -> ComposeResult:
        files = ", ".join(self.names)
        with Vertical(id="unsaved"):
            yield Static("Unsaved changes", id="unsaved-title")
            yield Static(
                f"{files} {'has' if len(self.names) == 1 else 'have'} changes you have not saved.", id="unsaved-message"
            )
            with Horizontal(id="unsaved-buttons"):
                yield Button("Save (s)", id="save", variant="primary")
                yield Button("Discard (d)", id="discard", variant="error")
                yield Button("Keep editing (Esc)", id="keep")

    @on(Button.Pressed)
    def _pressed(self, event: Button.Pressed) -> None:
        choices: dict[str | None, Choice] = {"save": "save", "discard": "discard"}
        self.dismiss(choices.get(event.button.id))

    def action_choose(self, choice: Choice | None) -> None:
        self.dismiss(choice)
