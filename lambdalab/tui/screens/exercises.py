"""F5: the exercises. A list with each one's status; its instructions; checks run in a worker with a
progress bar, results with what was expected and what happened; hints; the files in the built-in editor
(`i`, or `e` where $EDITOR is unset or the app cannot suspend: in a browser) or in $EDITOR (`e`); and a live
re-check each time a file of the exercise is saved. Grading is the `lambdalab check` code path."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path
from typing import TYPE_CHECKING

from textual import on, work
from textual.app import ComposeResult, SuspendNotSupported
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown, OptionList, ProgressBar, Static
from textual.widgets.option_list import Option
from textual.worker import get_current_worker

from lambdalab.course.progress import exercise_progress
from lambdalab.grading.exercises import Exercise, load_catalogue
from lambdalab.grading.feedback import exercise_lines
from lambdalab.grading.grader import grade_exercise
from lambdalab.grading.results import ExerciseResult
from lambdalab.grading.watcher import watch
from lambdalab.grading.workspace import NotAWorkspace, find_workspace, start_workspace
from lambdalab.tui import glyphs
from lambdalab.tui.screens.editor import Closed, EditorScreen

if TYPE_CHECKING:
    from textual import getters

    from lambdalab.tui.app import LambdalabApp

DEFAULT_WORKSPACE = "lambdalab-exercises"


def status_glyph(done: dict) -> str:
    if done.get("passed"):
        return glyphs.DONE
    return glyphs.STARTED if done.get("attempts") else glyphs.NOT_STARTED


def _near(path: Path) -> Path:
    """The path as the learner would type it from here: relative to the current folder when inside it."""
    try:
        return path.relative_to(Path.cwd())
    except ValueError:
        return path


class ExercisesScreen(Screen):
    if TYPE_CHECKING:  # self.app typed as lambdalab's app (Textual's idiom); nothing changes at run time
        app = getters.app(LambdalabApp)

    BINDINGS = [
        Binding("c", "check", "Check"),
        Binding("h", "hint", "Hint"),
        Binding("e", "edit", "Edit"),
        Binding("i", "edit_here", "Edit in app", show=False),  # in F1 and the palette: the footer keeps F2
        Binding("w", "toggle_watch", "Watch"),
        Binding("s", "start_workspace", "Create workspace", show=False),
        Binding("escape", "app.pop_screen", "Back"),
    ]

    def __init__(self, exercise_id: str | None = None):
        super().__init__()
        self.exercises: list[Exercise] = load_catalogue().exercises
        self.index = next((i for i, e in enumerate(self.exercises) if e.id == exercise_id), 0)
        self.workspace = self._find_workspace()
        self.watching = False

    @staticmethod
    def _find_workspace() -> Path | None:
        for start in (Path.cwd(), Path.cwd() / DEFAULT_WORKSPACE):
            try:
                return find_workspace(start)
            except NotAWorkspace:
                continue
        return None

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield OptionList(id="exercise-list")
            with Vertical(id="exercise-pane"):
                with VerticalScroll(id="exercise-body"):
                    yield Markdown(id="exercise-instructions", open_links=False)
                    yield Static(id="exercise-hints", markup=False)
                    yield Static(id="exercise-results", markup=False)
                yield ProgressBar(id="exercise-progress", show_eta=False)
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Exercises"
        self._draw_list()
        self.show(self.index)

    @property
    def exercise(self) -> Exercise:
        return self.exercises[self.index]

    def _draw_list(self) -> None:
        progress = self.app.progress
        options = [
            Option(f"{status_glyph(exercise_progress(progress, e.id))} {e.number:02d} {e.title}", id=e.id)
            for e in self.exercises
        ]
        listing = self.query_one("#exercise-list", OptionList)
        listing.set_options(options)
        listing.highlighted = self.index

    def show(self, index: int) -> None:
        self.index = index
        self._draw_instructions()
        self._draw_hints()
        self.query_one("#exercise-results", Static).update(
            "Press c to check, h for a hint, e to edit ($EDITOR), i to edit in the app, w to re-check on every save."
        )
        bar = self.query_one("#exercise-progress", ProgressBar)
        bar.update(total=len(self.exercise.checks), progress=0)

    def _draw_instructions(self) -> None:
        """Title, status and where the files are, then the instructions."""
        exercise = self.exercise
        where = (
            f"`{_near(self.workspace / exercise.folder.name)}`"
            if self.workspace
            else f"no workspace yet: press **s** to create `./{DEFAULT_WORKSPACE}`"
        )
        done = exercise_progress(self.app.progress, exercise.id)
        status = (
            "passed"
            if done.get("passed")
            else f"best {done['best']:g}/{exercise.points:g}"
            if "best" in done
            else "not tried"
        )
        self.query_one("#exercise-instructions", Markdown).update(
            f"# {exercise.title}\n\n*{exercise.difficulty}, {exercise.points:g} points, lesson `{exercise.lesson}`: "
            f"{status}.* Your files: {where}\n\n{exercise.instructions}"
        )

    def _hints_shown(self) -> int:
        return exercise_progress(self.app.progress, self.exercise.id).get("hints", 0)

    def _draw_hints(self) -> None:
        hints = self.exercise.hints[: self._hints_shown()]
        text = "\n".join(f"Hint {n}: {h}" for n, h in enumerate(hints, 1))
        self.query_one("#exercise-hints", Static).update(text)

    @on(OptionList.OptionHighlighted, "#exercise-list")
    def _highlighted(self, event: OptionList.OptionHighlighted) -> None:
        if event.option_index != self.index:
            self.show(event.option_index)

    # --- actions -------------------------------------------------------------------------------------

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action in ("check", "edit", "edit_here", "toggle_watch"):
            return self.workspace is not None or None  # shown greyed out until there is a workspace
        if action == "start_workspace":
            return self.workspace is None
        return True

    def action_start_workspace(self) -> None:
        target = Path.cwd() / DEFAULT_WORKSPACE
        start_workspace(target, self.exercises)
        self.workspace = target
        self.notify(f"Workspace created: {target}")
        self.refresh_bindings()
        self.show(self.index)

    def action_hint(self) -> None:
        exercise = self.exercise
        shown = min(self._hints_shown() + 1, len(exercise.hints))
        self.app.progress = self.app.store.record_hint(exercise.id, shown)
        self._draw_hints()

    def action_check(self) -> None:
        if self.workspace is not None:
            self.query_one("#exercise-results", Static).update("Checking...")
            self.query_one("#exercise-progress", ProgressBar).update(total=len(self.exercise.checks), progress=0)
            self.run_checks(self.exercise, self.workspace)

    def action_edit(self) -> None:
        """The file in $EDITOR, with the app suspended; the built-in editor where there is no $EDITOR or the
        app cannot suspend (under `lambdalab serve` the browser has no terminal to hand over, and
        `App.suspend` raises SuspendNotSupported before the editor would start)."""
        if self.workspace is None:
            return
        exercise = self.exercise
        path = self.workspace / exercise.folder.name / exercise.starter[0]
        editor = os.environ.get("VISUAL") or os.environ.get("EDITOR")
        if not editor:
            self.action_edit_here()
            return
        failed: OSError | None = None
        try:
            with self.app.suspend():
                try:
                    subprocess.run([*shlex.split(editor), str(path)], check=False)
                except OSError as exc:  # no such program: said once the app is back
                    failed = exc
        except SuspendNotSupported:
            self.action_edit_here()
            return
        if failed is not None:
            self.notify(f"Could not start {editor!r}: {failed}", severity="error", timeout=10)
            return
        self.action_check()

    def action_edit_here(self) -> None:
        if self.workspace is not None:
            self.app.push_screen(EditorScreen(self.exercise, self.workspace / self.exercise.folder.name), self._edited)

    def _edited(self, closed: Closed | None) -> None:
        """Back from the built-in editor: its last result, and a check if files were saved after it."""
        if closed is None:
            return
        if closed.result is not None and closed.result.exercise_id == self.exercise.id:
            self.query_one("#exercise-results", Static).update("\n".join(exercise_lines(closed.result)))
            bar = self.query_one("#exercise-progress", ProgressBar)
            bar.update(total=len(self.exercise.checks), progress=len(self.exercise.checks))
        self._draw_instructions()
        self._draw_list()
        if closed.stale:
            self.action_check()

    def action_toggle_watch(self) -> None:
        if self.workspace is None:
            return
        self.watching = not self.watching
        self.notify("Re-checking on every save" if self.watching else "Stopped watching")
        if self.watching:
            self.watch_files(self.workspace)

    # --- workers -------------------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="check")
    def run_checks(self, exercise: Exercise, workspace: Path) -> None:
        bar = self.query_one("#exercise-progress", ProgressBar)
        result = grade_exercise(
            exercise,
            workspace / exercise.folder.name,
            progress=lambda _check, _outcome: self.app.call_from_thread(bar.advance, 1),
        )
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self._checked, exercise, result)

    def _checked(self, exercise: Exercise, result: ExerciseResult) -> None:
        self.app.record_check(result)
        if exercise is self.exercise:
            self._draw_instructions()
            self.query_one("#exercise-results", Static).update("\n".join(exercise_lines(result)))
        self._draw_list()

    @work(thread=True, exclusive=True, group="watch")
    def watch_files(self, workspace: Path) -> None:
        """The workspace watched as `lambdalab watch` does: a settled save checks the exercise shown."""
        worker = get_current_worker()
        watch(
            workspace,
            lambda _changed: self.app.call_from_thread(self._files_saved),
            stop=lambda: not self.watching or worker.is_cancelled,
        )

    def _files_saved(self) -> None:
        # The built-in editor checks its own saves, and hands over what is left when it closes.
        if not any(isinstance(screen, EditorScreen) for screen in self.app.screen_stack):
            self.action_check()
