"""At 80x24 nothing is cut mid-word without a sign: the words on screen are whole words of what was shown.

Each check reads the screen as the compositor drew it and compares every word in a pane with the words of the
text that pane was given. A word cut at the pane's edge ("tak" for "takes"), squeezed into a table cell
("Po…") or folded across two lines is not one of them. A code block or table wider than the page may be cut
at its edge, but only when it scrolls sideways and shows its scrollbar.
"""

from __future__ import annotations

import re

import pytest
from course_helpers import write_course
from textual.geometry import Region
from textual.widgets import OptionList, Static
from textual.widgets._markdown import MarkdownTable

from lambdalab.course.loader import load_course
from lambdalab.course.progress import ProgressStore
from lambdalab.tui.app import LambdalabApp
from lambdalab.tui.topics import TOPIC_TITLES
from lambdalab.tui.widgets.quiz_view import QuizView

SIZE = (80, 24)
WORD = re.compile(r"\w+")


def words(text: str) -> set[str]:
    return set(WORD.findall(text))


def drawn_lines(app, region: Region) -> list[tuple[int, str]]:
    """The screen's text inside `region`, as (row, text) with the text starting at region.x."""
    region = region.intersection(app.screen.region)
    strips = app.screen._compositor.render_strips()
    return [(y, strips[y].crop(region.x, region.right).text) for y in range(region.y, region.bottom)]


def cut_words(
    app,
    region: Region,
    source: str,
    *,
    skip: tuple[Region, ...] = (),
    open_left: bool = False,
    open_right: bool = False,
) -> list[str]:
    """Words drawn inside `region`, outside the `skip` regions, that are not words of `source`.

    A word touching an open edge (one that a block scrolls past) is cut on purpose and not counted.
    """
    known = words(source)
    cut = []
    for y, line in drawn_lines(app, region):
        for match in WORD.finditer(line):
            x = region.x + match.start()
            at_open_edge = (open_left and match.start() == 0) or (open_right and match.end() == len(line))
            if match.group() not in known and not at_open_edge and not any(r.contains(x, y) for r in skip):
                cut.append(match.group())
    return cut


def new_app(tmp_path, course=None) -> LambdalabApp:
    return LambdalabApp(course=course, store=ProgressStore(tmp_path / "home"))


async def test_the_course_map_shows_whole_words(tmp_path):
    app = new_app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        detail = app.screen.query_one("#lesson-detail", Static)
        pane = detail.region.intersection(detail.parent.region)
        shown = str(detail.content)
        summary = app.course.lessons[0].summary
        assert summary in shown
        assert cut_words(app, pane, shown) == []
        assert words(summary) <= words(" ".join(line for _, line in drawn_lines(app, pane)))  # all of it on screen
        listed = " ".join(
            f"{lesson.number} {lesson.title} {TOPIC_TITLES[lesson.topic]}" for lesson in app.course.lessons
        )
        assert cut_words(app, app.screen.query_one("#lessons", OptionList).region, listed) == []


@pytest.mark.parametrize(
    "lesson_id, kinds",
    [
        ("the-lambda-model", ["code", "table"]),  # a handler too wide for the page, and the context object's members
        ("invocation-models", ["table"]),  # four columns comparing the three invocation models
    ],
)
async def test_a_lesson_page_shows_whole_words_and_scrolls_wide_blocks_sideways(tmp_path, lesson_id, kinds):
    app = new_app(tmp_path)
    lesson = app.course.get(lesson_id)
    source = lesson.pages[0].markdown
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.open_lesson(lesson, lesson.pages[0].id)
        await pilot.pause()
        step = app.screen.query_one("#step")
        blocks = list(app.screen.query("MarkdownFence, MarkdownTable"))
        assert ["table" if isinstance(b, MarkdownTable) else "code" for b in blocks] == kinds
        for _ in range(100):  # a busy machine lays the blocks out a few frames later
            if any(b.max_scroll_x for b in blocks):
                break
            await pilot.pause(0.05)
        assert any(b.max_scroll_x for b in blocks)  # at 80 columns each page has a block wider than the page
        for top in range(0, step.max_scroll_y + step.size.height, step.size.height):
            step.scroll_to(y=top, animate=False)
            await pilot.pause()
            shown = [(b, b.region.intersection(step.region)) for b in blocks]
            assert cut_words(app, step.region, source, skip=tuple(r for _, r in shown)) == []
            for block, region in shown:
                if not block.max_scroll_x:
                    assert cut_words(app, region, source) == []
                    continue
                assert block.scrollbar_size_horizontal > 0, "a block wider than the page must show its scrollbar"
                assert cut_words(app, region, source, open_right=True) == []
                block.scroll_to(x=block.max_scroll_x, animate=False)
                await pilot.pause()
                assert cut_words(app, region, source, open_left=True) == []
                block.scroll_to(x=0, animate=False)
                await pilot.pause()


async def test_a_quiz_question_and_its_feedback_show_whole_words(tmp_path):
    course = load_course(write_course(tmp_path / "lessons").parent)
    app = new_app(tmp_path, course)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.pause()
        app.open_lesson(course.get("sample-lesson"), "check")
        await pilot.pause()
        await pilot.press("2")  # a wrong answer: marks on the choices, then the explanations
        await pilot.pause()
        view = app.screen.query_one(QuizView)
        texts = [
            str(view.query_one(f"#quiz-{part}", Static).content) for part in ("header", "prompt", "hint", "feedback")
        ]
        texts += [str(option.prompt) for option in view.query_one("#quiz-choices", OptionList).options]
        assert cut_words(app, app.screen.query_one("#step").region, "\n".join(texts)) == []
