"""One of the learner's files in a code editor: Textual's `TextArea.code_editor`, a status line with the
file's name, whether it has unsaved changes, the cursor and the language; and a safe save.

Syntax highlighting needs tree-sitter and its grammar for the language (the `textual[syntax]` extra). Where
either is missing the editor is plain text and says so, rather than raising: with tree-sitter installed and a
grammar missing, `TextArea` raises `LanguageDoesNotExist` at construction, so the language is given only when
its grammar can be imported. The widget tells its screen what happened with messages (`Changed`, `Saved`);
what follows a save (a check) is the screen's business.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from textual import on
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.message import Message
from textual.widgets import Label, TextArea
from textual.widgets.text_area import LanguageDoesNotExist

from lambdalab.grading.workspace import write_file
from lambdalab.tui import glyphs

LANGUAGES = {".py": "python", ".yaml": "yaml", ".yml": "yaml", ".json": "json"}
LANGUAGE_NAMES = {"python": "Python", "yaml": "YAML", "json": "JSON"}


def language_of(path: Path) -> str | None:
    return LANGUAGES.get(path.suffix.lower())


def can_highlight(language: str | None) -> bool:
    """Whether this Python has tree-sitter and the language's grammar (the `textual[syntax]` extra)."""
    if language is None:
        return False
    try:
        return all(importlib.util.find_spec(name) is not None for name in ("tree_sitter", f"tree_sitter_{language}"))
    except (ImportError, ValueError):
        return False


class FileEditor(Vertical):
    """Edits one file. `unsaved` says whether the text differs from what was last read or saved."""

    class Changed(Message):
        """The file's unsaved state changed (edited, or saved)."""

        def __init__(self, editor: FileEditor):
            super().__init__()
            self.editor = editor

    class Saved(Message):
        """The file was written: the text on disk is the text in the editor."""

        def __init__(self, editor: FileEditor):
            super().__init__()
            self.editor = editor

    def __init__(self, path: Path, **kwargs):
        super().__init__(**kwargs)
        self.path = path
        self.language = language_of(path)
        self.highlighted = can_highlight(self.language)
        self.problem = ""  # why the file could not be opened; the editor is then read-only
        self.new = not path.exists()
        try:
            self.saved_text = "" if self.new else path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            self.saved_text, self.problem = "", f"cannot open {path.name}: {exc}"
        self.unsaved = False
        self._composed = False  # the status line exists: the text area reports its cursor before on_mount

    def compose(self) -> ComposeResult:
        language = self.language if self.highlighted else None
        try:
            area = TextArea.code_editor(self.saved_text, language=language, theme="css", read_only=bool(self.problem))
        except LanguageDoesNotExist:  # a grammar that imports but does not load
            self.highlighted = False
            area = TextArea.code_editor(self.saved_text, theme="css", read_only=bool(self.problem))
        area.cursor_blink = False  # steadier to read, and snapshots that do not flicker
        yield area
        with Horizontal(classes="file-status"):
            yield Label(classes="file-state")
            yield Label(classes="file-where")

    def on_mount(self) -> None:
        self._composed = True
        self._draw_status()

    @property
    def text_area(self) -> TextArea:
        return self.query_one(TextArea)

    @property
    def text(self) -> str:
        return self.text_area.text

    def replace_text(self, text: str) -> None:
        """Put new text in the editor as one edit (undo brings the old text back)."""
        area = self.text_area
        area.replace(text, area.document.start, area.document.end)

    def save(self) -> None:
        """Write the text to the file; raises OSError and keeps the text (still unsaved) when that fails."""
        if self.problem:
            raise OSError(self.problem)
        text = self.text
        write_file(self.path, text)
        self.saved_text, self.new = text, False
        self._set_unsaved(False)
        self.post_message(self.Saved(self))

    @on(TextArea.Changed)
    def _edited(self, event: TextArea.Changed) -> None:
        event.stop()
        self._set_unsaved(self.text != self.saved_text)

    @on(TextArea.SelectionChanged)
    def _moved(self, event: TextArea.SelectionChanged) -> None:
        event.stop()
        self._draw_status()

    def _set_unsaved(self, unsaved: bool) -> None:
        changed = unsaved != self.unsaved
        self.unsaved = unsaved
        self._draw_status()
        if changed:
            self.post_message(self.Changed(self))

    def _draw_status(self) -> None:
        if not self._composed:
            return
        name = self.path.name
        if self.problem:
            state = f"{glyphs.MISSED} {self.problem}"
        elif self.unsaved:
            state = f"{name} {glyphs.UNSAVED} unsaved changes"
        else:
            state = f"{name} {glyphs.DONE} {'new file, not saved yet' if self.new else 'saved'}"
        row, column = self.text_area.cursor_location
        kind = LANGUAGE_NAMES.get(self.language or "", "text")
        if self.language and not self.highlighted:
            kind += ", no highlighting"
        self.query_one(".file-state", Label).update(state)
        self.query_one(".file-where", Label).update(f"Ln {row + 1}, Col {column + 1}  {kind}")
        self.set_class(self.unsaved, "-unsaved")
