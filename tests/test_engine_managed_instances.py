"""Lambda Managed Instances in the engine, against shared/reference/lambda-2026.md §1 and §9.1: environments
of many slots started at publish, no cold starts, an immediate 429 by reason when no slot is free, a scaler
that at most doubles capacity per five minutes, timeouts that keep the slot, and instance-hour billing."""

from __future__ import annotations

import json
import textwrap

import pytest
import yaml
from engine_helpers import report_json, scenario, simulate
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdalab.inputs import InputErrors

PROVIDER = "capacity_providers: {general: {}}\n"


def lmi(function: str, traffic: str, duration: str = "10m", extra: str = "") -> str:
    """A scenario with one function `f` on the default provider (m7g.xlarge: 4 vCPUs, 16 GB)."""
    return (
        f"duration: {duration}\n{PROVIDER}{extra}functions:\n  f:\n"
        + "".join(f"    {line}\n" for line in textwrap.dedent(function).strip().splitlines())
        + "traffic:\n"
        + "".join(f"  {line}\n" for line in traffic.strip().splitlines())
    )


IO_BOUND = """
memory: 4096
timeout: 30s
managed_instances: {capacity_provider: general}
behaviour: {init: 1s, duration: 1s}
"""


def test_publish_starts_three_environments_on_three_instances_and_never_cold_starts():
    run = simulate(lmi(IO_BOUND, "- {target: f, rate: 10/s, for: 5m}"))
    managed = run.fn()["managed_instances"]
    assert managed["environments"]["start"] == 3  # LMI_SCALE: 3 EEs at publish
    assert run.report["capacity_providers"]["general"]["instances"]["start"] == 3
    assert run.metrics()["ColdStarts"] == 0 and not run.of("init_start")
    assert run.metrics()["Throttles"] == 0
    assert run.fn()["by_version"] == {"$LATEST.PUBLISHED": {"Invocations": 3000, "Errors": 0}}


@pytest.mark.parametrize(
    ("runtime", "memory", "per_vcpu", "slots"),
    [
        ("python3.13", 4096, "4GB", 16),  # one process per request, 16 per vCPU (LMI-PY)
        ("nodejs22.x", 4096, "4GB", 64),  # 64 per vCPU (LMI-NODE)
        ("java21", 4096, "4GB", 32),  # 32 per vCPU (LMI-JAVA)
        ("dotnet8", 4096, "4GB", 32),  # 32 per vCPU (LMI-NET)
        ("python3.14", 6144, 2, 48),  # 6 GB at 2 GiB per vCPU: 3 vCPUs x 16
    ],
)
def test_slots_per_environment_follow_the_runtime_and_its_vcpus(runtime, memory, per_vcpu, slots):
    function = f"""
    memory: {memory}
    runtime: {runtime}
    managed_instances: {{capacity_provider: general, memory_per_vcpu: {per_vcpu}}}
    behaviour: {{init: 1s, duration: 1s}}
    """
    fn = scenario(lmi(function, "- {target: f, burst: 1, at: 1s}")).functions["f"]
    assert fn.managed_instances.slots == slots
    assert fn.managed_instances.vcpus == memory / (per_vcpu * 1024 if isinstance(per_vcpu, int) else 4096)


def test_a_burst_beyond_the_free_slots_is_throttled_at_once_as_concurrency_throttles():
    run = simulate(lmi(IO_BOUND, "- {target: f, burst: 100, at: 10s}", duration="1m"))
    metrics, outcomes = run.metrics(), run.outcomes()
    assert outcomes["succeeded"] == 3 * 16  # three environments of 16 slots
    assert metrics["Throttles"] == metrics["ConcurrencyThrottles"] == outcomes["throttled"] == 100 - 48
    assert metrics["CPUThrottles"] == metrics["MemoryThrottles"] == metrics["DiskThrottles"] == 0
    assert set(run.times("throttle")) == {10.0}  # no queue, no wait for a new environment
    assert {d["reason"] for _, d in run.of("throttle")} == {"ConcurrencyThrottles"}


