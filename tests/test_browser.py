"""`lambdalab serve` in a real browser: the system's Chromium, headless, driven by Playwright.

The page is opened (that starts the app), the course map checked, lesson 1's demo opened in the simulator
and played, and the screenshots checked pixel by pixel against the same app drawn headless at the same size
(its "twin"): the course map's text is drawn where Textual put it, on the background Textual gave each cell,
and the chart and timeline show the theme's background, with no cell left black (cells a widget left
unstyled came out black in xterm.js, not in a terminal). The screenshots are kept in the test's tmp_path.
"""

from __future__ import annotations

import base64
import codecs
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import REPO
from playwright.async_api import Page, async_playwright
from rich.cells import cell_len
from textual.color import Color

from lambdalab import content
from lambdalab.course.loader import load_course
from lambdalab.course.model import DemoStep
from lambdalab.course.progress import ProgressStore
from lambdalab.tui.app import LambdalabApp

VIEWPORT = {"width": 1280, "height": 800}  # 142x44 cells with Debian's DejaVu Sans Mono
INSTALL_HINT = (
    "the browser test needs Chromium, and `chromium` is not on PATH: install it with "
    "`sudo apt-get install chromium` on Debian (`.ci/run` does it when it is missing), or set CHROMIUM "
    "to a Chromium or Chrome executable"
)
ESCAPES = re.compile(r"\x1b(?:\[[0-?]*[ -/]*[@-~]|\][^\x07\x1b]*(?:\x07|\x1b\\)|P[^\x1b]*\x1b\\|[@-Z\\-_])")
INK = 60  # a pixel this far (summed over R, G, B) from its cell's background is ink
SAME = 8  # two colours this close are the same (the browser may round)


def distance(a: tuple[int, int, int], b: tuple[int, int, int]) -> int:
    return sum(abs(x - y) for x, y in zip(a, b))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- the screenshots' pixels ---------------------------------------------------------------------------

DECODE = """async (png) => {
  const bitmap = await createImageBitmap(await (await fetch("data:image/png;base64," + png)).blob());
  const canvas = new OffscreenCanvas(bitmap.width, bitmap.height);
  const context = canvas.getContext("2d", {willReadFrequently: true});
  context.drawImage(bitmap, 0, 0);
  const rgba = context.getImageData(0, 0, bitmap.width, bitmap.height).data;
  let text = "";
  for (let i = 0; i < rgba.length; i += 0x8000) text += String.fromCharCode.apply(null, rgba.subarray(i, i + 0x8000));
  return [bitmap.width, bitmap.height, btoa(text)];
}"""


@dataclass
class Picture:
    """A screenshot's pixels, decoded by the browser itself (no imaging library needed)."""

    width: int
    height: int
    rgba: bytes

    def pixels(self, left: int, top: int, right: int, bottom: int):
        for y in range(top, bottom):
            row = (y * self.width + left) * 4
            for i in range(row, row + (right - left) * 4, 4):
                yield self.rgba[i], self.rgba[i + 1], self.rgba[i + 2]


@dataclass
class Grid:
    """Where the terminal's cells are on the page."""

    left: float
    top: float
    cell_width: float
    cell_height: float
    columns: int
    rows: int

    def box(self, x: int, y: int, width: int = 1, height: int = 1) -> tuple[int, int, int, int]:
        return (
            round(self.left + x * self.cell_width),
            round(self.top + y * self.cell_height),
            round(self.left + (x + width) * self.cell_width),
            round(self.top + (y + height) * self.cell_height),
        )


TOKEN = "browser-test-token"


