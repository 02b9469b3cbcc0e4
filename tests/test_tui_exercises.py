"""The exercise screen, driven with Pilot: reachable with F5 and from a lesson's exercise step; a
workspace created from it; checks run in a worker, results and progress recorded; hints recorded."""

from __future__ import annotations

import shutil

from conftest import REPO

from lambdalab.course.progress import ProgressStore, exercise_progress
from lambdalab.tui.app import LambdalabApp
from lambdalab.tui.screens.exercises import DEFAULT_WORKSPACE, ExercisesScreen

SOLUTION = REPO / "exercises" / "01-proxy-response" / "solution" / "app.py"


async def wait_for_results(pilot, marker: str) -> str:
    for _ in range(200):
        await pilot.pause(0.05)
        text = str(pilot.app.screen.query_one("#exercise-results").render())
        if marker in text:
            return text
    raise AssertionError(f"no {marker!r} in the results: {text}")


async def test_check_from_the_screen_records_progress(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = ProgressStore(tmp_path / "home")
    app = LambdalabApp(store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, ExercisesScreen) and screen.workspace is None
        assert "no workspace yet" in str(screen.query_one("#exercise-instructions").source)
        await pilot.press("s")  # create ./lambdalab-exercises
        await pilot.pause()
        assert (tmp_path / DEFAULT_WORKSPACE / "lambdalab-workspace.json").is_file()

        await pilot.press("c")
        text = await wait_for_results(pilot, "not yet")
        assert "response $.statusCode is missing" in text and "a hidden check" in text
        assert exercise_progress(store.load(), "proxy-response")["attempts"] == 1
        assert "best 0/8." in screen.query_one("#exercise-instructions").source

        shutil.copyfile(SOLUTION, tmp_path / DEFAULT_WORKSPACE / "01-proxy-response" / "app.py")
        await pilot.press("c")
        await wait_for_results(pilot, "All checks pass")
        assert exercise_progress(store.load(), "proxy-response")["passed"] is True
        assert ": passed." in screen.query_one("#exercise-instructions").source
        bar = screen.query_one("#exercise-progress")
        assert bar.progress == bar.total == 3


async def test_hints_are_revealed_one_at_a_time_and_recorded(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = ProgressStore(tmp_path / "home")
    app = LambdalabApp(store=store)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press("h", "h")
        await pilot.pause()
        hints = str(app.screen.query_one("#exercise-hints").render())
        assert "Hint 1:" in hints and "Hint 2:" in hints and "Hint 3:" not in hints
        assert exercise_progress(store.load(), "proxy-response")["hints"] == 2


async def test_watch_rechecks_when_a_file_is_saved(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = LambdalabApp(store=ProgressStore(tmp_path / "home"))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.press("f5")
        await pilot.pause()
        await pilot.press("s", "w")
        await pilot.pause(0.5)
        shutil.copyfile(SOLUTION, tmp_path / DEFAULT_WORKSPACE / "01-proxy-response" / "app.py")
        await wait_for_results(pilot, "All checks pass")
        await pilot.press("w")  # stop watching
