"""The home screen: lessons in course order with their topic and progress, a search box, and resume where you
left off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.table import Table
from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import Footer, Header, Input, OptionList, Static
from textual.widgets.option_list import Option

from lambdalab.course.model import Lesson
from lambdalab.course.progress import LessonProgress, lesson_progress
from lambdalab.tui import glyphs
from lambdalab.tui.topics import TOPIC_TITLES

if TYPE_CHECKING:
    from textual import getters

    from lambdalab.tui.app import LambdalabApp


def progress_words(done: LessonProgress) -> str:
    quiz = (
        "quiz not taken"
        if done.quiz_best is None
        else (f"quiz {done.quiz_best}/{done.quiz_questions}{' passed' if done.quiz_passed else ''}")
    )
    return f"{done.pages_read}/{done.pages} pages read, {quiz}"


def progress_glyph(done: LessonProgress) -> str:
    return glyphs.DONE if done.done else glyphs.STARTED if done.started else glyphs.NOT_STARTED


def topic_title(lesson: Lesson) -> str:
    return TOPIC_TITLES.get(lesson.topic, lesson.topic)


def hanging_row(prefix: str, text: str | Text) -> Table:
    """A list row whose text wraps under itself, not back under its prefix (a glyph and a number)."""
    row = Table.grid(padding=(0, 1))
    row.add_column(no_wrap=True)
    row.add_column()
    row.add_row(prefix, text)
    return row


def lesson_row(lesson: Lesson, done: LessonProgress) -> Table:
    """A lesson's row: glyph and number, then its title with its topic beneath.

    The lessons stay in course order (each builds on the ones before), so the topic is a label, not a heading.
    """
    title = Text.assemble(lesson.title, "\n", (topic_title(lesson), "dim italic"))
    return hanging_row(f"{progress_glyph(done)} {lesson.number:>2}.", title)


class CourseMapScreen(Screen):
    if TYPE_CHECKING:  # self.app typed as lambdalab's app (Textual's idiom); nothing changes at run time
        app = getters.app(LambdalabApp)

    BINDINGS = [
        Binding("slash", "search", "Search"),
        Binding("escape", "clear_search", "Clear search", show=False),
        Binding("r", "resume", "Resume"),
    ]

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            with Vertical(id="lessons-pane"):
                yield Input(placeholder="Search lessons ( / )", id="search")
                yield OptionList(id="lessons")
            with VerticalScroll(id="detail-pane"):  # a long summary scrolls rather than run off the bottom
                yield Static(id="lesson-detail")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Course map"
        self.refresh_lessons()
        self.query_one("#lessons", OptionList).focus()

    def on_screen_resume(self) -> None:
        self.refresh_lessons()  # back from a lesson: its progress changed

    def refresh_lessons(self) -> None:
        """Rebuild the list from the course and the latest progress, keeping the highlight."""
        options = self.query_one("#lessons", OptionList)
        query = self.query_one("#search", Input).value.strip().lower()
        keep = (
            options.highlighted_option.id
            if options.highlighted_option is not None
            else self.app.progress.get("last_lesson")
        )
        items = [
            Option(lesson_row(lesson, lesson_progress(self.app.progress, lesson)), id=lesson.id)
            for lesson in self.app.course.lessons
            if not query or query in f"{lesson.title} {lesson.summary} {topic_title(lesson)}".lower()
        ]
        options.set_options(items)
        ids = [o.id for o in options.options]
        options.highlighted = ids.index(keep) if keep in ids else 0 if ids else None
        self._show_detail()

    def _selected(self) -> Lesson | None:
        option = self.query_one("#lessons", OptionList).highlighted_option
        return self.app.course.find(option.id) if option is not None and option.id is not None else None

    def _show_detail(self) -> None:
        lesson = self._selected()
        detail = self.query_one("#lesson-detail", Static)
        if lesson is None:
            detail.update("No lesson matches the search.")
            return
        done = lesson_progress(self.app.progress, lesson)
        detail.update(
            Content.assemble(
                (f"{lesson.number}. {lesson.title}\n", "bold $primary"),
                (f"{topic_title(lesson)}\n\n", "italic $text-muted"),
                f"{lesson.summary}\n\n",
                ("Progress: ", "bold"),
                f"{progress_glyph(done)} {progress_words(done)}. About {lesson.minutes} minutes.\n\n",
                ("You will be able to:\n", "bold"),
                *(f"  • {o}\n" for o in lesson.objectives),
                "\nPress ",
                ("Enter", "bold"),
                " to open it.",
            )
        )

    @on(OptionList.OptionHighlighted, "#lessons")
    def _highlighted(self) -> None:
        self._show_detail()

    @on(OptionList.OptionSelected, "#lessons")
    def _open(self, event: OptionList.OptionSelected) -> None:
        lesson = self.app.course.find(event.option.id) if event.option.id is not None else None
        if lesson is not None:
            self.app.open_lesson(lesson, self._resume_step(lesson))

    @on(Input.Changed, "#search")
    def _search(self) -> None:
        self.refresh_lessons()

    @on(Input.Submitted, "#search")
    def _search_done(self) -> None:
        self.query_one("#lessons", OptionList).focus()

    def action_search(self) -> None:
        self.query_one("#search", Input).focus()

    def action_clear_search(self) -> None:
        search = self.query_one("#search", Input)
        search.value = ""
        self.query_one("#lessons", OptionList).focus()

    def action_resume(self) -> None:
        """Open the lesson last worked on, at its first page not read yet."""
        lesson = self.app.course.find(self.app.progress.get("last_lesson") or "") or next(
            iter(self.app.course.lessons), None
        )
        if lesson is not None:
            self.app.open_lesson(lesson, self._resume_step(lesson))

    def _resume_step(self, lesson: Lesson) -> str | None:
        read = set(self.app.progress["lessons"].get(lesson.id, {}).get("read", ()))
        return next((page.id for page in lesson.pages if page.id not in read), None)
