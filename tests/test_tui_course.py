"""The app as a learner drives it, keyboard only: course map, a lesson, a quiz, help, progress and the palette."""

from __future__ import annotations

import io

import pytest
from course_helpers import quiz_keys, right_answer, write_course, wrong_answer
from rich.console import Console
from test_tui_fit import drawn_lines, words
from textual.widgets import Markdown, OptionList, Static
from textual.widgets.markdown import MarkdownFence

from lambdalab.course import quiz
from lambdalab.course.loader import load_course
from lambdalab.course.model import TextStep
from lambdalab.course.progress import ProgressStore
from lambdalab.tui.app import LambdalabApp
from lambdalab.tui.screens.course_map import CourseMapScreen
from lambdalab.tui.screens.help import HelpScreen
from lambdalab.tui.screens.lesson import LessonScreen
from lambdalab.tui.screens.progress import ProgressScreen
from lambdalab.tui.screens.too_small import TooSmallScreen
from lambdalab.tui.widgets.quiz_view import QuizView


@pytest.fixture()
def store(tmp_path) -> ProgressStore:
    return ProgressStore(tmp_path / "home")


@pytest.fixture()
def sample_course(tmp_path):
    return load_course(write_course(tmp_path / "lessons").parent)


def lesson_ids_listed(app) -> list[str]:
    return [o.id for o in app.screen.query_one("#lessons", OptionList).options]


def row_text(option) -> str:
    """A list row as the learner reads it (rows are Rich grids, so that long titles wrap under themselves)."""
    console = Console(width=60, file=io.StringIO(), record=True)
    console.print(option.prompt)
    return " ".join(console.export_text().split())


async def test_the_app_says_once_that_its_first_screen_is_drawn(store):
    """`lambdalab serve` lets the next learner's session start then (serving/zygote.py)."""
    drawn: list[str] = []
    app = LambdalabApp(store=store, drawn=lambda: drawn.append(type(app.screen).__name__))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert drawn == ["CourseMapScreen"]
        await pilot.press("f1", "escape", "f3")
        await pilot.pause()
        assert drawn == ["CourseMapScreen"]


async def test_course_map_lists_lessons_in_course_order_with_their_topic_and_searches(store):
    app = LambdalabApp(store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, CourseMapScreen)
        # Lesson folder order, 1, 2, 3...: each lesson builds on the ones before, whatever its topic.
        numbers = [app.course.get(lesson_id).number for lesson_id in lesson_ids_listed(app)]
        assert numbers == sorted(numbers) == [lesson.number for lesson in app.course.lessons]
        rows = [row_text(o) for o in app.screen.query_one("#lessons", OptionList).options]
        assert rows[2] == "○ 3. Concurrency and throttling Concurrency and scaling"
        assert rows[3].startswith("○ 4. Async retries") and rows[3].endswith("Invocation models")
        assert app.screen.query_one("#lessons", OptionList).highlighted_option.id == "the-lambda-model"
        await pilot.press("slash", *"edge")
        await pilot.pause()
        assert lesson_ids_listed(app) == ["edge-functions"]
        await pilot.press("escape")
        await pilot.pause()
        assert len(lesson_ids_listed(app)) == len(app.course.lessons)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 48)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_lesson_summary_wraps_inside_its_pane(store, size):
    app = LambdalabApp(store=store)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        pane = app.screen.query_one("#detail-pane")
        assert pane.region.right <= app.size.width  # the pane ends at the screen's edge...
        assert app.screen.query_one("#lesson-detail").region.right <= pane.region.right  # ...and its text inside it
        drawn = " ".join(line for _, line in drawn_lines(app, pane.region))
        assert words(app.course.lessons[0].summary) <= words(drawn)  # every word whole, none cut at the edge


