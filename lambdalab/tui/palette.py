"""Command palette entries: open any lesson by title."""

from __future__ import annotations

from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class LessonCommands(Provider):
    def _lessons(self):
        app = self.app
        for lesson in app.course.lessons:
            yield f"Open lesson {lesson.number}: {lesson.title}", lesson.summary, partial(app.open_lesson, lesson)

    async def discover(self) -> Hits:
        for text, help_text, action in self._lessons():
            yield DiscoveryHit(text, action, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, action in self._lessons():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), action, help=help_text)
