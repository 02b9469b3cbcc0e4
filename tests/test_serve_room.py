"""`lambdalab serve` as a room (issue 19, items 1 and 3): each learner's own progress and files under a name,
resumed on reconnect and after a restart; the join token; the cap on learners. Driven through the websocket
protocol textual-serve speaks (binary frames from the app; ["stdin", keys] text frames to it), as a browser
page would."""

from __future__ import annotations

import asyncio
import codecs
import contextlib
import json
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import aiohttp
import pytest
from course_helpers import quiz_keys
from test_serve import TOKEN, _below, _preloaded, serving, ws_url

from lambdalab.course.loader import load_course
from lambdalab.grading.exercises import load_catalogue

ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|P[^\x1b]*\x1b\\|[@-Z\\-_])")
F5, ENTER, CTRL_S = "\x1b[15~", "\r", "\x13"  # what xterm.js sends for these keys
EXERCISE = load_catalogue().exercises[0]
LESSON = load_course().lessons[0]
LINUX = pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads processes from /proc (Linux)")


class Browser:
    """One learner's page: what the app drew (as text), and keys sent to it."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse | None, learner: str = "") -> None:
        self.ws, self.text, self.learner = ws, "", learner
        self._decode = codecs.getincrementaldecoder("utf-8")("replace").decode
        self.seen: list[str] = []  # each pattern waited for, with the seconds it took
        self.waiting = ("", 0.0)  # the pattern waited for now, since when

    def where(self) -> str:
        """Where this page is, for a room that does not finish: what it saw, what it waits for, what it shows."""
        pattern, since = self.waiting
        waited = f"waiting {time.monotonic() - since:.0f} s for {pattern!r}" if pattern else "not waiting"
        return f"{self.learner}: saw {self.seen}, {waited}; last showed {self.text[-300:]!r}"

    async def until(self, pattern: str, timeout: float = 60.0) -> re.Match:
        self.waiting = (pattern, time.monotonic())
        deadline = time.monotonic() + timeout
        while not (found := re.search(pattern, self.text)):
            if time.monotonic() > deadline:  # a session that keeps drawing (a blinking cursor) never falls silent
                raise AssertionError(f"no {pattern!r} within {timeout} s; the session last showed {self.text[-600:]!r}")
            message = await self.ws.receive(timeout=max(0.01, deadline - time.monotonic()))
            if message.type == aiohttp.WSMsgType.BINARY:
                self.text += ESCAPES.sub("", self._decode(message.data))
            elif message.type != aiohttp.WSMsgType.TEXT:
                raise AssertionError(f"the session closed before {pattern!r}; it last showed {self.text[-300:]!r}")
        self.seen.append(f"{pattern} ({time.monotonic() - self.waiting[1]:.1f} s)")
        self.waiting = ("", 0.0)
        return found

    async def press(self, keys: str, then: str, timeout: float = 60.0) -> re.Match:
        self.text = ""
        await self.ws.send_str(json.dumps(["stdin", keys]))
        return await self.until(then, timeout)


@contextlib.asynccontextmanager
async def browser(client: aiohttp.ClientSession, port: int, learner: str, pages: list[Browser] | None = None):
    page = Browser(None, learner)
    if pages is not None:
        pages.append(page)
    page.waiting = ("the websocket to open", time.monotonic())
    async with client.ws_connect(ws_url(port, learner)) as ws:
        page.ws = ws
        await page.until("Course map")
        await page.until(f"lambdalab: {learner.lower()}")  # the header says whose session this is
        yield page


def run_room(room, pages: list[Browser], budget_s: float = 150.0) -> None:
    """asyncio.run(room()) within a budget below pytest's timeout, so that a room that does not finish says
    where each learner's page was, not only that the test ran out of time."""
    try:
        asyncio.run(asyncio.wait_for(room(), budget_s))
    except TimeoutError:
        raise AssertionError(f"the room took over {budget_s:g} s: " + " | ".join(p.where() for p in pages)) from None


def progress(data: Path, learner: str) -> dict:
    path = data / "learners" / learner / "progress.json"
    return json.loads(path.read_text()) if path.exists() else {"lessons": {}, "exercises": {}}


def workspace_file(data: Path, learner: str) -> Path:
    return data / "learners" / learner / "lambdalab-exercises" / EXERCISE.folder.name / EXERCISE.starter[0]


