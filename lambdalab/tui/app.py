"""The lambdalab app: the course map first, lessons and quizzes, help and progress; one theme per need."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from textual import events
from textual.app import App, SystemCommand
from textual.binding import Binding
from textual.screen import Screen

from lambdalab.course.loader import Course, load_course
from lambdalab.course.model import Lesson
from lambdalab.course.progress import ProgressStore
from lambdalab.grading.results import ExerciseResult
from lambdalab.inputs import InputErrors
from lambdalab.tui.palette import LessonCommands, ScenarioCommands
from lambdalab.tui.screens.course_map import CourseMapScreen
from lambdalab.tui.screens.editor import EditorScreen
from lambdalab.tui.screens.exercises import ExercisesScreen
from lambdalab.tui.screens.help import HelpScreen
from lambdalab.tui.screens.lesson import LessonScreen
from lambdalab.tui.screens.progress import ProgressScreen
from lambdalab.tui.screens.scenario_picker import ScenarioPickerScreen
from lambdalab.tui.screens.simulator import SimulatorScreen
from lambdalab.tui.screens.too_small import TooSmallScreen
from lambdalab.tui.screens.unsaved import Choice, UnsavedScreen
from lambdalab.tui.themes import DEFAULT, THEMES

MIN_WIDTH, MIN_HEIGHT = 80, 24


class LambdalabApp(App):
    CSS_PATH = "lambdalab.tcss"
    TITLE = "lambdalab"
    SUB_TITLE = "how AWS Lambda really behaves"
    COMMANDS = App.COMMANDS | {LessonCommands, ScenarioCommands}
    # Screens get -narrow/-wide and -short/-tall classes, so the stylesheet can fit 80x24 as well as 120x40.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (110, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (34, "-tall")]
    BINDINGS = [
        Binding("f1", "help", "Help"),
        Binding("f2", "course_map", "Course map"),
        Binding("f3", "progress", "Progress"),
        Binding("f4", "simulator", "Simulator"),
        Binding("f5", "exercises", "Exercises"),
    ]

    def __init__(
        self,
        course: Course | None = None,
        store: ProgressStore | None = None,
        drawn: Callable[[], object] | None = None,
    ):
        """`drawn` is called once the first screen is on the terminal (under `lambdalab serve`, the next
        learner's session may then start: serving/zygote.py)."""
        super().__init__()
        self.drawn = drawn
        self.course = course if course is not None else load_course()
        self.store = store if store is not None else ProgressStore()
        self.progress = self.store.load()
        self.animation_level = "none"  # reduced motion by default
        for theme in THEMES:  # before the app starts, so its CSS is parsed once, with the theme's colours
            self.register_theme(theme)
        self.theme = DEFAULT
        if learner := os.environ.get("LAMBDALAB_LEARNER"):  # under `lambdalab serve`: whose progress this is
            self.title = f"{self.TITLE}: {learner}"

    def on_mount(self) -> None:
        self.push_screen(CourseMapScreen())
        for note in self.store.notes:
            self.notify(note, severity="warning", timeout=10)
        self._guard_size(self.size.width, self.size.height)

    def on_ready(self) -> None:
        if self.drawn is not None:
            self.drawn()

    def on_resize(self, event: events.Resize) -> None:
        self._guard_size(event.size.width, event.size.height)

    def _guard_size(self, width: int, height: int) -> None:
        """Below 80x24, one clear message instead of a broken layout."""
        small = width < MIN_WIDTH or height < MIN_HEIGHT
        showing = isinstance(self.screen, TooSmallScreen)
        if small and not showing:
            self.push_screen(TooSmallScreen(MIN_WIDTH, MIN_HEIGHT))
        elif not small and showing:
            self.pop_screen()

    # --- recording progress (screens call these, then refresh what they show) --------------------

    def mark_read(self, lesson: Lesson, step_id: str) -> None:
        self.progress = self.store.mark_read(lesson.id, [step_id])

    def mark_on(self, lesson: Lesson, step_id: str) -> None:
        self.progress = self.store.mark_on(lesson.id, step_id)

    def record_quiz(
        self, lesson: Lesson, quiz_id: str, score: int, total: int, passed: bool, missed: Sequence[str]
    ) -> None:
        self.progress = self.store.record_quiz(lesson.id, quiz_id, score, total, passed, missed)

    def record_check(self, result: ExerciseResult) -> None:
        self.progress = result.record_in(self.store)

    # --- navigation -------------------------------------------------------------------------------

    def open_lesson(self, lesson: Lesson, step_id: str | None = None) -> None:
        self.push_screen(LessonScreen(lesson, step_id))

    def open_simulator(self, path: Path, **guide) -> None:
        """The simulator on a scenario file; a file that does not load is reported, not raised."""
        try:
            screen = SimulatorScreen(path, **guide)
        except InputErrors as exc:
            self.notify(
                "\n".join(str(e) for e in exc.errors[:5]),
                title="This scenario does not load",
                severity="error",
                timeout=15,
            )
            return
        self.push_screen(screen)

    def action_simulator(self) -> None:
        if not isinstance(self.screen, SimulatorScreen):
            self.push_screen(ScenarioPickerScreen(), self._picked)

    def _picked(self, path: Path | None) -> None:
        if path is not None:  # None: the picker was cancelled
            self.open_simulator(path)

    def action_exercises(self, exercise_id: str | None = None) -> None:
        if not isinstance(self.screen, ExercisesScreen):
            self.push_screen(ExercisesScreen(exercise_id))

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())

    def action_course_map(self) -> None:
        self.unless_unsaved(self._to_course_map)

    def _to_course_map(self) -> None:
        while len(self.screen_stack) > 2 and not isinstance(self.screen, CourseMapScreen):
            self.pop_screen()

    async def action_quit(self) -> None:
        self.unless_unsaved(self.exit)

    def unless_unsaved(self, then: Callable[[], object]) -> None:
        """Do `then` (which closes every screen, the editor's too) once no editor holds unsaved text: ask
        first when one does, and save, discard, or keep editing."""
        editors = [s for s in self.screen_stack if isinstance(s, EditorScreen) and s.unsaved]
        if not editors:
            then()
            return

        def answered(choice: Choice | None) -> None:
            if choice is None:
                return
            for editor in editors:
                editor.closing = True  # no check for a save on the way out
            if choice == "save" and not all(e.save(f) for e in editors for f in e.unsaved):
                for editor in editors:
                    editor.closing = False
                return
            then()

        names = [f.path.name for e in editors for f in e.unsaved]
        self.push_screen(UnsavedScreen(names), answered)

    def action_progress(self) -> None:
        if not isinstance(self.screen, ProgressScreen):
            self.push_screen(ProgressScreen())

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        yield SystemCommand("Course map", "Go back to the list of lessons (F2)", self.action_course_map)
        yield SystemCommand("Progress", "Your progress per topic, and what is left (F3)", self.action_progress)
        yield SystemCommand("Simulator", "Run a scenario in virtual time and watch it (F4)", self.action_simulator)
        yield SystemCommand("Exercises", "Graded exercises: instructions, checks, hints (F5)", self.action_exercises)
        yield SystemCommand("Help", "Keys and how the app works (F1)", self.action_help)
        if isinstance(screen, EditorScreen):
            yield from screen.system_commands()
