"""The simulator driven from the keyboard: play, pause, step, speed, run to the end, knobs, re-run and compare."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import Input, RichLog, Static

from lambdalab import content
from lambdalab.course.progress import ProgressStore
from lambdalab.tui.app import LambdalabApp
from lambdalab.tui.screens.compare import CompareScreen
from lambdalab.tui.screens.knobs import KnobsScreen
from lambdalab.tui.screens.lesson import LessonScreen
from lambdalab.tui.screens.scenario_picker import ScenarioPickerScreen
from lambdalab.tui.screens.simulator import SPEEDS, SimulatorScreen
from lambdalab.tui.widgets.env_timeline import EnvironmentTimeline


@pytest.fixture()
def app(tmp_path) -> LambdalabApp:
    return LambdalabApp(store=ProgressStore(tmp_path))


async def wait_until(pilot, condition, timeout: float = 10.0) -> None:
    for _ in range(int(timeout / 0.05)):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError("the condition never held")


def log_text(screen) -> str:
    """The log panel's text, its wrapped lines joined back."""
    return "".join(strip.text for strip in screen.query_one("#sim-log", RichLog).lines)


async def open_scenario(app, pilot, name: str) -> SimulatorScreen:
    app.open_simulator(content.shipped_scenarios()[name], autoplay=False)
    await pilot.pause()
    assert isinstance(app.screen, SimulatorScreen)
    return app.screen