def test_cpu_and_memory_refuse_a_request_before_the_slots_run_out():
    cpu_heavy = IO_BOUND.replace("duration: 1s}", "duration: 1s, cpu_bound: 0.5}")
    run = simulate(lmi(cpu_heavy, "- {target: f, burst: 20, at: 10s}", duration="1m"))
    assert run.outcomes()["succeeded"] == 3 * 2  # half a vCPU each: two fill an environment's one vCPU
    assert run.metrics()["CPUThrottles"] == 14 and run.metrics()["ConcurrencyThrottles"] == 0
    memory_heavy = IO_BOUND.replace("duration: 1s}", "duration: 1s, memory_used: 1024}")
    run = simulate(lmi(memory_heavy, "- {target: f, burst: 20, at: 10s}", duration="1m"))
    assert run.outcomes()["succeeded"] == 3 * 4  # 1 GB each in a 4 GB environment
    assert run.metrics()["MemoryThrottles"] == 8


def environments_over_time(run) -> list[tuple[float, int]]:
    """(time, live environments) after the starts and shutdowns at each time (those at publish come before
    the run, and before any listener)."""
    count = run.fn()["managed_instances"]["environments"]["start"]
    out = {0.0: count}
    for t, kind, _ in run.events:
        if kind in ("env_start", "env_shutdown"):
            count += 1 if kind == "env_start" else -1
            out[t] = count
    return list(out.items())


def test_the_scaler_at_most_doubles_capacity_in_five_minutes():
    # 12 environments of 16 slots; a load that needs 50 saturates them until the scaler has caught up.
    function = IO_BOUND.replace("general}", "general, min_environments: 12}")
    run = simulate(lmi(function, "- {target: f, rate: 800/s, for: 12m}", duration="12m"))
    counts = environments_over_time(run)
    for t0, n0 in counts:
        later = [n for t, n in counts if t0 < t <= t0 + 300]
        assert all(n <= 2 * n0 for n in later), (t0, n0, later)
    assert max(n for _, n in counts) >= 3 * 12  # it grows: about x4 in the 10 minutes it has (not at once)
    assert run.metrics()["Throttles"] > 0 and run.metrics()["ColdStarts"] == 0


def test_traffic_that_doubles_slower_than_the_scaler_grows_is_not_throttled_and_faster_is():
    steps = "".join(
        f"- {{target: f, rate: {rate}/s, start: {i * 5}m, for: 5m}}\n"
        for i, rate in enumerate((20, 30, 45, 65, 95, 140))  # x1.5 per five minutes
    )
    gentle = simulate(lmi(IO_BOUND, steps, duration="30m"))
    assert gentle.metrics()["Throttles"] == 0
    assert gentle.fn()["managed_instances"]["environments"]["max"] > 3  # it grew to follow
    sudden = simulate(
        lmi(IO_BOUND, "- {target: f, rate: 20/s, for: 30m}\n- {target: f, rate: 200/s, start: 10m, for: 10m}", "30m")
    )
    assert sudden.metrics()["Throttles"] > 0  # x11 at once: throttled until the scaler catches up


def test_a_timed_out_request_fails_at_its_timeout_but_keeps_its_slot_until_its_code_ends():
    function = """
    memory: 4096
    timeout: 1s
    managed_instances: {capacity_provider: general, min_environments: 1, per_environment_max_concurrency: 2}
    behaviour: {init: 1s, duration: 3s}
    """
    traffic = "- {target: f, burst: 2, at: 0s}\n- {target: f, burst: 1, at: 2s}\n- {target: f, burst: 1, at: 4s}"
    run = simulate(lmi(function, traffic, duration="10s"))
    ends = run.of("invoke_end")
    assert [round(t, 3) for t, _ in ends] == [1.0, 1.0, 5.0]  # answered at the timeout; the 3rd (at 4 s) too
    assert all(d["timed_out"] for _, d in ends)
    assert run.outcomes()["throttled"] == 1  # at 2 s both slots still ran the timed-out code (until 3 s)
    assert run.outcomes()["timed_out"] == 3


def test_synchronous_requests_stop_at_900_seconds_while_asynchronous_ones_run_to_the_timeout():
    function = """
    memory: 4096
    timeout: 90m
    managed_instances: {capacity_provider: general}
    behaviour: {init: 1s, duration: 20m}
    """
    traffic = "- {target: f, invocation: sync, burst: 1, at: 0s}\n- {target: f, invocation: async, burst: 1, at: 0s}"
    run = simulate(lmi(function, traffic, duration="1h"))
    ends = sorted((round(t), d["error"]) for t, d in run.of("invoke_end"))
    assert ends == [(900, "Sandbox.Timedout"), (1200, None)]


