"""The built-in editor, driven with Pilot: an exercise's starter edited into its solution, saved with Ctrl+S
and checked; `e` opening it where the app cannot suspend (a browser under `lambdalab serve`); the question
before unsaved text would be lost; a failed save that keeps the text; the safe write itself."""

from __future__ import annotations

import contextlib
import os
import subprocess

import pytest
from conftest import REPO
from textual.app import SuspendNotSupported

from lambdalab.course.progress import ProgressStore, exercise_progress
from lambdalab.grading.exercises import load_catalogue
from lambdalab.grading.workspace import start_workspace, write_file
from lambdalab.tui.app import LambdalabApp
from lambdalab.tui.screens.editor import EditorScreen
from lambdalab.tui.screens.exercises import DEFAULT_WORKSPACE, ExercisesScreen
from lambdalab.tui.screens.unsaved import UnsavedScreen
from lambdalab.tui.widgets import file_editor

EXERCISE = "01-proxy-response"
SOLUTION = REPO / "exercises" / EXERCISE / "solution" / "app.py"
STARTER = REPO / "exercises" / EXERCISE / "starter" / "app.py"


@pytest.fixture
def workspace(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.delenv("EDITOR", raising=False)
    start_workspace(tmp_path / DEFAULT_WORKSPACE, load_catalogue().exercises)
    return tmp_path / DEFAULT_WORKSPACE


def make_app(tmp_path) -> LambdalabApp:
    return LambdalabApp(store=ProgressStore(tmp_path / "home"))


async def open_editor(pilot, key: str = "i") -> EditorScreen:
    await pilot.press("f5")
    await pilot.pause()
    await pilot.press(key)
    await pilot.pause()
    screen = pilot.app.screen
    assert isinstance(screen, EditorScreen)
    return screen


async def wait_for(pilot, selector: str, marker: str) -> str:
    text = ""
    for _ in range(200):
        await pilot.pause(0.05)
        text = str(pilot.app.screen.query_one(selector).render())
        if marker in text:
            return text
    raise AssertionError(f"no {marker!r} in {selector}: {text}")


def tab_label(screen: EditorScreen, index: int = 0) -> str:
    return str(screen.query_one("#editor-files").get_tab(f"file-{index}").label)


async def test_edit_the_starter_into_the_solution_save_and_pass(workspace, tmp_path):
    store_home = tmp_path / "home"
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_editor(pilot)
        editor = screen.current
        assert editor.path == workspace / EXERCISE / "app.py" and editor.text == STARTER.read_text()
        assert tab_label(screen) == "app.py" and "saved" in str(editor.query_one(".file-state").render())

        editor.replace_text(SOLUTION.read_text())
        await pilot.pause()
        assert editor.unsaved and tab_label(screen) == "app.py ●"
        assert "unsaved changes" in str(editor.query_one(".file-state").render())
        assert (workspace / EXERCISE / "app.py").read_text() == STARTER.read_text()  # nothing written yet

        await pilot.press("ctrl+s")
        await wait_for(pilot, "#editor-result", "All checks pass")
        assert (workspace / EXERCISE / "app.py").read_text() == SOLUTION.read_text()
        assert not editor.unsaved and tab_label(screen) == "app.py"
        assert [p.name for p in (workspace / EXERCISE).iterdir() if p.name.startswith(".")] == []  # no temp file left
        done = exercise_progress(ProgressStore(store_home).load(), "proxy-response")
        assert done["passed"] is True and done["attempts"] == 1

        await pilot.press("escape")  # nothing unsaved: closes at once, and the exercise shows the result
        await pilot.pause()
        assert isinstance(app.screen, ExercisesScreen)
        assert "All checks pass" in str(app.screen.query_one("#exercise-results").render())
        await pilot.pause(0.3)
        assert exercise_progress(ProgressStore(store_home).load(), "proxy-response")["attempts"] == 1  # not re-checked


async def test_e_opens_the_built_in_editor_where_the_app_cannot_suspend(workspace, tmp_path, monkeypatch):
    """As under `lambdalab serve`: App.suspend raises SuspendNotSupported, and the session goes on."""
    monkeypatch.setenv("EDITOR", "vi")
    started = []
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: started.append(a))
    app = make_app(tmp_path)

    @contextlib.contextmanager
    def cannot_suspend():
        raise SuspendNotSupported("App.suspend is not supported in this environment.")
        yield

    monkeypatch.setattr(app, "suspend", cannot_suspend)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_editor(pilot, "e")
        assert screen.current.path.name == "app.py" and started == []
        assert app.is_running