@contextmanager
def serving(folder: Path, cwd: Path = REPO):
    """`lambdalab serve` on a free port, run in `cwd`, its learners' data in folder/data and its output in
    folder/serve.log; yields the join URL (with the token, without a learner's name); stopped with every app it
    started."""
    port = free_port()
    log = (folder / "serve.log").open("w")
    # Its own process group: the app processes textual-serve starts are stopped with it, whatever happens.
    server = subprocess.Popen(
        [sys.executable, "-m", "lambdalab", "serve", "--host", "127.0.0.1", "--port", str(port), "--token", TOKEN]
        + ["--data", str(folder / "data")],
        cwd=cwd,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/?token={TOKEN}", timeout=1).close()
                break
            except OSError:
                assert server.poll() is None, f"`lambdalab serve` stopped: {(folder / 'serve.log').read_text()}"
                assert time.monotonic() < deadline, "`lambdalab serve` did not answer in 20 s"
                time.sleep(0.1)
        yield f"http://127.0.0.1:{port}/?token={TOKEN}"
    finally:
        server.terminate()  # textual-serve stops its apps, as on Ctrl+C
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass
        try:
            os.killpg(server.pid, signal.SIGKILL)  # whatever of its process group is still there
        except ProcessLookupError:
            pass
        server.wait(timeout=10)
        log.close()


# --- the browser session -------------------------------------------------------------------------------


class Session:
    """One page on the app, with everything the app sent it as text (escape sequences removed)."""

    def __init__(self, page: Page, decoder: Page, folder: Path):
        self.page, self.decoder, self.folder = page, decoder, folder
        self.received: list[str] = []
        self.last_frame = time.monotonic()
        self.sizes: list[tuple[int, int]] = []
        self._utf8 = codecs.getincrementaldecoder("utf-8")("replace")
        page.on("websocket", self._watch)

    def _watch(self, ws) -> None:
        ws.on("framereceived", self._received)
        ws.on("framesent", self._sent)

    def _received(self, payload) -> None:
        self.received.append(self._utf8.decode(payload) if isinstance(payload, bytes) else payload)
        self.last_frame = time.monotonic()

    def _sent(self, payload) -> None:
        if isinstance(payload, str) and payload.startswith('["resize"'):
            size = re.search(r'"width":\s*(\d+),\s*"height":\s*(\d+)', payload)
            self.sizes.append((int(size[1]), int(size[2])))

    def mark(self) -> int:
        return len(self.received)

    def text(self, since: int = 0) -> str:
        return ESCAPES.sub("", "".join(self.received[since:]))

    async def wait_for(self, pattern: str, since: int, timeout: float = 10.0) -> re.Match:
        deadline = time.monotonic() + timeout
        while not (found := re.search(pattern, self.text(since))):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"the page never showed {pattern!r} in {timeout:g} s; it last received: {self.text(since)[-400:]!r}"
                )
            await self.page.wait_for_timeout(50)
        return found

    async def press(self, key: str, then: str, timeout: float = 10.0) -> re.Match:
        """A key, and what the app shows when it took it (so the next key goes to the right screen)."""
        since = self.mark()
        await self.page.keyboard.press(key)
        return await self.wait_for(then, since, timeout)

    async def focus(self, timeout: float = 10.0) -> None:
        """Keys go to the terminal (a click would reach the app too). Until then the app draws itself unfocused."""
        since = self.mark()
        await self.page.focus(".xterm-helper-textarea")
        deadline = time.monotonic() + timeout
        while self.mark() == since:  # the page says "focus", the app redraws its focused widget
            assert time.monotonic() < deadline, f"the app did not redraw in {timeout:g} s when the page got focus"
            await self.page.wait_for_timeout(50)
        await self.settle()

    async def settle(self, quiet: float = 0.4, timeout: float = 3.0) -> None:
        """Until the app stops sending (a playing simulator never does: then the timeout), and xterm.js drew it."""
        deadline = time.monotonic() + timeout
        while time.monotonic() - self.last_frame < quiet and time.monotonic() < deadline:
            await self.page.wait_for_timeout(50)
        await self.page.evaluate("new Promise(done => requestAnimationFrame(() => requestAnimationFrame(done)))")

    async def screenshot(self, name: str) -> Picture:
        path = self.folder / f"{name}.png"
        png = await self.page.screenshot(path=str(path))
        width, height, rgba = await self.decoder.evaluate(DECODE, base64.b64encode(png).decode())
        return Picture(width, height, base64.b64decode(rgba))

    async def grid(self) -> Grid:
        assert self.sizes, "the page never told the app its size"
        columns, rows = self.sizes[-1]
        box = await self.page.locator(".xterm-screen").bounding_box()
        assert box, "no terminal on the page"
        return Grid(box["x"], box["y"], box["width"] / columns, box["height"] / rows, columns, rows)


# --- the same app, headless: what the page should show -------------------------------------------------