def test_billing_is_instance_time_plus_the_fee_and_requests_with_no_gb_seconds():
    run = simulate(lmi(IO_BOUND, "- {target: f, rate: 10/s, for: 1h}", duration="1h"))
    provider = run.report["capacity_providers"]["general"]
    assert provider["instances"] == {"start": 3, "max": 3, "end": 3, "time_average": 3.0}
    assert provider["instance_hours"] == pytest.approx(3.0)
    assert provider["cost"]["ec2_usd"] == pytest.approx(3 * 0.1632)  # m7g.xlarge on demand (PRICE)
    assert provider["cost"]["management_fee_usd"] == pytest.approx(0.15 * 3 * 0.1632)
    metrics = run.metrics()
    assert metrics["GBSeconds"] == 0 and metrics["BilledDurationMs"] == 0
    assert run.fn()["cost"]["duration_usd"] == 0
    assert metrics["CostUSD"] == pytest.approx(36_000 * 0.20 / 1e6)
    assert run.report["account"]["CostUSD"] == pytest.approx(metrics["CostUSD"] + provider["CostUSD"])


def test_an_instance_that_runs_briefly_is_billed_a_minute():
    # A surge grows the fleet past three instances; when it ends, the extra instances stop.
    function = IO_BOUND.replace("general}", "general, min_environments: 9}")
    run = simulate(lmi(function, "- {target: f, rate: 400/s, start: 1m, for: 10m}", duration="40m"))
    provider = run.report["capacity_providers"]["general"]
    assert provider["instances"]["max"] > 3 and provider["instances"]["end"] == 3
    starts = len(run.of("instance_start"))
    assert provider["instance_hours"] >= 3 * 40 / 60 + (starts - 3) * 60 / 3600 - 1e-9


def test_the_report_and_series_show_environments_slots_cpu_and_instances():
    run = simulate(lmi(IO_BOUND, "- {target: f, rate: 20/s, for: 2m}", duration="2m"), series_step=10)
    managed = run.fn()["managed_instances"]
    assert managed["slots"]["per_environment"] == 16 and managed["slots"]["max"] == 48
    assert 15 <= managed["slots"]["max_in_use"] <= 48  # about 20 requests of 1 s in flight
    series = run.report["series"]
    assert series["functions"]["f"]["environments"][-1] == 3
    assert max(series["functions"]["f"]["slots_in_use"]) >= 15
    assert series["capacity_providers"]["general"]["instances"] == [3] * 12
    assert run.metrics()["ConcurrentExecutions"] == managed["slots"]["max_in_use"]


def test_expectations_may_name_a_capacity_provider_and_managed_figures():
    text = lmi(IO_BOUND, "- {target: f, rate: 10/s, for: 1m}", duration="1m") + (
        "expect:\n"
        "  - {capacity_provider: general, metric: instances.max, op: '==', value: 3}\n"
        "  - {function: f, metric: managed_instances.environments.end, op: '==', value: 3}\n"
        "  - {function: f, metric: ConcurrencyThrottles, op: '==', value: 0}\n"
    )
    run = simulate(text)
    assert [e["passed"] for e in run.report["expectations"]] == [True, True, True]


def test_the_account_pool_is_untouched_unless_asked():
    run = simulate(lmi(IO_BOUND, "- {target: f, rate: 10/s, for: 1m}", duration="1m"))
    assert run.report["account"]["ConcurrentExecutions"] == 0
    counted = lmi(IO_BOUND, "- {target: f, rate: 10/s, for: 1m}", "1m", "account: {count_managed_instances: true}\n")
    assert simulate(counted).report["account"]["ConcurrentExecutions"] > 0


def test_same_input_same_bytes():
    text = lmi(
        IO_BOUND.replace("duration: 1s}", "duration: {mean: 1s, jitter: 500ms}, cpu_bound: 0.05}"),
        "- {target: f, rate: 100/s, for: 10m, arrivals: poisson}",
    )
    assert report_json(text, seed=3) == report_json(text, seed=3)
    assert json.loads(report_json(text, seed=3)) != json.loads(report_json(text, seed=4))


REFUSALS = [
    ("memory: 4096", "memory: 1024", "functions.f.memory", "2,048 to 32,768 MB"),
    ("general}", "general, memory_per_vcpu: 1GB}", "memory_per_vcpu", "2 to 8"),
    ("general}", "genral}", "capacity_provider", "did you mean 'general'"),
    ("memory: 4096", "memory: 4096\nruntime: python3.12", "functions.f.runtime", "does not run on Managed"),
    ("memory: 4096", "memory: 4096\nprovisioned_concurrency: 5", "provisioned_concurrency", "not with managed"),
    ("memory: 4096", "memory: 4096\nreserved_concurrency: 5", "reserved_concurrency", "not with managed"),
    ("general}", "general, min_environments: 9, max_environments: 4}", "min_environments", "above max_environments"),
    ("timeout: 30s", "timeout: 2h", "functions.f.timeout", "5400"),
    ("memory: 4096", "memory: 4096\narchitecture: x86_64", "architecture", "arm64"),
]


