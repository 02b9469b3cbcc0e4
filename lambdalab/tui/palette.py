"""Command palette entries: open any lesson, or simulate any shipped scenario, by name."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from lambdalab import content
from lambdalab.tui.screens.scenario_picker import scenario_title


class _Listed(Provider):
    """A fixed list of (text, help, action), found by fuzzy search."""

    def entries(self) -> Iterator[tuple[str, str, Callable[[], None]]]:
        raise NotImplementedError

    async def discover(self) -> Hits:
        for text, help_text, action in self.entries():
            yield DiscoveryHit(text, action, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for text, help_text, action in self.entries():
            score = matcher.match(text)
            if score > 0:
                yield Hit(score, matcher.highlight(text), action, help=help_text)


class LessonCommands(_Listed):
    def entries(self):
        app = self.app
        for lesson in app.course.lessons:
            yield f"Open lesson {lesson.number}: {lesson.title}", lesson.summary, partial(app.open_lesson, lesson)


class ScenarioCommands(_Listed):
    def entries(self):
        app = self.app
        for name, path in content.shipped_scenarios().items():
            yield f"Simulate {name}", scenario_title(path), partial(app.open_simulator, path)