async def test_walk_a_lesson_and_record_pages_read(store):
    app = LambdalabApp(store=store)
    lesson = app.course.get("concurrency-and-throttling")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"concurrency", "enter")
        assert app.screen.query_one("#lessons", OptionList).highlighted_option.id == lesson.id
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == lesson.id
        assert app.screen.index == 0
        await pilot.press("n", "n")
        await pilot.pause()
        assert app.screen.index == 2
        await pilot.press("p")
        await pilot.pause()
        assert app.screen.index == 1
        visited_pages = {s.id for s in lesson.steps[:3] if isinstance(s, TextStep)}
        assert visited_pages and set(store.load()["lessons"][lesson.id]["read"]) == visited_pages
        toc = [row_text(o) for o in app.screen.query_one("#toc", OptionList).options]
        assert [t.startswith("✔") for t in toc] == [s.id in visited_pages for s in lesson.steps]
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CourseMapScreen)
        detail = str(app.screen.query_one("#lesson-detail", Static).content)
        assert f"{len(visited_pages)}/{len(lesson.pages)} pages read" in detail


async def test_a_step_opened_is_where_the_learner_is_and_only_pages_count_as_read(store):
    """What an instructor's view of the room shows: the step open now, a demo or a quiz too, not the last page."""
    app = LambdalabApp(store=store)
    lesson = app.course.get("concurrency-and-throttling")
    other = next(i for i, s in enumerate(lesson.steps) if not isinstance(s, TextStep))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"concurrency", "enter", "enter")
        await pilot.pause()
        await pilot.press(*"n" * other)
        await pilot.pause()
        assert app.screen.index == other
        data = store.load()
        assert (data["last_lesson"], data["last_step"]) == (lesson.id, lesson.steps[other].id)
        assert lesson.steps[other].id not in data["lessons"][lesson.id]["read"]
        await pilot.press("p")
        await pilot.pause()
        assert store.load()["last_step"] == lesson.steps[other - 1].id


async def test_quiz_right_and_wrong_answers_explained_and_scored(store, sample_course):
    app = LambdalabApp(course=sample_course, store=store)
    lesson = sample_course.get("sample-lesson")
    quiz_step = lesson.quizzes[0]
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.open_lesson(lesson, quiz_step.id)
        await pilot.pause()
        view = app.screen.query_one(QuizView)
        feedback = view.query_one("#quiz-feedback", Static)
        # Question 1 (single): right, by its number key.
        await pilot.press(str(quiz.LETTERS.index(right_answer(quiz_step.questions[0], lesson)) + 1))
        assert "✔ CORRECT" in str(feedback.content) and view.score == 1
        await pilot.press("enter")
        # Question 2 (true/false, a myth): wrong.
        assert view.index == 1
        wrong = wrong_answer(quiz_step.questions[1], lesson)
        await pilot.press("1" if wrong == "t" else "2")
        assert "✘ NOT QUITE" in str(feedback.content) and view.score == 1
        await pilot.press("enter")
        # Question 3 (numeric): typed, then Enter.
        await pilot.press(*"100", "enter")
        assert "✔ CORRECT" in str(feedback.content) and view.score == 2
        await pilot.press("enter")
        # Question 4 (ordering): the items' numbers in the right order.
        order = right_answer(quiz_step.questions[3], lesson).split()
        await pilot.press(*(str(quiz.LETTERS.index(letter) + 1) for letter in order))
        assert "✔ CORRECT" in str(feedback.content) and view.score == 3
        await pilot.press("enter")
        # Question 5 (multiple): toggle two, then Enter.
        await pilot.press("1", "2", "enter")
        assert "✔ CORRECT" in str(feedback.content) and view.score == 4
        await pilot.press("enter")
        await pilot.pause()
        assert view.finished
        saved = store.load()["lessons"][lesson.id]["quizzes"][quiz_step.id]
        assert (saved["last"], saved["total"], saved["passed"]) == (4, 5, True)
        assert "Passed: 4/5" in str(view.query_one("#quiz-prompt", Static).content)