@pytest.mark.parametrize(("old", "new", "where", "message"), REFUSALS, ids=[r[3] for r in REFUSALS])
def test_managed_instances_settings_out_of_range_are_refused_with_the_key(old, new, where, message):
    text = lmi(IO_BOUND.replace(old, new), "- {target: f, burst: 1, at: 1s}")
    with pytest.raises(InputErrors) as caught:
        scenario(text)
    errors = [str(e) for e in caught.value.errors]
    assert any(where in e and message in e for e in errors), errors


def test_an_x86_provider_names_its_instance():
    text = lmi(IO_BOUND, "- {target: f, burst: 1, at: 1s}").replace("general: {}", "general: {architecture: x86_64}")
    with pytest.raises(InputErrors) as caught:
        scenario(text)
    assert any("capacity_providers.general.instance" in str(e) for e in caught.value.errors)


@st.composite
def managed_scenarios(draw) -> str:
    """A function on a capacity provider with drawn sizes and a drawn mix of sync and async traffic."""
    memory = draw(st.sampled_from([2048, 4096, 6144]))
    per_vcpu = draw(st.sampled_from([2, 4, 8]))
    managed = {
        "capacity_provider": "general",
        "memory_per_vcpu": per_vcpu,
        "min_environments": draw(st.integers(0, 4)),
        **({"per_environment_max_concurrency": draw(st.integers(1, 20))} if draw(st.booleans()) else {}),
    }
    behaviour = {
        "init": "1s",
        "duration": {"mean": f"{draw(st.integers(10, 3000))}ms", "jitter": "5ms"},
        "cpu_bound": draw(st.sampled_from([0, 0.05, 0.5, 1])),
        "memory_used": draw(st.sampled_from([64, 512, 1500])),
        **({"errors": {"rate": draw(st.floats(0, 1))}} if draw(st.booleans()) else {}),
    }
    function = {"memory": memory, "timeout": draw(st.integers(1, 5)), "managed_instances": managed}
    traffic = [
        {
            "target": "f",
            "invocation": draw(st.sampled_from(["sync", "async"])),
            "rate": f"{draw(st.integers(1, 120))}/s",
            **({"ramp_to": f"{draw(st.integers(1, 120))}/s"} if draw(st.booleans()) else {}),
            "start": f"{draw(st.integers(0, 120))}s",
            "for": f"{draw(st.integers(1, 240))}s",
        }
        for _ in range(draw(st.integers(1, 2)))
    ]
    provider = {"scaling": {"interval": f"{draw(st.integers(10, 120))}s", "delay": f"{draw(st.integers(0, 60))}s"}}
    document = {
        "duration": "5m",
        "seed": draw(st.integers(0, 9)),
        "capacity_providers": {"general": provider},
        "functions": {"f": {**function, "behaviour": behaviour}},
        "traffic": traffic,
    }
    return yaml.safe_dump(document, sort_keys=False)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(managed_scenarios())
def test_managed_instances_conserve_requests_and_repeat_byte_for_byte(text):
    run = simulate(text, listen=False)
    metrics, outcomes, managed = run.metrics(), run.outcomes(), run.fn()["managed_instances"]
    assert outcomes["requests"] == (
        outcomes["succeeded"] + outcomes["failed"] + outcomes["throttled"] + outcomes["dropped"] + outcomes["in_flight"]
    )
    reasons = ("ConcurrencyThrottles", "CPUThrottles", "MemoryThrottles", "DiskThrottles")
    assert metrics["Throttles"] == sum(metrics[r] for r in reasons)  # exactly one reason per throttle
    assert metrics["ColdStarts"] == 0 and metrics["GBSeconds"] == 0
    assert managed["slots"]["max_in_use"] <= managed["slots"]["max"]
    assert managed["environments"]["max"] <= scenario(text).functions["f"].managed_instances.max_environments
    assert 0 <= managed["cpu"]["average"] <= managed["cpu"]["max"] <= 100
    provider = run.report["capacity_providers"]["general"]
    assert provider["instances"]["max"] >= 3 and provider["instance_hours"] >= 3 * 5 / 60 - 1e-9
    assert report_json(text) == report_json(text)