def http_status(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


async def refused(port: int, learner: str, token: str = TOKEN) -> int:
    """The HTTP status a websocket to the room is refused with (0 if it was let in)."""
    async with aiohttp.ClientSession() as client:
        try:
            async with client.ws_connect(ws_url(port, learner, token)):
                return 0
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


def test_two_learners_each_see_only_their_own_progress_and_files(tmp_path):
    """Ada reads lesson 1's first page while Bob, at the same time, edits exercise 1 in the app and saves (which
    checks it): each one's progress.json and workspace hold what they did, and nothing of the other's."""
    starter = EXERCISE.starter_path(EXERCISE.starter[0]).read_text()
    pages: list[Browser] = []
    with serving(data=tmp_path) as (_server, port, _marker):

        async def ada(client: aiohttp.ClientSession) -> None:
            async with browser(client, port, "ada", pages) as page:
                await page.press(ENTER, rf"step 1 of {len(LESSON.steps)}")
                await page.press(F5, "Press c to check")

        async def bob(client: aiohttp.ClientSession) -> None:
            async with browser(client, port, "bob", pages) as page:
                await page.press(F5, "Press c to check")
                await page.press("i", rf"Editing {EXERCISE.number:02d}")
                await page.press("# bob was here" + ENTER, "unsaved")
                await page.press(CTRL_S, r"not yet|passed")

        async def room() -> None:
            async with aiohttp.ClientSession() as client:
                await asyncio.gather(ada(client), bob(client))

        run_room(room, pages)

    ada_progress, bob_progress = progress(tmp_path, "ada"), progress(tmp_path, "bob")
    assert LESSON.steps[0].id in ada_progress["lessons"][LESSON.id]["read"]
    assert not ada_progress.get("exercises")
    assert bob_progress["exercises"][EXERCISE.id]["attempts"] == 1
    assert not bob_progress.get("lessons")
    assert workspace_file(tmp_path, "bob").read_text().startswith("# bob was here\n")
    assert workspace_file(tmp_path, "ada").read_text() == starter
    assert sorted(p.name for p in (tmp_path / "learners").iterdir()) == ["ada", "bob"]


def test_a_learner_who_comes_back_resumes_after_a_reconnect_and_a_restart(tmp_path):
    """The same name, in any case, finds the same progress: on a new connection, in a second window (which
    takes the session over: one app per learner), and from a new server on the same --data."""
    pages = len(LESSON.pages)
    with serving(data=tmp_path) as (server, port, _marker):

        async def first_visit() -> None:
            async with aiohttp.ClientSession() as client:
                async with browser(client, port, "ada") as page:
                    await page.press(ENTER, rf"step 1 of {len(LESSON.steps)}")
                async with browser(client, port, "Ada") as page:  # reconnect: the course map shows the page read
                    await page.until(rf"1/{pages} pages read")
                    async with browser(client, port, "ada") as second:  # a second window takes over
                        await second.until(rf"1/{pages} pages read")
                        with pytest.raises(AssertionError, match="the session closed"):
                            await page.until("never shown", timeout=20)
                        assert len(_below(_preloaded(server.pid)[0])) == 1  # one app for ada, not two

        asyncio.run(first_visit())

    with serving(data=tmp_path) as (_server, port, _marker):

        async def after_restart() -> None:
            async with aiohttp.ClientSession() as client, browser(client, port, "ada") as page:
                await page.until(rf"1/{pages} pages read")

        asyncio.run(after_restart())


def test_the_room_refuses_anyone_without_its_token_and_bad_names(tmp_path):
    with serving(data=tmp_path) as (_server, port, _marker):
        base = f"http://127.0.0.1:{port}"
        for url in (f"{base}/", f"{base}/?token=wrong-token", f"{base}/ws", f"{base}/ws/wrong-token/ada"):
            status, text = http_status(url)
            assert status == 403, url
            assert text.count("\n") == 1 and "join token" in text
        assert asyncio.run(refused(port, "ada", token="wrong-token")) == 403
        # The token and no name: a form that asks for one; a bad name: the form again, saying why.
        status, page = http_status(f"{base}/?token={TOKEN}")
        assert status == 200 and 'name="learner"' in page
        status, page = http_status(f"{base}/?token={TOKEN}&learner=ada%20lovelace")
        assert status == 400 and "use letters, digits, - and _ such as &#x27;ada-lovelace&#x27;" in page
        for name in ("..", "a%2Fb", "x" * 33, "con", "%3Cb%3E"):
            assert asyncio.run(refused(port, name)) in (400, 404), name
            status, page = http_status(f"{base}/?token={TOKEN}&learner={name}")
            assert status == 400 and "<b>" not in page, name
        status, page = http_status(f"{base}/?token={TOKEN}&learner=ada")
        assert status == 200 and f"/ws/{TOKEN}/ada" in page
    assert not (tmp_path / "learners").exists() or not list((tmp_path / "learners").iterdir())


def test_learners_beyond_max_learners_are_told_the_room_is_full(tmp_path):
    with serving("--max-learners", "2", data=tmp_path) as (_server, port, _marker):

        async def room() -> None:
            async with aiohttp.ClientSession() as client:
                async with browser(client, port, "ada"), browser(client, port, "bob"):
                    assert await refused(port, "carol") == 503
                    status, text = http_status(f"http://127.0.0.1:{port}/?token={TOKEN}&learner=carol")
                    assert status == 503 and "room is full: 2 learners" in text
                    async with browser(client, port, "ada"):  # ada coming back takes her own seat
                        pass
                # Seats free again once their sessions have ended (the app quits a moment after the page closes).
                carol = f"http://127.0.0.1:{port}/?token={TOKEN}&learner=carol"
                deadline = time.monotonic() + 15
                while http_status(carol)[0] == 503 and time.monotonic() < deadline:
                    await asyncio.sleep(0.1)
                async with browser(client, port, "carol"):
                    pass

        asyncio.run(room())


F7, PASTE_START, PASTE_END = "\x1b[18~", "\x1b[200~", "\x1b[201~"  # F7 selects all in the editor; a browser's paste
QUIZ = LESSON.quizzes[0]
KEYS = {"enter": ENTER}  # quiz_keys names keys as Pilot does; a browser's terminal sends these


async def take_the_quiz(page: Browser) -> None:
    """From the course map: open lesson 1, step to its quiz, and answer every question right."""
    await page.press(ENTER, rf"step 1 of {len(LESSON.steps)}")
    for number in range(2, LESSON.steps.index(QUIZ) + 2):
        await page.press("n", rf"step {number} of {len(LESSON.steps)}")
    for number, question in enumerate(QUIZ.questions, 1):
        keys = "".join(KEYS.get(key, key) for key in quiz_keys(question, LESSON, right=True))
        # All of a question's keys in one message, as a busy server's session reads them: Enter comes last.
        verdict = await page.press(keys, r"CORRECT|NOT QUITE")
        assert verdict.group(0) == "CORRECT", question.id
        last = number == len(QUIZ.questions)
        await page.press(ENTER, r"Passed: \d+/\d+" if last else rf"Question {number + 1} of")


async def pass_the_exercise(page: Browser) -> None:
    """Open the exercises, the built-in editor, paste the solution over the starter, save: the check passes."""
    solution = EXERCISE.solution_path(EXERCISE.starter[0]).read_text()
    starter = EXERCISE.starter_path(EXERCISE.starter[0]).read_text()
    await page.press(F5, "Press c to check")
    await page.press("i", rf"Editing {EXERCISE.number:02d}")
    await page.press(F7, rf"Ln {starter.count(chr(10)) + 1}, Col")  # all selected: the cursor at the end
    await page.press(PASTE_START + solution + PASTE_END, "●")  # the file's unsaved mark
    await page.press(CTRL_S, r"All checks pass", timeout=120)


@LINUX
@pytest.mark.parametrize("learners", [2, 20])
def test_learners_at_once_each_answer_a_quiz_and_pass_an_exercise_in_their_own_folder(tmp_path, learners):
    """A room at once (two, and twenty on this 2-core machine): each learner answers lesson 1's quiz and passes
    exercise 1 in the app's editor; each one's progress and files hold their own work, and one process each."""
    names = [f"learner-{n:02d}" for n in range(1, learners + 1)]
    solution = EXERCISE.solution_path(EXERCISE.starter[0]).read_text()
    with serving(data=tmp_path) as (server, port, _marker):

        async def learner(page: Browser) -> None:
            await take_the_quiz(page)
            await pass_the_exercise(page)

        async def room() -> None:
            async with contextlib.AsyncExitStack() as stack:
                client = await stack.enter_async_context(aiohttp.ClientSession())
                pages = await asyncio.gather(*(stack.enter_async_context(browser(client, port, n)) for n in names))
                assert len(_below(_preloaded(server.pid)[0])) == learners
                await asyncio.gather(*(learner(page) for page in pages))

        asyncio.run(room())
    for name in names:
        done = progress(tmp_path, name)
        quiz = done["lessons"][LESSON.id]["quizzes"][QUIZ.id]
        assert quiz["passed"] and quiz["best"] == len(QUIZ.questions) == quiz["total"], name
        assert done["exercises"][EXERCISE.id]["passed"] and done["exercises"][EXERCISE.id]["attempts"] == 1, name
        assert workspace_file(tmp_path, name).read_text() == solution
    assert sorted(p.name for p in (tmp_path / "learners").iterdir()) == names
