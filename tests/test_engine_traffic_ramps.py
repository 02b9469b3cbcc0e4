"""Traffic that ramps (`rate` to `ramp_to` over `for`, shared/spec/scenarios.md "Lambda 2026 and operations
keys"): the arrivals follow the line, uniform or Poisson, and the builder counts them as it does steady ones."""

from __future__ import annotations

import pytest
from engine_helpers import scenario, simulate

from lambdalab.engine.builder.traffic import requests_sent
from lambdalab.inputs import InputErrors

FUNCTION = "functions: {f: {behaviour: {init: 0ms, duration: 1ms}}}\n"


def arrivals(traffic: str, duration: str = "20s") -> list[float]:
    run = simulate(f"duration: {duration}\n{FUNCTION}traffic:\n  - {traffic}\n")
    return [t for t, _ in run.of("invoke_start")]


def test_a_uniform_ramp_makes_the_area_under_its_line_in_arrivals_and_speeds_up():
    times = arrivals("{target: f, rate: 10/s, ramp_to: 30/s, start: 5s, for: 10s}")
    assert len(times) == 200  # (10 + 30) / 2 x 10 s
    assert times[0] == 5.0 and times[-1] < 15.0
    first_half = sum(1 for t in times if t < 10.0)
    assert first_half == pytest.approx(10 * 5 + 20 / 10 * 5 * 5 / 2, abs=1)  # 75: the line's area to 5 s
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps[0] > gaps[-1]  # faster and faster


def test_a_falling_ramp_slows_down_and_a_poisson_ramp_keeps_its_mean():
    times = arrivals("{target: f, rate: 30/s, ramp_to: 10/s, for: 10s}")
    assert len(times) == 200
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert gaps[0] < gaps[-1]
    poisson = arrivals("{target: f, rate: 100/s, ramp_to: 300/s, for: 10s, arrivals: poisson}")
    assert 1_900 <= len(poisson) <= 2_100  # 2,000 expected; the seed fixes the draw
    assert sum(1 for t in poisson if t < 5.0) < sum(1 for t in poisson if t >= 5.0)


def test_the_builder_counts_a_ramp_by_its_area():
    built = scenario(f"duration: 10s\n{FUNCTION}traffic:\n  - {{target: f, rate: 10/s, ramp_to: 30/s, for: 20s}}\n")
    assert requests_sent(built.traffic[0], 20.0) == pytest.approx(400)
    assert requests_sent(built.traffic[0], 10.0) == pytest.approx(150)  # the run ends halfway up the ramp


def test_a_ramp_needs_a_rate():
    with pytest.raises(InputErrors) as caught:
        scenario(f"duration: 10s\n{FUNCTION}traffic:\n  - {{target: f, burst: 5, at: 1s, ramp_to: 30/s}}\n")
    assert any("'ramp_to' does not go with 'burst'" in str(e) for e in caught.value.errors)
