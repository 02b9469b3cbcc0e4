"""Snapshots of the simulator's views at 80x24, 120x40 and 160x48, paused at a fixed virtual time with the time
cursor on a known event (review the SVGs when they change: tests/__snapshots__/test_tui_simulator_snapshots/).

At 80x24 one view is on screen at a time: the scenario's own concept view is brought forward (as `v` does).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_views import CANARY, EDGE

from lambdalab import content
from lambdalab.course.progress import ProgressStore
from lambdalab.tui.app import LambdalabApp

LESSONS = Path(__file__).resolve().parent.parent / "lessons"
SIZES = [(80, 24), (120, 40), (160, 48)]
CASES = {  # scenario, pause at, keys (cursor jumps and zoom), the view to bring forward at 80x24
    "burst": (content.shipped_scenarios()["burst-reserved-concurrency"], 40.0, ("t",), "concurrency"),
    "async": (content.shipped_scenarios()["async-dlq-and-destination"], 100.0, ("y",), "async"),
    "kinesis": (LESSONS / "05-event-source-mappings" / "demo-kinesis-poison.yaml", 90.0, ("left",), "streams"),
    "sqs": (LESSONS / "05-event-source-mappings" / "demo-sqs-partial-batch.yaml", 200.0, ("left",), "sqs"),
    "canary": (CANARY, 130.0, ("left",), "versions"),
    "access": (LESSONS / "07-permissions" / "demo-s3-source-arn.yaml", 20.0, ("left",), "access"),
    "edge": (EDGE, 12.0, ("left",), "access"),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("case", CASES)
def test_simulator_view(snap_compare, tmp_path, case, size):
    scenario, at, keys, forward = CASES[case]
    if isinstance(scenario, str):
        (tmp_path / "scenario.yaml").write_text(scenario)
        scenario = tmp_path / "scenario.yaml"

    async def paused(pilot):
        pilot.app.open_simulator(scenario, autoplay=False)
        await pilot.pause()
        pilot.app.screen.seek(at)
        await pilot.pause()  # the window follows the run at `at` before the keys place a cursor in it
        await pilot.press(*keys)
        if size == (80, 24):
            pilot.app.screen.show_view(forward)
        await pilot.pause()

    app = LambdalabApp(store=ProgressStore(tmp_path / "home"))
    assert snap_compare(app, terminal_size=size, run_before=paused)


LESSON_12 = LESSONS / "12-beyond-one-request-per-environment"
CASES_2026 = {  # scenario, pause at, keys (zoom), the cursor's time (an event of the view), the view brought forward
    "managed": (
        LESSON_12 / "demo-managed-instances-surge.yaml",
        310.0,
        ("right_square_bracket",) * 2,  # ten minutes
        180.0,  # the scaler's first scale-out, in the middle of the 429s
        "managed",
    ),
    "durable": (
        content.shipped_scenarios()["durable-order-workflow"],
        300_000.0,
        ("right_square_bracket",) * 6,  # a day
        259_200.6,  # the first order's three-day wait ends: it resumes and replays
        "durable",
    ),
    "tenants": (content.shipped_scenarios()["tenant-isolation"], 60.0, (), 5.0, "tenants"),
}


@pytest.mark.parametrize("size", SIZES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("case", CASES_2026)
def test_simulator_view_of_a_2026_feature(snap_compare, tmp_path, case, size):
    """Managed Instances, durable executions, tenant isolation: the view brought forward at every size."""
    scenario, at, keys, cursor, forward = CASES_2026[case]

    async def paused(pilot):
        pilot.app.open_simulator(scenario, autoplay=False)
        await pilot.pause()
        screen = pilot.app.screen
        screen.seek(at)
        await pilot.pause()  # as above: the window settles before the keys
        await pilot.press(*keys)
        screen._put_cursor(cursor)
        screen.show_view(forward)
        await pilot.pause()

    app = LambdalabApp(store=ProgressStore(tmp_path / "home"))
    assert snap_compare(app, terminal_size=size, run_before=paused)
