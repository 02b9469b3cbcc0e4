"""F3: progress per topic, and the list of what is left to do."""

from __future__ import annotations

from typing import TYPE_CHECKING

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Header, Markdown

from lambdalab.course.progress import lesson_progress
from lambdalab.tui.screens.course_map import progress_glyph, progress_words
from lambdalab.tui.topics import TOPIC_TITLES

if TYPE_CHECKING:
    from textual import getters

    from lambdalab.tui.app import LambdalabApp


class ProgressScreen(Screen):
    if TYPE_CHECKING:  # self.app typed as lambdalab's app (Textual's idiom); nothing changes at run time
        app = getters.app(LambdalabApp)

    BINDINGS = [Binding("escape", "app.pop_screen", "Back")]

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll():
            yield Markdown(self._report(), id="progress-report")
        yield Footer()

    def on_mount(self) -> None:
        self.sub_title = "Progress"

    def _report(self) -> str:
        course, progress = self.app.course, self.app.progress
        by_topic: dict[str, list] = {}
        for lesson in course.lessons:
            by_topic.setdefault(lesson.topic, []).append((lesson, lesson_progress(progress, lesson)))
        rows = ["| topic | lessons done | pages read | quiz points |", "|---|---|---|---|"]
        left = []
        for topic, lessons in by_topic.items():
            done = sum(p.done for _, p in lessons)
            pages = f"{sum(p.pages_read for _, p in lessons)}/{sum(p.pages for _, p in lessons)}"
            points = f"{sum(p.quiz_best or 0 for _, p in lessons)}/{sum(p.quiz_questions for _, p in lessons)}"
            rows.append(f"| {TOPIC_TITLES.get(topic, topic)} | {done}/{len(lessons)} | {pages} | {points} |")
            left += [
                f"- {progress_glyph(p)} {lesson.number}. {lesson.title}: {progress_words(p)}"
                for lesson, p in lessons
                if not p.done
            ]
        todo = "\n".join(left) if left else "Nothing: every lesson is done."
        return "# Your progress\n\n" + "\n".join(rows) + "\n\n## Still to do\n\n" + todo