async def test_quiz_marks_your_answer_and_the_right_one_and_names_them_by_number(store, sample_course):
    app = LambdalabApp(course=sample_course, store=store)
    lesson = sample_course.get("sample-lesson")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_lesson(lesson, lesson.quizzes[0].id)
        await pilot.pause()
        view = app.screen.query_one(QuizView)
        choices = view.query_one("#quiz-choices", OptionList)
        assert [str(o.prompt) for o in choices.options] == ["1. 50 run, 150 get a 429", "2. All 200 run"]
        await pilot.press("2")  # wrong
        assert [str(o.prompt) for o in choices.options] == [
            "1. 50 run, 150 get a 429\n   ✔ right answer",
            "2. All 200 run\n   ▶ your answer ✘ wrong",
        ]
        feedback = str(view.query_one("#quiz-feedback", Static).content)
        # Numbers, as on the choices (plain mode letters its choices and says "(a)"); the verdict said once.
        assert feedback.startswith("✘ NOT QUITE: the right answer is (1).\n")
        assert "(2) All 200 run [you chose it; wrong]" in feedback and "(a)" not in feedback
        assert feedback.lower().count("not quite") == 1
        step = app.screen.query_one("#step")
        await pilot.press("down", "down")  # the explanation runs past the bottom: the arrows now scroll to it
        assert step.scroll_y > 0
        await pilot.press("enter")
        right = "1" if right_answer(view.question, lesson) == "t" else "2"
        await pilot.press(right)  # true/false, right
        marked = [str(o.prompt) for o in choices.options]
        assert marked[int(right) - 1].endswith("▶ your answer ✔ right") and "\n" not in marked[2 - int(right)]
        assert str(view.query_one("#quiz-feedback", Static).content).startswith("✔ CORRECT: the statement is")