@dataclass
class Cell:
    char: str
    color: tuple[int, int, int] | None
    background: tuple[int, int, int] | None

    @property
    def ink(self) -> bool | None:
        """Whether the cell shows a glyph: None when its colours are not known."""
        if self.color is None or self.background is None:
            return None
        return bool(self.char.strip()) and distance(self.color, self.background) > INK


@dataclass
class Twin:
    course_map: list[list[Cell]]
    regions: dict[str, tuple[int, int, int, int]]  # the simulator's chart and timeline, in cells
    background: tuple[int, int, int]  # what the theme gives the chart and timeline
    bar: tuple[int, int, int]  # the chart's columns


def triplet(color) -> tuple[int, int, int] | None:
    return None if color is None or color.triplet is None else tuple(color.triplet)


def screen_cells(app: LambdalabApp) -> list[list[Cell]]:
    rows = []
    # The compositor's lines (Textual is pinned exactly, so its private name holds).
    for strip in app.screen._compositor.render_strips():
        row = []
        for segment in strip:
            style = segment.style
            for char in segment.text:
                cell = Cell(char, triplet(style.color) if style else None, triplet(style.bgcolor) if style else None)
                row += [cell] * cell_len(char)
        rows.append(row)
    return rows


async def draw_twin(columns: int, rows: int, demo: DemoStep, progress: Path, learner: str) -> Twin:
    os.environ["LAMBDALAB_LEARNER"] = learner  # as `lambdalab serve` sets it: the header names the learner
    try:
        app = LambdalabApp(store=ProgressStore(progress))
    finally:
        del os.environ["LAMBDALAB_LEARNER"]
    async with app.run_test(size=(columns, rows)) as pilot:
        await pilot.pause()
        course_map = screen_cells(app)
        app.open_simulator(
            content.shipped_scenarios()[demo.scenario], autoplay=False, watch=demo.watch, tries=demo.try_
        )
        await pilot.pause()
        regions = {}
        for name in ("chart", "timeline"):
            region = app.screen.query_one(f"#{name}").content_region
            regions[name] = (region.x, region.y, region.width, region.height)
        chart = app.screen.query_one("#chart")
        background = triplet(chart.rich_style.bgcolor)
        assert background == Color.parse(app.current_theme.background).rgb, "the chart's background is not the theme's"
        assert triplet(app.screen.query_one("#timeline").rich_style.bgcolor) == background
        bar = triplet(chart.get_component_rich_style("chart--bar").color)
        return Twin(course_map, regions, background, bar)


# --- what the pixels must show -------------------------------------------------------------------------


def check_course_map(picture: Picture, grid: Grid, expected: list[list[Cell]]) -> None:
    """Every cell's background as Textual drew it, and a glyph in it exactly where Textual put text."""
    assert (len(expected), len(expected[0])) == (grid.rows, grid.columns)
    wrong_background, missing, extra, inked = [], [], [], 0
    for y, row in enumerate(expected):
        for x, cell in enumerate(row):
            if cell.ink is None:
                continue
            left, top, right, bottom = grid.box(x, y)
            background = Counter(picture.pixels(left, top, right, bottom)).most_common(1)[0][0]
            # A blank cell's outer columns of pixels do not count: a neighbour's glyph may reach one pixel into
            # them. A glyph's do: "▏" is one pixel wide, at the cell's left edge.
            inset = 0 if cell.ink else 1
            ink = sum(
                distance(colour, background) > INK
                for colour in picture.pixels(left + inset, top, right - inset, bottom)
            )
            if not cell.ink and distance(background, cell.background) > SAME:
                wrong_background.append((x, y, background, cell.background))
            if cell.ink:
                inked += 1
                if not ink:
                    missing.append((x, y))
            elif ink:
                extra.append((x, y))

    def rows_of(cells) -> str:
        return "\n".join(
            f"  row {y}: {''.join(c.char for c in expected[y]).rstrip()!r}"
            for y in sorted({y for _, y, *_ in cells})[:8]
        )

    assert inked > 200, "the course map has almost no text"
    assert not wrong_background, (
        f"{len(wrong_background)} cells of the course map have another background than "
        f"Textual gave them, e.g. (x, y, drawn, expected) {wrong_background[:5]}, in:\n"
        f"{rows_of(wrong_background)}"
    )
    assert not missing, (
        f"{len(missing)} cells of the course map lost their text, e.g. {missing[:10]}, in:\n{rows_of(missing)}"
    )
    assert not extra, f"{len(extra)} cells of the course map show a glyph where Textual put none, e.g. {extra[:10]}"