async def test_e_without_an_editor_set_opens_the_built_in_editor(workspace, tmp_path):
    async with make_app(tmp_path).run_test(size=(120, 40)) as pilot:
        await open_editor(pilot, "e")


async def test_closing_with_unsaved_changes_asks_first(workspace, tmp_path):
    path = workspace / EXERCISE / "app.py"
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_editor(pilot)
        await pilot.press("end", "#")
        await pilot.pause()
        assert screen.current.unsaved

        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, UnsavedScreen)
        assert "app.py has changes you have not saved" in str(app.screen.query_one("#unsaved-message").render())
        await pilot.press("escape")  # keep editing: the text is still there
        await pilot.pause()
        assert app.screen is screen and screen.current.unsaved and "#" in screen.current.text

        await pilot.press("ctrl+q")  # quitting asks too
        await pilot.pause()
        assert isinstance(app.screen, UnsavedScreen) and app.is_running
        await pilot.press("escape")
        await pilot.pause()

        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("d")  # discard: the file is as it was
        await pilot.pause()
        assert isinstance(app.screen, ExercisesScreen)
        assert path.read_text() == STARTER.read_text()

        screen = await open_editor(pilot, "i")
        await pilot.press("end", "#")
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("s")  # save and close: written, and the exercise screen checks it
        await pilot.pause()
        assert isinstance(app.screen, ExercisesScreen)
        assert path.read_text() != STARTER.read_text() and "#" in path.read_text()
        await wait_for(pilot, "#exercise-results", "not yet")


async def test_a_failed_save_says_so_and_keeps_the_text(workspace, tmp_path, monkeypatch):
    def full_disk(path, text):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(file_editor, "write_file", full_disk)
    app = make_app(tmp_path)
    async with app.run_test(size=(120, 40)) as pilot:
        screen = await open_editor(pilot)
        screen.current.replace_text(SOLUTION.read_text())
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert screen.current.unsaved and screen.current.text == SOLUTION.read_text()
        assert any("No space left on device" in str(n.message) for n in app._notifications)
        assert (workspace / EXERCISE / "app.py").read_text() == STARTER.read_text()


def test_write_file_is_all_or_nothing(tmp_path, monkeypatch):
    path = tmp_path / "app.py"
    path.write_text("old\n")
    path.chmod(0o600)
    write_file(path, "new\r\nline\n")
    assert path.read_bytes() == b"new\r\nline\n" and (path.stat().st_mode & 0o777) == 0o600

    def broken(src, dst):
        raise OSError("rename failed")

    monkeypatch.setattr(os, "replace", broken)
    with pytest.raises(OSError, match="rename failed"):
        write_file(path, "lost?")
    assert path.read_bytes() == b"new\r\nline\n" and sorted(p.name for p in tmp_path.iterdir()) == ["app.py"]


async def test_each_file_of_the_exercise_has_a_tab_and_the_keys_are_in_the_palette(workspace, tmp_path):
    app = make_app(tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        app.action_exercises("client-outside-handler")
        await pilot.pause()
        await pilot.press("i")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, EditorScreen)
        assert [e.path.name for e in screen.editors] == ["app.py", "clients.py"]
        assert screen.current.path.name == "app.py"
        await pilot.press("ctrl+o")
        await pilot.pause()
        assert screen.current.path.name == "clients.py" and screen.focused is screen.current.text_area
        await pilot.press("x")
        await pilot.pause()
        assert tab_label(screen, 1) == "clients.py ●" and tab_label(screen, 0) == "app.py"

        titles = [c.title for c in app.get_system_commands(screen)]
        assert {"Save and check", "Next file", "Edit app.py", "Edit clients.py", "Close the editor"} <= set(titles)

        await pilot.press("f2")  # the course map would close the editor: it asks first
        await pilot.pause()
        assert isinstance(app.screen, UnsavedScreen)
        assert "clients.py has changes" in str(app.screen.query_one("#unsaved-message").render())
        await pilot.press("d")
        await pilot.pause()
        assert not any(isinstance(s, EditorScreen) for s in app.screen_stack)
