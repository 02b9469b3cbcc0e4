"""The simulator's concept views, driven as a learner would: a scenario with the feature, the time cursor moved to a
known event (found independently, from a plain engine run with the same seed), and the inspector's words."""

from __future__ import annotations

from pathlib import Path

import pytest
from textual.widgets import Static

from lambdalab import content
from lambdalab.course.progress import ProgressStore
from lambdalab.engine import Simulation, parse_scenario
from lambdalab.tui.app import LambdalabApp
from lambdalab.tui.screens.simulator import SimulatorScreen
from lambdalab.tui.widgets.lane_view import NOTHING_YET, LaneView

REPO = Path(__file__).resolve().parent.parent
LESSONS = REPO / "lessons"

FIFO = """\
name: a poison message holds its FIFO group
duration: 2m
functions:
  f:
    timeout: 10s
    behaviour: {init: 0ms, duration: 100ms, errors: {when: {path: $.poison, equals: true}}}
queues:
  orders.fifo: {fifo: true, visibility_timeout: 20s, max_receive_count: 3, dead_letter: dlq.fifo}
  dlq.fifo: {fifo: true}
event_source_mappings:
  - {source: queue:orders.fifo, function: f, batch_size: 1}
traffic:
  - {target: queue:orders.fifo, rate: 2/s, for: 20s, message_group: $.customer,
     events: [{customer: a, poison: true}, {customer: b}, {customer: a}, {customer: b}]}
"""

CANARY = """\
name: a canary rolled back by its alarm
duration: 15m
functions:
  checkout:
    behaviour: {init: 100ms, duration: 100ms, errors: {rate: 0.2}}
    versions:
      "1": {behaviour: {init: 100ms, duration: 100ms, errors: {rate: 0}}}
      "2": {}
    aliases:
      live: {version: "1"}
deployments:
  - {function: checkout, alias: live, to: "2", config: Canary10Percent5Minutes, start: 1m, alarm: {errors_over: 5}}
traffic:
  - {target: "checkout:live", invocation: sync, rate: 20/s, for: 15m}
"""

EDGE = """\
name: an origin-request trigger that fails
duration: 20s
functions:
  router:
    timeout: 5s
    behaviour: {init: 0ms, duration: 20ms, errors: {every: 2}}
    versions: {"1": {}}
edge:
  - {trigger: origin-request, function: "router:1"}
traffic:
  - {target: "edge:origin-request", rate: 10/s, for: 10s}
"""


def first(path: Path, kind: str, where=lambda data: True) -> tuple[float, dict]:
    """The first trace event of `kind` in a plain engine run of the scenario (no UI)."""
    scenario = parse_scenario(path.read_text(), name=str(path))
    found: list[tuple[float, dict]] = []
    with Simulation(scenario) as sim:
        sim.subscribe(lambda t, k, d: found.append((t, d)) if k == kind and where(d) and not found else None)
        sim.run()
    assert found, f"no {kind} in {path.name}"
    return found[0]


async def inspect_at(
    tmp_path, path: Path, time_s: float, size=(120, 40), keys: tuple[str, ...] = ()
) -> tuple[dict[str, dict[str, str]], str]:
    """The lanes of each concept view ({view: {label: glyphs}}) and the inspector's text, cursor at `time_s`
    (after pressing `keys`)."""
    app = LambdalabApp(store=ProgressStore(tmp_path / "progress"))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.open_simulator(path, autoplay=False)
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SimulatorScreen)
        screen.seek(time_s + 1.0)
        screen._put_cursor(time_s)
        await pilot.press(*keys)
        await pilot.pause()
        return {name: lanes(screen, name) for name in screen.views[2:]}, str(
            screen.query_one("#inspect", Static).content
        )


def scenario_file(tmp_path, text: str) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(text)
    return path


def lanes(screen: SimulatorScreen, view: str) -> dict[str, str]:
    built = screen.query_one(f"#view-{view}", LaneView).view
    return {lane.label: "".join(glyph for glyph, _ in lane.cells) for lane in built.lanes}


async def test_async_retries_waits_and_the_dlq(tmp_path):
    path = content.shipped_scenarios()["async-dlq-and-destination"]
    time_s, data = first(path, "async_drop")
    shown, said = await inspect_at(tmp_path, path, time_s)
    assert f"request {data['request_id']} (" in said and f"was given up at t={time_s:.2f} s after 3 attempt(s)" in said
    shown = shown["async"]
    dlq = next(label for label in shown if label.startswith("→resize-dlq"))
    assert "█" in shown[dlq] or any(b in shown[dlq] for b in "▁▂▃▄▅▆▇")
    assert any(label.startswith("req ") and "✗" in cells and "─" in cells for label, cells in shown.items())