def check_region(
    picture: Picture, grid: Grid, name: str, region: tuple[int, int, int, int], background: tuple[int, int, int]
) -> Counter:
    """The region shows the theme's background, and nothing darker (a black block)."""
    left, top, right, bottom = grid.box(*region)
    counts = Counter(picture.pixels(left, top, right, bottom))
    darker = {colour: n for colour, n in counts.items() if all(c < b - SAME for c, b in zip(colour, background))}
    assert not darker, (
        f"black blocks: the {name} (pixels {left},{top} to {right},{bottom}) has {sum(darker.values())} "
        f"pixels darker than the theme's background {background}: {Counter(darker).most_common(3)}"
    )
    drawn = counts.most_common(1)[0][0]
    assert distance(drawn, background) <= SAME, f"the {name}'s background is {drawn}, not the theme's {background}"
    return counts


# --- the test ------------------------------------------------------------------------------------------


@asynccontextmanager
async def app_in_browser(folder: Path, name_in_form: bool = False) -> AsyncIterator[tuple[Page, Session]]:
    """`lambdalab serve` (its log, screenshots and learners' data in `folder`), and the app open in headless
    Chromium on the course map as learner ada (named in the URL, or typed in the join form), with the keyboard's
    focus."""
    chromium = os.environ.get("CHROMIUM") or shutil.which("chromium")
    if not chromium:
        pytest.fail(INSTALL_HINT, pytrace=False)
    with serving(folder) as url:
        async with async_playwright() as playwright:
            # Playwright starts Chromium with --no-sandbox (it needs that as root, as in CI containers).
            browser = await playwright.chromium.launch(executable_path=chromium, timeout=20_000)
            try:
                page = await browser.new_page(viewport=VIEWPORT)
                page.set_default_timeout(15_000)
                # Offline and the same everywhere: the page's web fonts (Google's) are refused, the system's used.
                await page.route(re.compile(r"^https?://(?!127\.0\.0\.1[:/])"), lambda route: route.abort())
                session = Session(page, await browser.new_page(), folder)
                if name_in_form:  # the join URL: a form asks for a name
                    await page.goto(url)
                    await page.fill("#learner", "Ada")
                    await page.click("button[type=submit]")
                else:  # opening the page with a name starts the app (textual-serve's Start button waits for ?delay)
                    await page.goto(f"{url}&learner=ada")
                await page.wait_for_selector("body.-first-byte")
                await session.wait_for(r"Course map", 0, timeout=15)
                await session.focus()
                yield page, session
            finally:
                await browser.close()


async def test_the_app_in_a_browser(tmp_path):
    lesson = load_course().lessons[0]  # its demo: opened paused, Space plays it
    demo = next(i for i, step in enumerate(lesson.steps) if isinstance(step, DemoStep))

    async with app_in_browser(tmp_path) as (_, session):
        grid = await session.grid()
        course_map = await session.screenshot("1-course-map")

        await session.press("Enter", rf"step 1 of {len(lesson.steps)}")
        for step in range(2, demo + 2):
            await session.press("n", rf"step {step} of")
        await session.press("o", r"paused: Space plays")
        await session.settle()
        paused = await session.screenshot("2-simulator-paused")
        await session.press("Space", r"playing at")
        # Two virtual seconds played: the first request is busy, the chart has columns.
        await session.wait_for(r"t = (?:[2-9]|[1-9][\d,]+)\.\d s of", session.mark(), timeout=15)
        await session.press("Space", r"paused at")
        await session.settle()
        played = await session.screenshot("3-simulator-played")

    twin = await draw_twin(grid.columns, grid.rows, lesson.steps[demo], tmp_path / "twin-progress", "ada")
    check_course_map(course_map, grid, twin.course_map)
    for picture in (paused, played):
        for name in ("timeline", "chart"):
            check_region(picture, grid, name, twin.regions[name], twin.background)
    chart = check_region(played, grid, "chart", twin.regions["chart"], twin.background)
    bar = sum(n for colour, n in chart.items() if distance(colour, twin.bar) <= SAME)
    assert bar > 500, f"the chart drew no columns after playing (only {bar} pixels of {twin.bar})"