async def test_lesson_contents_fold_away_below_100_columns_and_t_shows_them(store):
    app = LambdalabApp(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_lesson(app.course.get("the-lambda-model"))
        await pilot.pause()
        toc = app.screen.query_one("#toc", OptionList)
        assert not toc.display and app.screen.query_one("#step").size.width > 70  # the page gets the width
        assert app.screen.active_bindings["t"].binding.show  # "t Contents" in the footer
        await pilot.press("t")
        assert toc.display
        await pilot.press("t")
        assert not toc.display
        await pilot.resize_terminal(120, 40)
        await pilot.pause()
        assert toc.display
        await pilot.resize_terminal(99, 30)
        await pilot.pause()
        assert not toc.display


async def test_wide_code_scrolls_sideways_with_a_scrollbar_and_the_arrow_keys(store):
    app = LambdalabApp(store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_lesson(app.course.get("the-lambda-model"))
        await pilot.pause()
        code = app.screen.query_one(MarkdownFence)
        for _ in range(100):  # the page lays out in its own time on a busy machine (once, one pause was too short)
            if code.max_scroll_x > 0:
                break
            await pilot.pause(0.05)
        assert code.max_scroll_x > 0 and code.scrollbar_size_horizontal == 1  # cut, and it shows
        footer = app.screen.active_bindings["right"]
        assert footer.enabled and footer.binding.show and footer.binding.description == "Scroll sideways"
        await pilot.press("right", "right")
        assert code.scroll_x == min(16, code.max_scroll_x)
        await pilot.press("left", "left")
        assert code.scroll_x == 0
        await pilot.resize_terminal(160, 48)  # the code fits: no scrollbar, and the key leaves the footer
        await pilot.pause()
        assert code.max_scroll_x == 0 and not app.screen.check_action("sideways", ())


async def test_the_quiz_records_the_questions_missed_on_each_attempt(store, sample_course):
    app = LambdalabApp(course=sample_course, store=store)
    lesson = sample_course.get("sample-lesson")
    quiz_step = lesson.quizzes[0]

    async def take(pilot, wrong: set[str]) -> dict:
        for question in quiz_step.questions:
            await pilot.press(*quiz_keys(question, lesson, question.id not in wrong), "enter")
        await pilot.pause()
        return store.load()["lessons"][lesson.id]["quizzes"][quiz_step.id]

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.open_lesson(lesson, quiz_step.id)
        await pilot.pause()
        first = await take(pilot, {"sources", "init-free"})
        assert first["missed"] == ["init-free", "sources"] and first["last"] == 3
        await pilot.press("r")
        second = await take(pilot, {"cap"})
        assert second["missed"] == ["cap"] and second["attempts"] == 2
        assert second["missed_ever"] == {"init-free": 1, "sources": 1, "cap": 1}


async def test_lesson_links_open_lessons_inside_the_app(store):
    app = LambdalabApp(store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.open_lesson(app.course.get("the-lambda-model"))
        await pilot.pause()
        markdown = app.screen.query_one(Markdown)
        markdown.post_message(Markdown.LinkClicked(markdown, "lesson:concurrency-and-throttling#what-concurrency-is"))
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == "concurrency-and-throttling"


async def test_help_progress_and_palette_by_keyboard(store):
    app = LambdalabApp(store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("f3")
        await pilot.pause()
        assert isinstance(app.screen, ProgressScreen)
        assert "Still to do" in app.screen.query_one("#progress-report", Markdown).source
        await pilot.press("escape", "ctrl+p")
        await pilot.pause()
        await pilot.press(*"Open lesson 9")
        await pilot.pause(0.3)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == "edge-functions"


async def test_a_small_terminal_gets_one_clear_message(store):
    app = LambdalabApp(store=store)
    async with app.run_test(size=(70, 20)) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, TooSmallScreen)
        assert "at least 80x24" in str(app.screen.query_one("#too-small", Static).content)
        await pilot.resize_terminal(100, 30)
        await pilot.pause()
        assert isinstance(app.screen, CourseMapScreen)


async def test_keyboard_only_walk_from_map_to_quiz_to_simulator_and_back(store):
    """The issue's walk, keys only: find a lesson, read, run its demo, play/pause/step, turn a knob, quiz."""
    from lambdalab.tui.screens.knobs import KnobsScreen
    from lambdalab.tui.screens.simulator import SimulatorScreen

    app = LambdalabApp(store=store)
    lesson = app.course.get("concurrency-and-throttling")
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("slash", *"concurrency", "enter", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == lesson.id
        while type(app.screen.step).__name__ != "DemoStep":
            await pilot.press("n")
            await pilot.pause()
        await pilot.press("o")
        await pilot.pause()
        sim = app.screen
        assert isinstance(sim, SimulatorScreen) and not sim.playing
        await pilot.press("plus", "plus", "plus", "space")
        for _ in range(100):
            if sim.run.now > 1.0:
                break
            await pilot.pause(0.05)
        await pilot.press("space")
        assert not sim.playing and sim.run.now > 1.0
        events = sim.run.sim.loop.events_run
        await pilot.press("full_stop")
        assert sim.run.sim.loop.events_run == events + 1
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, KnobsScreen)
        await pilot.press("ctrl+s")  # re-run as it stands: the comparison then has a "before"
        await pilot.pause()
        assert app.screen is sim and sim.previous is not None and sim.playing
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        while not isinstance(app.screen.step, type(lesson.quizzes[0])):
            await pilot.press("n")
            await pilot.pause()
        view = app.screen.query_one(QuizView)
        first = view.question
        right = quiz.LETTERS.index(right_answer(first, lesson).split()[0]) + 1 if first.type == "single" else None
        if right is not None:
            await pilot.press(str(right))
            assert view.score == 1 and view.answered
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, CourseMapScreen)


async def test_no_color_is_honoured(store, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    app = LambdalabApp(store=store)
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        assert app.no_color


async def test_a_burst_of_quiz_keys_is_answered_in_the_order_typed(store, sample_course):
    """A browser's terminal sends a fast typist's keys in one burst: the choices typed before Enter are all counted
    before Enter submits (Enter, a priority binding, once overtook them: "Choose at least one answer first"). The
    digits of a numeric answer still reach its number box."""
    from textual import events

    app = LambdalabApp(course=sample_course, store=store)
    lesson = sample_course.get("sample-lesson")
    quiz_step = lesson.quizzes[0]

    async def burst(keys: list[str]) -> None:
        for key in keys:  # sent at once, as the web driver sends what one read brought (Pilot waits after each)
            event = events.Key(key, "\r" if key == "enter" else key)
            event.set_sender(app)
            app._driver.send_message(event)
        await pilot.pause()

    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.open_lesson(lesson, quiz_step.id)
        await pilot.pause()
        view = app.screen.query_one(QuizView)
        kinds = set()
        for question in quiz_step.questions:
            await burst([*quiz_keys(question, lesson, right=True)])
            assert view.answered and "right" in view.query_one("#quiz-feedback").classes, question.id
            kinds.add(question.type)
            await pilot.press("enter")
        assert {"multiple", "numeric"} <= kinds
        assert store.load()["lessons"][lesson.id]["quizzes"][quiz_step.id]["best"] == len(quiz_step.questions)