async def test_the_next_retry_key_lands_on_a_retry_and_explains_it(tmp_path):
    path = content.shipped_scenarios()["async-dlq-and-destination"]
    time_s, data = first(path, "async_wait")
    app = LambdalabApp(store=ProgressStore(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.open_simulator(path, autoplay=False)
        await pilot.pause()
        app.screen.seek(60.0)
        await pilot.press("y")
        await pilot.pause()
        assert app.screen.cursor_t == pytest.approx(time_s)
        said = str(app.screen.query_one("#inspect", Static).content)
        assert f"request {data['request_id']} (" in said and "waits in Lambda's queue" in said
        assert "because it failed (1 attempt(s) so far)" in said


async def test_throttles_are_their_own_series_and_the_next_throttle_is_explained(tmp_path):
    path = content.shipped_scenarios()["burst-reserved-concurrency"]
    time_s, data = first(path, "throttle")
    app = LambdalabApp(store=ProgressStore(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.open_simulator(path, autoplay=False)
        await pilot.pause()
        app.screen.seek(40.0)
        await pilot.press("t")
        await pilot.pause()
        said = str(app.screen.query_one("#inspect", Static).content)
        assert f"was throttled at t={time_s:.2f} s because reserved concurrency 50 was reached" in said
        chart = app.screen.query_one("#chart")
        assert sum(chart.throttled) == app.screen.run.sim.functions["checkout"].metrics.throttles
        row = next(
            line for line in (chart.render_line(y).text for y in range(chart.size.height)) if "throttled" in line
        )
        assert row.strip().startswith(f"throttled {sum(chart.throttled):,}")


async def test_sqs_redrive_to_the_dead_letter_queue(tmp_path):
    path = LESSONS / "05-event-source-mappings" / "demo-sqs-partial-batch.yaml"
    time_s, data = first(path, "redrive")
    shown, said = await inspect_at(tmp_path, path, time_s)
    assert f"message {data['message']} of queue {data['queue']} went to its dead-letter queue" in said
    shown = shown["sqs"]
    assert any(label.startswith(" redriven") for label in shown)


async def test_a_fifo_group_blocked_by_its_poison_message(tmp_path):
    path = scenario_file(tmp_path, FIFO)
    time_s, _ = first(path, "batch_done", lambda d: d["failed"])
    shown, said = await inspect_at(tmp_path, path, time_s)
    assert "message(s) failed: they become visible again after the visibility timeout; message group(s) a wait" in said
    shown = shown["sqs"]
    assert "▒" in shown[" group a"] and "▒" not in shown[" group b"] and "█" in shown[" group b"]


async def test_a_kinesis_poison_record_holds_its_shard_and_bisects(tmp_path):
    path = LESSONS / "05-event-source-mappings" / "demo-kinesis-poison.yaml"
    time_s, data = first(path, "batch_done", lambda d: d["outcome"] == "bisected")
    shown, said = await inspect_at(tmp_path, path, time_s, size=(160, 48), keys=("left_square_bracket",) * 3)
    assert "Lambda splits the rest in two and tries each half (bisect)" in said
    shown = shown["streams"]
    stuck = [cells for label, cells in shown.items() if label.startswith(" shard") and "▒" in cells]
    assert stuck and any("÷" in cells for cells in shown.values())


async def test_a_canary_rolled_back(tmp_path):
    path = scenario_file(tmp_path, CANARY)
    time_s, _ = first(path, "deployment", lambda d: "alarm" in d)
    shown, said = await inspect_at(tmp_path, path, time_s)
    assert (
        "the deployment of checkout version 2 rolled back" in said and "errors on version 2 in the last minute" in said
    )
    shown = shown["versions"]
    assert "✗" in shown["CodeDeploy"]
    assert any(label.startswith("checkout:2") for label in shown)


async def test_a_denied_s3_caller_names_the_reason(tmp_path):
    path = LESSONS / "07-permissions" / "demo-s3-source-arn.yaml"
    time_s, data = first(path, "denied")
    shown, said = await inspect_at(tmp_path, path, time_s)
    assert f"from {data['principal']} was denied at t={time_s:.2f} s: {data['reason']}" in said
    assert any(label.startswith("denied s3.amazonaws") for label in shown["access"])


async def test_cloudfront_answers_by_status(tmp_path):
    path = scenario_file(tmp_path, EDGE)
    time_s, data = first(path, "edge_answer", lambda d: d["status"] != 200)
    shown, said = await inspect_at(tmp_path, path, time_s)
    assert f"CloudFront answered request {data['request_id']} (" in said and f"with {data['status']}" in said
    shown = shown["access"]
    assert any(label.startswith(f"origin-reques {data['status']}") or f" {data['status']} " in label for label in shown)


FIT = {  # a scenario for each set of views, and when to look at it
    "sqs": (LESSONS / "05-event-source-mappings" / "demo-sqs-partial-batch.yaml", 200.0),
    "managed": (LESSONS / "12-beyond-one-request-per-environment" / "demo-managed-instances-surge.yaml", 300.0),
    "durable": (content.shipped_scenarios()["durable-order-workflow"], 262_900.0),
    "tenants": (content.shipped_scenarios()["tenant-isolation"], 60.0),
}


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (160, 48)])
@pytest.mark.parametrize("case", FIT)
async def test_every_view_is_reachable_and_nothing_is_cut_mid_word(tmp_path, size, case):
    path, at = FIT[case]
    app = LambdalabApp(store=ProgressStore(tmp_path))
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app.open_simulator(path, autoplay=False)
        await pilot.pause()
        screen = app.screen
        screen.seek(at)
        await pilot.pause()
        seen: set[str] = set()
        for _ in range(len(screen.views) + 1):
            seen.update(screen._shown_views())
            for widget in screen.query(LaneView):
                if widget.display:
                    view = widget.view
                    words = set(
                        " ".join([view.title, view.key, NOTHING_YET, *(lane.label for lane in view.lanes)]).split()
                    )
                    key_row = widget._rows[-3 if widget.with_axis else -1]  # the time axis goes under the key
                    for row in [widget._rows[0], key_row]:  # the title and the key line
                        text = "".join(segment.text for segment in row)
                        if "└" in text or "┬" in text:
                            continue
                        assert all(
                            word.rstrip("…") in words or word.startswith("┬")
                            for word in text.split()
                            if not word[0].isdigit()
                        ), f"cut mid-word at {size}: {text!r}"
            await pilot.press("v")
            await pilot.pause()
        assert seen >= set(screen.views)
        if size[0] < 110:  # the numbers are a view of their own on a narrow screen
            assert "numbers" in seen
