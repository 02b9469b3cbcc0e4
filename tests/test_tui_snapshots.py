"""Snapshots of the key screens at 80x24 and 120x40 (pytest-textual-snapshot; review the SVGs when they change).

The simulator is paused at a fixed virtual time, progress starts empty, and the exercise screen shows its
workspace relative to the current folder, so every picture is the same on every run.
"""

from __future__ import annotations

import pytest
from course_helpers import quiz_keys, tagged, write_course

from lambdalab.course.loader import load_course
from lambdalab.course.progress import ProgressStore
from lambdalab.grading.exercises import load_catalogue
from lambdalab.grading.workspace import start_workspace
from lambdalab.tui.app import LambdalabApp
from lambdalab.tui.screens.exercises import DEFAULT_WORKSPACE

SIZES = [(80, 24), (120, 40)]


def make_app(tmp_path, course=None) -> LambdalabApp:
    return LambdalabApp(course=course, store=ProgressStore(tmp_path / "home"))


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_course_map(snap_compare, tmp_path, size):
    assert snap_compare(make_app(tmp_path), terminal_size=size)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_lesson_page(snap_compare, tmp_path, size):
    course = load_course(write_course(tmp_path / "lessons").parent)

    async def open_page(pilot):
        pilot.app.open_lesson(course.get("sample-lesson"))
        await pilot.pause()

    assert snap_compare(make_app(tmp_path, course), terminal_size=size, run_before=open_page)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_quiz_feedback(snap_compare, tmp_path, size):
    course = load_course(write_course(tmp_path / "lessons").parent)

    async def answer_wrong(pilot):
        pilot.app.open_lesson(course.get("sample-lesson"), "check")
        await pilot.pause()
        await pilot.press("2")  # the wrong option of the first question
        await pilot.pause()

    assert snap_compare(make_app(tmp_path, course), terminal_size=size, run_before=answer_wrong)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_quiz_result_by_topic(snap_compare, tmp_path, size):
    """A quiz whose questions name their topic (the course review) ends with scores per topic and steps to re-read."""
    course = load_course(write_course(tmp_path / "lessons", tagged()).parent)
    lesson = course.get("sample-lesson")

    async def finish(pilot):
        pilot.app.open_lesson(lesson, "check")
        await pilot.pause()
        for question in lesson.quizzes[0].questions:
            await pilot.press(*quiz_keys(question, lesson, question.id not in {"sizing", "init-free"}), "enter")
        await pilot.pause()

    assert snap_compare(make_app(tmp_path, course), terminal_size=size, run_before=finish)


def test_help(snap_compare, tmp_path):
    assert snap_compare(make_app(tmp_path), terminal_size=(120, 40), press=["f1"])


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_exercise_checked(snap_compare, tmp_path, size, monkeypatch):
    """The first exercise's starter, checked: failed checks with what was expected, a hidden one, the bar full."""
    monkeypatch.chdir(tmp_path)
    start_workspace(tmp_path / DEFAULT_WORKSPACE, load_catalogue().exercises)

    async def checked(pilot):
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press("c")
        for _ in range(200):
            await pilot.pause(0.05)
            if "not yet" in str(pilot.app.screen.query_one("#exercise-results").render()):
                return
        raise AssertionError("the checks did not finish")

    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=checked)


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_editor(snap_compare, tmp_path, size, monkeypatch):
    """The built-in editor on the first exercise's starter: saved and checked once, then edited again (unsaved)."""
    monkeypatch.chdir(tmp_path)
    start_workspace(tmp_path / DEFAULT_WORKSPACE, load_catalogue().exercises)

    async def edited(pilot):
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        await pilot.press("ctrl+s")
        for _ in range(200):
            await pilot.pause(0.05)
            if "not yet" in str(pilot.app.screen.query_one("#editor-result").render()):
                break
        else:
            raise AssertionError("the checks did not finish")
        await pilot.press("down", "down", "end", *"  # one more line")
        await pilot.pause()

    assert snap_compare(make_app(tmp_path), terminal_size=size, run_before=edited)
