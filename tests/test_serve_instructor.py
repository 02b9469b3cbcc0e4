"""The instructor's live view of a `lambdalab serve` room (issue 19, item 5), as an instructor uses it: a page
with a token of its own, showing who is connected, where each learner is, and the check they are stuck on, as
learners work in their browsers (driven through the websocket protocol, as in test_serve_room.py)."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import aiohttp
from conftest import run_cli
from test_serve import TOKEN, screen_text, serving, ws_url
from test_serve_room import CTRL_S, ENTER, EXERCISE, F5, LESSON, browser, http_status

from lambdalab.grading.grader import grade_exercise

TEACHER = "teacher-token-42"


def room(port: int, token: str = TEACHER) -> dict:
    status, text = http_status(f"http://127.0.0.1:{port}/instructor.json?token={token}")
    assert status == 200, text
    return json.loads(text)


def test_the_instructor_page_needs_its_own_token(tmp_path):
    with serving("--instructor-token", TEACHER, data=tmp_path) as (_server, port, _marker):
        base = f"http://127.0.0.1:{port}"
        for url in (f"{base}/instructor", f"{base}/instructor?token={TOKEN}", f"{base}/instructor.json?token=x"):
            status, text = http_status(url)
            assert status == 403 and "instructor" in text, url  # a learner's join token does not open it
        status, page = http_status(f"{base}/instructor?token={TEACHER}")
        assert status == 200 and "Nobody has joined yet" in page and 'http-equiv="refresh"' in page
        assert room(port)["learners"] == []


def test_the_instructor_watches_learners_read_and_get_stuck_live(tmp_path):
    starter_fails_first = grade_exercise(EXERCISE, EXERCISE.folder / "starter").stuck_on
    with serving("--instructor-token", TEACHER, data=tmp_path) as (_server, port, _marker):

        async def workshop() -> None:
            async with aiohttp.ClientSession() as client:
                async with browser(client, port, "ada") as ada, browser(client, port, "bob") as bob:
                    await ada.press(ENTER, rf"step 1 of {len(LESSON.steps)}")
                    await bob.press(F5, "Press c to check")
                    await bob.press("i", rf"Editing {EXERCISE.number:02d}")
                    await bob.press("# bob was here" + ENTER, "unsaved")
                    await bob.press(CTRL_S, r"not yet|passed")
                    now = await asyncio.to_thread(room, port)
                    by_name = {row["name"]: row for row in now["learners"]}
                    assert now["connected"] == 2 and by_name["ada"]["connected"] and by_name["bob"]["connected"]
                    assert by_name["ada"]["lesson"] == f"{LESSON.number}. {LESSON.title}"
                    assert by_name["ada"]["step"] == LESSON.steps[0].title
                    assert by_name["bob"]["stuck"] == [
                        {"exercise": EXERCISE.id, "check": starter_fails_first, "attempts": 1}
                    ]
                    rate = next(r for r in now["exercises"] if r["id"] == EXERCISE.id)
                    assert (rate["attempted"], rate["passed"]) == (1, 0)
                    _, page = await asyncio.to_thread(
                        http_status, f"http://127.0.0.1:{port}/instructor?token={TEACHER}"
                    )
                    assert page.count("● connected") == 2 and LESSON.steps[0].title in page
            # The pages closed: the room empties within moments (the sessions quit).
            deadline = time.monotonic() + 20
            while (await asyncio.to_thread(room, port))["connected"] and time.monotonic() < deadline:
                await asyncio.sleep(0.2)
            assert (await asyncio.to_thread(room, port))["connected"] == 0

        asyncio.run(workshop())


def test_one_token_for_learners_and_instructor_is_refused(tmp_path):
    result = run_cli("serve", "--token", "same-token-1", "--instructor-token", "same-token-1", "--data", str(tmp_path))
    assert result.returncode == 2 and "--instructor-token must differ from --token" in result.stderr


def test_tokens_from_the_environment_stay_out_of_the_process_list_and_of_every_session(tmp_path):
    """A command line is readable by every process on the machine, learners' code included (it read an
    --instructor-token from /proc): the tokens may come from the environment instead, which no session inherits."""
    from test_serve import _below, _preloaded

    environment = {"LAMBDALAB_INSTRUCTOR_TOKEN": "teach-env-123"}
    with serving(data=tmp_path, environment=environment) as (server, port, _marker):

        async def one_learner() -> None:
            async with aiohttp.ClientSession() as client, browser(client, port, "ada"):
                assert await asyncio.to_thread(room, port, "teach-env-123")
                [zygote] = _preloaded(server.pid)
                for pid in [server.pid, zygote, *_below(zygote)]:
                    assert b"teach-env-123" not in Path(f"/proc/{pid}/cmdline").read_bytes()
                for pid in [zygote, *_below(zygote)]:  # the preloaded process and ada's session
                    assert b"LAMBDALAB_INSTRUCTOR_TOKEN" not in Path(f"/proc/{pid}/environ").read_bytes()

        asyncio.run(one_learner())


def test_the_servers_request_log_shows_no_token(tmp_path):
    """The instructor's page reloads every few seconds, and the server's terminal is often on the projector:
    its request lines say which page, for whom, and never a token. Only the startup lines give the URLs."""
    with serving("--instructor-token", TEACHER, data=tmp_path) as (server, port, _marker):
        room(port)
        assert http_status(f"http://127.0.0.1:{port}/?token={TOKEN}&learner=ada")[0] == 200
        assert "Course map" in asyncio.run(screen_text(ws_url(port, "ada")))
        deadline = time.monotonic() + 30
        while "/ws/…/ada" not in "".join(server.output) and time.monotonic() < deadline:  # logged as it ends
            time.sleep(0.1)
        printed = "".join(server.output)
    assert "/instructor.json?token=…" in printed and "/?token=…&learner=ada" in printed and "/ws/…/ada" in printed
    assert printed.count(TEACHER) == 1  # the instructor URL, printed once at the start
    assert TOKEN not in printed  # the join URL is the first line, before `output`
