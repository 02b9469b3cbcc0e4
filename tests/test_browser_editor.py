"""Editing an exercise in a browser: `lambdalab serve` in headless Chromium, where the app cannot suspend.

The page asks for a name first (the room's form: `Ada` is learner `ada`, with a workspace of her own under the
server's --data). `e` on the exercise screen would hand the terminal to $EDITOR; in a browser `App.suspend`
raises SuspendNotSupported, and the built-in editor opens instead of the session ending. The starter is typed
into the solution, Ctrl+S saves it and the check passes; Escape goes back to the exercise, the session still on.
"""

from __future__ import annotations

import os

from conftest import REPO
from test_browser import app_in_browser

EXERCISE = "01-proxy-response"
SOLUTION = REPO / "exercises" / EXERCISE / "solution" / "app.py"


async def test_edit_and_pass_an_exercise_in_a_browser(tmp_path, monkeypatch):
    workspace = tmp_path / "data" / "learners" / "ada" / "lambdalab-exercises"  # made by the server as she joins
    monkeypatch.setenv("EDITOR", "vi")  # set, as on many machines: the browser still gets the built-in editor
    monkeypatch.delenv("VISUAL", raising=False)
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(REPO), os.environ.get("PYTHONPATH")])))

    async with app_in_browser(tmp_path, name_in_form=True) as (page, session):
        await session.press("F5", r"Exercises")
        await session.press("e", r"Editing 01")  # the built-in editor, not the end of the session
        for _ in range(10):  # select the whole starter, and type the solution over it
            await page.keyboard.press("Shift+ArrowDown")
        await page.keyboard.press("Shift+End")
        await page.keyboard.press("Backspace")
        await session.settle()  # the starter is gone from the screen before the first key of the solution
        lines = SOLUTION.read_text().rstrip("\n").split("\n")
        for number, line in enumerate(lines):
            await page.keyboard.type(line, delay=5)  # a key at a time, as a person types: none lost on a busy machine
            if number < len(lines) - 1:
                await page.keyboard.press("Enter")
        await session.wait_for(r"unsaved changes", 0)
        await session.settle()
        await session.press("Control+s", r"All checks pass", timeout=30)
        await session.screenshot("editor-passed")
        await session.press("Escape", r"Press c to check|All checks pass")
        await session.press("F1", r"lambdalab help")  # the session goes on

    assert (workspace / EXERCISE / "app.py").read_text().rstrip("\n") == SOLUTION.read_text().rstrip("\n")
    log = (tmp_path / "serve.log").read_text()
    assert "SuspendNotSupported" not in log and "Traceback" not in log, log
