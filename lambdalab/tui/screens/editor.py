"""The built-in editor: the current exercise's files from the learner's workspace, one tab each, edited in
the app, in a terminal and in a browser (`lambdalab serve`, where the app cannot hand the terminal to
$EDITOR) alike. Ctrl+S saves the file shown (safely: see `grading.workspace.write_file`) and re-checks the
exercise in a worker, as the exercise screen does; closing with unsaved changes asks first.

The screen dismisses with `Closed`: the last result, and whether files were saved after it (the exercise
screen then checks again), so a check is never lost nor run twice."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from textual import on, work
from textual.app import ComposeResult, SystemCommand
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, ProgressBar, Static, TabbedContent, TabPane
from textual.worker import get_current_worker

from lambdalab.grading.exercises import Exercise
from lambdalab.grading.feedback import exercise_lines
from lambdalab.grading.grader import grade_exercise
from lambdalab.grading.results import ExerciseResult
from lambdalab.tui import glyphs
from lambdalab.tui.screens.unsaved import Choice, UnsavedScreen
from lambdalab.tui.widgets.file_editor import FileEditor, can_highlight, language_of

if TYPE_CHECKING:
    from textual import getters

    from lambdalab.tui.app import LambdalabApp

WELCOME = "Ctrl+S saves and checks the exercise. Esc closes (asking first if a file has unsaved changes)."
NO_HIGHLIGHTING = "No syntax highlighting here: it needs the textual[syntax] extra (tree-sitter)."


class Closed(NamedTuple):
    result: ExerciseResult | None  # the last check's result, or None when nothing was checked
    stale: bool  # files were saved after that check began: the exercise needs checking again


class EditorScreen(Screen[Closed]):
    if TYPE_CHECKING:  # self.app typed as lambdalab's app (Textual's idiom); nothing changes at run time
        app = getters.app(LambdalabApp)

    BINDINGS = [
        Binding("ctrl+s", "save", "Save and check"),
        Binding("ctrl+o", "next_file", "Next file"),
        # A priority binding: the code editor would otherwise take the first Escape to move the focus.
        Binding("escape", "close", "Close", priority=True),
    ]

    def __init__(self, exercise: Exercise, folder: Path, name: str | None = None):
        super().__init__()
        self.exercise = exercise
        self.folder = folder
        self.first = exercise.starter.index(name) if name in exercise.starter else 0
        self.result: ExerciseResult | None = None
        self.saves = 0  # saves so far
        self.checked = 0  # saves the result shown covers
        self.closing = False

    def compose(self) -> ComposeResult:
        yield Header()
        with TabbedContent(id="editor-files", initial=f"file-{self.first}"):
            for index, name in enumerate(self.exercise.starter):
                with TabPane(name, id=f"file-{index}"):
                    yield FileEditor(self.folder / name)
        with VerticalScroll(id="editor-results"):
            yield Static(self._welcome(), id="editor-result", markup=False)
        yield ProgressBar(id="editor-progress", show_eta=False)
        yield Footer()

    def _welcome(self) -> str:
        languages = {language_of(Path(name)) for name in self.exercise.starter}
        plain = any(language and not can_highlight(language) for language in languages)
        return WELCOME + (f"\n{NO_HIGHLIGHTING}" if plain else "")

    def on_mount(self) -> None:
        self.sub_title = f"Editing {self.exercise.number:02d} {self.exercise.title}"
        self.query_one("#editor-progress", ProgressBar).update(total=len(self.exercise.checks), progress=0)
        self.current.text_area.focus()

    @property
    def editors(self) -> list[FileEditor]:
        return list(self.query(FileEditor).results(FileEditor))

    @property
    def current(self) -> FileEditor:
        pane = self.query_one("#editor-files", TabbedContent).active_pane
        assert pane is not None  # a tab per starter file, and an exercise has at least one
        return pane.query_one(FileEditor)

    @property
    def unsaved(self) -> list[FileEditor]:
        return [e for e in self.editors if e.unsaved]

    def system_commands(self) -> Iterator[SystemCommand]:
        """The editor's keys in the command palette."""
        yield SystemCommand("Save and check", "Save the file shown and check the exercise (Ctrl+S)", self.action_save)
        if len(self.exercise.starter) > 1:
            yield SystemCommand("Next file", "Show the exercise's next file (Ctrl+O)", self.action_next_file)
            for index, name in enumerate(self.exercise.starter):
                yield SystemCommand(f"Edit {name}", f"Show {name} in the editor", lambda i=index: self.show_file(i))
        yield SystemCommand(
            "Close the editor", "Back to the exercise; asks about unsaved changes (Esc)", self.action_close
        )

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "next_file":
            return len(self.exercise.starter) > 1  # hidden from the footer when there is one file
        return True

    # --- files ---------------------------------------------------------------------------------------

    def show_file(self, index: int) -> None:
        self.query_one("#editor-files", TabbedContent).active = f"file-{index}"

    def action_next_file(self) -> None:
        index = int(self.query_one("#editor-files", TabbedContent).active.removeprefix("file-"))
        self.show_file((index + 1) % len(self.exercise.starter))

    @on(TabbedContent.TabActivated)
    def _file_shown(self, event: TabbedContent.TabActivated) -> None:
        event.pane.query_one(FileEditor).text_area.focus()

    @on(FileEditor.Changed)
    def _unsaved_changed(self, event: FileEditor.Changed) -> None:
        editor = event.editor
        pane = editor.query_ancestor(TabPane)
        assert pane.id is not None
        label = editor.path.name + (f" {glyphs.UNSAVED}" if editor.unsaved else "")
        self.query_one("#editor-files", TabbedContent).get_tab(pane.id).label = label

    def save(self, editor: FileEditor) -> bool:
        """Save one file; on an error, say so and keep the text in the editor, unsaved."""
        try:
            editor.save()
        except OSError as exc:
            self.notify(
                f"{editor.path.name} was not saved: {exc}. Your text is still in the editor.",
                title="Not saved",
                severity="error",
                timeout=15,
            )
            return False
        self.saves += 1  # counted now, not when the message arrives: closing right after must see it
        return True

    def action_save(self) -> None:
        self.save(self.current)

    @on(FileEditor.Saved)
    def _saved(self, event: FileEditor.Saved) -> None:
        if not self.closing:
            self.check()

    # --- closing -------------------------------------------------------------------------------------

    def action_close(self) -> None:
        unsaved = self.unsaved
        if not unsaved:
            self._leave()
        else:
            self.app.push_screen(UnsavedScreen([e.path.name for e in unsaved]), self._answered)

    def _answered(self, choice: Choice | None) -> None:
        if choice is None:
            return
        if choice == "save":
            self.closing = True
            if not all(self.save(e) for e in self.unsaved):
                self.closing = False
                return
        self._leave()

    def _leave(self) -> None:
        self.closing = True
        self.dismiss(Closed(self.result, stale=self.saves != self.checked))

    # --- checks --------------------------------------------------------------------------------------

    def check(self) -> None:
        self.query_one("#editor-result", Static).update("Checking...")
        self.query_one("#editor-progress", ProgressBar).update(total=len(self.exercise.checks), progress=0)
        self.run_checks(self.exercise, self.folder, self.saves)

    @work(thread=True, exclusive=True, group="check")
    def run_checks(self, exercise: Exercise, folder: Path, saves: int) -> None:
        bar = self.query_one("#editor-progress", ProgressBar)
        result = grade_exercise(
            exercise, folder, progress=lambda _check, _outcome: self.app.call_from_thread(bar.advance, 1)
        )
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._checked, result, saves)

    def _checked(self, result: ExerciseResult, saves: int) -> None:
        self.app.record_check(result)
        self.result, self.checked = result, saves
        self.query_one("#editor-result", Static).update("\n".join(exercise_lines(result)))
