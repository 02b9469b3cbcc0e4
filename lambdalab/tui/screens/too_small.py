"""Shown instead of a broken layout when the terminal is smaller than the app needs."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static


class TooSmallScreen(Screen):
    def __init__(self, width: int, height: int):
        super().__init__()
        self.need = (width, height)

    def compose(self) -> ComposeResult:
        width, height = self.need
        yield Static(f"Please enlarge the terminal to at least {width}x{height} characters.", id="too-small")
