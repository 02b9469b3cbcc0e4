"""The simulator's views of Lambda's 2026 features (Managed Instances, durable executions, tenant isolation),
driven as a learner would: the shipped example, the time cursor moved to an event found independently (a plain
engine run with the same seed), the view's lanes and the inspector's words."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_tui_views import first, inspect_at

from lambdalab import content
from lambdalab.charts import BLOCKS
from lambdalab.course.progress import ProgressStore
from lambdalab.engine import Simulation, parse_scenario
from lambdalab.tui import views
from lambdalab.tui.app import LambdalabApp
from lambdalab.tui.widgets.env_timeline import EnvironmentTimeline

LESSON = Path(__file__).resolve().parent.parent / "lessons" / "12-beyond-one-request-per-environment"
SURGE = LESSON / "demo-managed-instances-surge.yaml"
DURABLE = content.shipped_scenarios()["durable-order-workflow"]
TENANTS = content.shipped_scenarios()["tenant-isolation"]


def test_each_feature_gets_its_view_and_only_then():
    def found(path: Path) -> list[str]:
        return views.features(parse_scenario(path.read_text(), name=str(path)))

    assert "managed" in found(SURGE) and {"durable", "tenants"}.isdisjoint(found(SURGE))
    assert "durable" in found(DURABLE) and {"managed", "tenants"}.isdisjoint(found(DURABLE))
    assert "tenants" in found(TENANTS) and {"managed", "durable"}.isdisjoint(found(TENANTS))
    burst = content.shipped_scenarios()["burst-reserved-concurrency"]
    assert {"managed", "durable", "tenants"}.isdisjoint(found(burst))


async def test_a_managed_instances_scale_out_is_marked_and_explained(tmp_path):
    time_s, data = first(SURGE, "scale")
    assert data["to"] > data["from"]
    shown, said = await inspect_at(tmp_path, SURGE, time_s)
    assert (
        f"the Managed Instances scaler of api went from {data['from']} to {data['to']} execution environments "
        f"at t={time_s:.2f} s: the highest utilisation since its last decision was {data['peak_utilization']} %"
    ) in said
    lanes = shown["managed"]
    environments = next(cells for label, cells in lanes.items() if label.startswith(" environments"))
    assert "▲" in environments
    assert any(label.startswith(" instances ") for label in lanes)


async def test_managed_instances_429s_by_reason_count_what_the_engine_counted(tmp_path):
    time_s, data = first(SURGE, "throttle")
    assert data["reason"] == "ConcurrencyThrottles"
    shown, said = await inspect_at(tmp_path, SURGE, time_s)
    assert f"was throttled at t={time_s:.2f} s because every slot of every execution environment was busy" in said
    assert "(ConcurrencyThrottles)" in said
    # The run is paused a second after the throttle: the lane's total is every 429 in the window so far.
    scenario = parse_scenario(SURGE.read_text(), name=str(SURGE))
    with Simulation(scenario, until=time_s + 1.0) as sim:
        sim.run()
        throttled = sim.functions["api"].throttle_reasons["ConcurrencyThrottles"]
    assert f" 429 slots {throttled:,}" in shown["managed"]
    assert not any(label.startswith((" 429 CPU", " 429 memory")) for label in shown["managed"])


async def test_a_durable_execution_suspends_resumes_and_ends_on_the_time_axis(tmp_path):
    time_s, data = first(DURABLE, "durable_end")
    name = data["execution"]
    shown, said = await inspect_at(tmp_path, DURABLE, time_s)
    assert (
        f"durable execution {name} of order-flow:1 ended at t={time_s:.2f} s: SUCCEEDED, after "
        f"{data['invocations']} invocation(s)."
    ) in said
    lanes = shown["durable"]
    lane = lanes[f" {name} {data['invocations']}x"]
    assert "✓" in lane and "─" in lane  # suspended for the approval, then its end
    assert any(label.startswith(" +") and label.endswith(" executions") for label in lanes)  # the rest counted


async def test_a_durable_resume_is_a_replay_and_is_explained(tmp_path):
    time_s, data = first(DURABLE, "durable_resume", lambda d: d["reason"] == "timer")
    shown, said = await inspect_at(tmp_path, DURABLE, time_s)
    assert (
        f"durable execution {data['execution']} of order-flow:1 resumed at t={time_s:.2f} s because its timer fired"
        in said
    )
    lane = next(cells for label, cells in shown["durable"].items() if label.split()[0] == data["execution"])
    assert "↻" in lane


async def test_tenants_past_the_cap_are_throttled_and_each_tenant_has_its_lane(tmp_path):
    time_s, data = first(TENANTS, "throttle")
    shown, said = await inspect_at(tmp_path, TENANTS, time_s)
    assert (
        f"was throttled at t={time_s:.2f} s because its tenant had no idle environment and the function already "
        "had 50 tenant environments live"
    ) in said
    lanes = shown["tenants"]
    assert " live envs 50/50" in lanes
    assert any(label.startswith(" 429 at the cap ") and set(cells) & set(BLOCKS) for label, cells in lanes.items())
    assert "❄" in lanes[" tenant-1"]
    scenario = parse_scenario(TENANTS.read_text(), name=str(TENANTS))
    with Simulation(scenario, until=time_s + 1.0) as sim:  # as far as the simulator ran
        sim.run()
        seen = len(sim.functions["portal"].tenancy.tenants)  # type: ignore[attr-defined]  # a TenantRuntime
    assert seen > 50 and f" +{seen - 50} more tenants" in lanes  # the tenants past the cap never got an environment


async def test_the_environment_timeline_names_each_environments_tenant(tmp_path):
    app = LambdalabApp(store=ProgressStore(tmp_path))
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        app.open_simulator(TENANTS, autoplay=False)
        await pilot.pause()
        app.screen.seek(10.0)
        await pilot.pause()
        timeline = app.screen.query_one("#timeline", EnvironmentTimeline)
        assert [row.tenant for row in timeline.rows[:3]] == ["tenant-1", "tenant-2", "tenant-3"]
        assert timeline.render_line(0).text.startswith("portal#1 tenant-1 ")


async def test_g_and_d_jump_to_the_next_scaling_decision_and_durable_resume(tmp_path):
    for path, key, kind, seek in ((SURGE, "g", "scale", 200.0), (DURABLE, "d", "durable_resume", 10.0)):
        time_s, _ = first(path, kind)
        app = LambdalabApp(store=ProgressStore(tmp_path))
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            app.open_simulator(path, autoplay=False)
            await pilot.pause()
            app.screen.seek(seek)
            await pilot.press(key)
            await pilot.pause()
            assert app.screen.cursor_t == pytest.approx(time_s)