async def test_play_pause_step_speed_and_run_to_end(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = await open_scenario(app, pilot, "burst-reserved-concurrency")
        assert screen.run.now == 0.0 and not screen.playing
        await pilot.press("plus", "plus", "plus")  # 1x -> 10x
        assert SPEEDS[screen.speed_index] == 10
        await pilot.press("space")
        await wait_until(pilot, lambda: screen.run.now > 2.0)
        await pilot.press("space")
        paused_at = screen.run.now
        await pilot.pause(0.3)
        assert screen.run.now == paused_at and not screen.playing
        events_before = screen.run.sim.loop.events_run
        await pilot.press("full_stop")
        assert screen.run.sim.loop.events_run == events_before + 1
        screen.seek(30.05)  # just after the burst: the log shows its 429s
        await pilot.pause()
        assert "429 TooManyRequestsException (ReservedFunctionConcurrentInvocationLimitExceeded)" in log_text(screen)
        await pilot.press("e")
        await wait_until(pilot, lambda: screen.run.finished)
        await pilot.pause(0.2)
        status = str(screen.query_one("#sim-status", Static).content)
        assert "finished" in status and "t = 90.0 s of 90 s" in status
        # What the screen shows is the engine's own count.
        counters = str(screen.query_one("#counters", Static).content)
        throttles = screen.run.sim.functions["checkout"].metrics.throttles
        assert throttles > 0 and f"{throttles:,}" in counters
        await pilot.press("escape")
        await pilot.pause()
        assert not isinstance(app.screen, SimulatorScreen)


async def test_timeline_shows_each_environment_and_its_request(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = await open_scenario(app, pilot, "burst-reserved-concurrency")
        screen.seek(30.5)  # just after the burst
        await pilot.pause()
        await pilot.pause()  # the views take their new heights, and the timeline fetches the rows now in view
        timeline = screen.query_one("#timeline", EnvironmentTimeline)
        alive = sum(len(fn.environments) for fn in screen.run.sim.functions.values())
        assert timeline.total == alive  # nothing has shut down yet at 30 s
        assert [r.state for r in timeline.rows[:3]] == [
            screen.run.sim.functions["checkout"].environments[n].state for n in (1, 2, 3)
        ]
        first = timeline.render_line(0).text
        assert first.startswith("checkout#1") and ("❄" in first or "█" in first)
        await pilot.press("down")
        assert timeline.cursor == 1
        title = str(screen.query_one("#timeline-title", Static).content)
        selected = timeline.selected
        assert f"{selected.function}#{selected.env} is {selected.state}" in title


async def test_knobs_rerun_and_compare(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = await open_scenario(app, pilot, "burst-reserved-concurrency")
        screen.seek(90.0)
        await pilot.pause()
        before = screen.run.sim.functions["checkout"].metrics.throttles
        assert before > 0
        await pilot.press("k")
        await pilot.pause()
        assert isinstance(app.screen, KnobsScreen)
        reserved = app.screen.query_one("#knob-reserved_concurrency", Input)
        assert reserved.value == "50"
        # An out-of-range value is refused with the scenario's own message.
        reserved.value = "5000"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert isinstance(app.screen, KnobsScreen)
        assert "reserved_concurrency" in str(app.screen.query_one("#knob-errors", Static).content)
        reserved.value = "250"
        await pilot.press("ctrl+s")
        await pilot.pause()
        assert app.screen is screen and screen.scenario.functions["checkout"].reserved_concurrency == 250
        await pilot.press("e")
        await wait_until(pilot, lambda: screen.run.finished)
        assert screen.run.sim.functions["checkout"].metrics.throttles == 0
        await pilot.press("c")
        await pilot.pause()
        assert isinstance(app.screen, CompareScreen)
        text = "\n".join(app.screen.lines)
        assert "reserved_concurrency=250" in text
        throttle_row = next(line for line in text.splitlines() if line.strip().startswith("throttles"))
        assert f"{before:,}" in throttle_row and f"-{before:,}" in throttle_row


async def test_picker_palette_and_lesson_demo_open_the_simulator(app):
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        await pilot.press("f4")
        await pilot.pause()
        assert isinstance(app.screen, ScenarioPickerScreen)
        await pilot.press("enter")  # the first shipped scenario
        await pilot.pause()
        assert isinstance(app.screen, SimulatorScreen)
        assert app.screen.path == next(iter(content.shipped_scenarios().values()))
        await pilot.press("escape")
        await pilot.pause()
        lesson = app.course.get("concurrency-and-throttling")
        demo = next(s for s in lesson.steps if s.__class__.__name__ == "DemoStep" and s.scenario)
        app.open_lesson(lesson, demo.id)
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen)
        await pilot.press("o")
        await pilot.pause()
        assert isinstance(app.screen, SimulatorScreen)
        assert app.screen.path == content.shipped_scenarios()[demo.scenario]
        guide = str(app.screen.query_one("#guide", Static).content)
        assert demo.watch[0][:30] in guide and "Predict first" in guide
        await pilot.press("space")  # demos wait for the learner; they are started by hand
        await asyncio.sleep(0)


async def test_a_scenario_that_waits_for_a_feature_is_reported_not_opened(app, tmp_path):
    waiting = tmp_path / "snapstart.yaml"
    waiting.write_text(
        "duration: 10s\nfunctions:\n  api:\n    snap_start: {apply_on: PublishedVersions}\n"
        "    behaviour: {init: 1s, duration: 1s}\n"
    )
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        screen = app.screen
        app.open_simulator(waiting)
        await pilot.pause()
        assert app.screen is screen
        assert any("not simulated yet" in n.message for n in app._notifications)


async def test_stream_shards_and_iterator_age_are_shown(app):
    demo = content.content_root() / "lessons" / "05-event-source-mappings" / "demo-kinesis-poison.yaml"
    async with app.run_test(size=(140, 45)) as pilot:
        await pilot.pause()
        app.open_simulator(demo, autoplay=False)
        await pilot.pause()
        screen = app.screen
        await pilot.press("e")
        await wait_until(pilot, lambda: screen.run.finished)
        await pilot.pause(0.3)
        panel = str(screen.query_one("#async", Static).content)
        stuck = screen.run.sim.streams["views-default"].consumer
        assert f"{stuck.figures(screen.run.now)['unread']:,} unread" in panel
        assert "shardId-000000000000:" in panel and "failed" in panel and "time(s) in a row" in panel
        assert "IteratorAge max 539.9 s" in panel
