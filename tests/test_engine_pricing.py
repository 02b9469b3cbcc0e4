"""What a run costs, worked out by hand with US East first-tier prices (lambda-facts.md section 9):
requests $0.20 per million; duration $0.0000166667 per GB-s on x86_64, $0.0000133334 on arm64;
billed in 1 ms steps; Init billed on demand since 1 August 2025."""

from __future__ import annotations

import pytest

try:
    from engine_helpers import simulate
except ImportError:  # tests/ imported as a package
    from tests.engine_helpers import simulate

# 10 GB of memory and 100 s invocations make the GB-s large enough that the 8-decimal report shows every
# digit of the per-GB-s price. Requests at 0, 200, ..., 1800 s (10 of them, each done long before the next,
# and well within the 10-minute idle expiry): one cold start (Init 500 ms), nine warm.
#   billed = (500 + 100000) + 9 * 100000 = 1,000,500 ms = 1000.5 s
#   GB-s   = 1000.5 s * 10 GB = 10005
#   requests = 10 * $0.20 / 1e6 = $0.000002
COST_SCENARIO = """
    duration: 2000s
    functions:
      f:
        memory: 10240
        timeout: 120s
        architecture: {arch}
        behaviour: {{init: 500ms, duration: 100s}}
    traffic:
      - {{target: f, rate: 0.005/s, for: 2000s}}
"""


@pytest.mark.parametrize(
    "arch, duration_usd, total_usd",
    [
        # 10005 * 0.0000166667 = 0.1667503335 -> 0.16675033; + 0.000002 = 0.1667523335 -> 0.16675233
        ("x86_64", 0.16675033, 0.16675233),
        # 10005 * 0.0000133334 = 0.1334006670 -> 0.13340067; + 0.000002 = 0.1334026670 -> 0.13340267
        ("arm64", 0.13340067, 0.13340267),
    ],
)
def test_duration_and_request_cost_by_architecture(arch, duration_usd, total_usd):
    run = simulate(COST_SCENARIO.format(arch=arch))
    m = run.metrics()
    assert (m["Invocations"], m["ColdStarts"]) == (10, 1)
    assert m["BilledDurationMs"] == 1_000_500
    assert m["GBSeconds"] == pytest.approx(10005.0, abs=1e-6)
    cost = run.fn()["cost"]
    assert cost["architecture"] == arch and cost["memory_mb"] == 10240
    assert cost["requests_usd"] == pytest.approx(0.000002, abs=1e-12)
    assert cost["duration_usd"] == pytest.approx(duration_usd, abs=1e-8)
    assert cost["provisioned_usd"] == 0
    assert m["CostUSD"] == pytest.approx(total_usd, abs=1e-8)
    assert run.report["account"]["CostUSD"] == pytest.approx(total_usd, abs=1e-8)


def test_requests_cost_20_cents_per_million():
    # 5000 requests (100/s for 50 s) -> 5000 * 0.20 / 1e6 = $0.001.
    run = simulate("""
        duration: 60s
        functions:
          f:
            memory: 128
            behaviour: {init: 0s, duration: 1ms}
        traffic:
          - {target: f, rate: 100/s, for: 50s}
    """)
    assert run.metrics()["Invocations"] == 5000
    assert run.fn()["cost"]["requests_usd"] == pytest.approx(0.001, abs=1e-10)


def test_init_is_billed_on_demand():
    # 1 GB, one cold invocation: Init 2 s + invoke 1 s = 3000 ms billed, 3 GB-s.
    # 3 * 0.0000166667 = 0.0000500001 -> 0.00005000; + $0.0000002 request = 0.0000502001 -> 0.00005020
    run = simulate("""
        duration: 10s
        functions:
          f:
            memory: 1024
            behaviour: {init: 2s, duration: 1s}
        traffic:
          - {target: f, burst: 1, at: 0s}
    """)
    m = run.metrics()
    assert m["BilledDurationMs"] == 3000
    assert m["GBSeconds"] == pytest.approx(3.0, abs=1e-9)
    assert m["CostUSD"] == pytest.approx(0.0000502, abs=1e-8)


def test_memory_scales_the_gb_seconds():
    # 512 MB = 0.5 GB; four warm 2 s invocations after one cold one with Init 0: 5 * 2 s * 0.5 GB = 5 GB-s.
    run = simulate("""
        duration: 30s
        functions:
          f:
            memory: 512
            behaviour: {init: 0s, duration: 2s}
        traffic:
          - {target: f, rate: 0.2/s, for: 25s}
    """)
    m = run.metrics()
    assert m["Invocations"] == 5
    assert m["BilledDurationMs"] == 10000
    assert m["GBSeconds"] == pytest.approx(5.0, abs=1e-9)


def test_throttled_requests_cost_nothing():
    run = simulate("""
        duration: 10s
        functions:
          f:
            reserved_concurrency: 0
            behaviour: {init: 0s, duration: 1s}
        traffic:
          - {target: f, burst: 100, at: 0s}
    """)
    m = run.metrics()
    assert (m["Throttles"], m["Invocations"], m["BilledDurationMs"], m["CostUSD"]) == (100, 0, 0, 0)
