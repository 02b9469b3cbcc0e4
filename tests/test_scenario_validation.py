"""Scenario validation beyond the command line: units, references between parts, and Lambda's limits."""

from __future__ import annotations

import textwrap

import jsonschema
import pytest

from lambdalab.engine import parse_scenario
from lambdalab.engine.units import format_duration, parse_duration, parse_rate, parse_size
from lambdalab.inputs import InputErrors
from lambdalab.inputs.schema_check import load_schema

FUNCTION = "behaviour: {init: 100ms, duration: 50ms}"


@pytest.mark.parametrize("name", ["scenario", "exercise", "lesson"])
def test_shipped_schemas_are_valid_json_schemas(name):
    schema = load_schema(name)
    jsonschema.validators.validator_for(schema).check_schema(schema)  # raises SchemaError naming the place


def problems(text: str) -> list[str]:
    with pytest.raises(InputErrors) as caught:
        parse_scenario(textwrap.dedent(text), name="s.yaml")
    return [str(e) for e in caught.value.errors]


@pytest.mark.parametrize(
    "text, seconds",
    [(3, 3.0), (2.5, 2.5), ("250ms", 0.25), ("3s", 3.0), ("5m", 300.0), ("6h", 21600.0), (" 1.5 s ", 1.5)],
)
def test_durations(text, seconds):
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("bad", ["3 sec", "-1s", "s", "", True, None, [1], float("nan"), float("inf"), 1e302, "9000h"])
def test_bad_durations(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


@pytest.mark.parametrize("parse", [parse_rate, parse_size])
def test_rates_and_sizes_are_finite(parse):
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError, match="is not a number"):
            parse(bad)


def test_rates_sizes_and_formatting():
    assert parse_rate("100/s") == 100 and parse_rate("6000/m") == 100 and parse_rate(5) == 5.0
    assert parse_size("256KB") == 262144 and parse_size("6MB") == 6 * 1024 * 1024 and parse_size(10) == 10
    assert [format_duration(s) for s in (0.25, 3, 1.5, 300, 21600, 0)] == ["250ms", "3s", "1.5s", "5m", "6h", "0s"]


def test_defaults_follow_the_reference():
    scenario = parse_scenario(f"duration: 1m\nfunctions:\n  api: {{{FUNCTION}}}\n")
    fn = scenario.functions["api"]
    assert (fn.memory, fn.timeout, fn.architecture, fn.ephemeral_storage) == (128, 3.0, "x86_64", 512)
    assert (fn.async_config.maximum_retry_attempts, fn.async_config.maximum_event_age) == (2, 21600.0)
    assert (scenario.account.concurrency, scenario.account.unreserved_minimum, fn.idle_expiry) == (1000, 100, 600.0)
    assert scenario.name == "<scenario>" and scenario.seed == 0


def test_duplicate_keys_are_an_error_not_a_silent_overwrite():
    assert problems(f"""\
        duration: 1m
        functions:
          api: {{{FUNCTION}}}
          api: {{{FUNCTION}}}
        """) == ["s.yaml:4:3: functions.api: this key appears twice; keep one"]


def test_provisioned_above_reserved_is_rejected():
    [message] = problems(f"""\
        duration: 1m
        functions:
          api: {{reserved_concurrency: 5, provisioned_concurrency: 10, {FUNCTION}}}
        """)
    assert "functions.api.provisioned_concurrency: 10 is more than reserved concurrency 5" in message


def test_reservations_are_summed_across_functions():
    [message] = problems(f"""\
        duration: 1m
        account: {{concurrency: 500}}
        functions:
          a: {{reserved_concurrency: 200, {FUNCTION}}}
          b: {{reserved_concurrency: 250, {FUNCTION}}}
        """)
    assert message.startswith("s.yaml:5:")
    assert "functions.b.reserved_concurrency: 250 would leave 50 unreserved of the account's 500" in message


def test_dead_letter_queue_must_be_a_standard_queue_or_topic():
    msgs = problems(f"""\
        duration: 1m
        queues: {{jobs.fifo: {{fifo: true}}}}
        buses: {{events: {{}}}}
        functions:
          a: {{dead_letter_queue: jobs.fifo, {FUNCTION}}}
          b: {{dead_letter_queue: events, {FUNCTION}}}
        """)
    assert any("functions.a.dead_letter_queue: 'jobs.fifo' is FIFO" in m for m in msgs)
    assert any("functions.b.dead_letter_queue: no queue or topic named 'events'" in m for m in msgs)


def test_destination_names_must_be_unambiguous():
    [message] = problems(f"""\
        duration: 1m
        queues: {{audit: {{}}}}
        topics: {{audit: {{}}}}
        functions:
          api: {{async: {{on_failure: audit}}, {FUNCTION}}}
        """)
    assert "'audit' names a queue and a topic; write queue:audit or topic:audit" in message
    scenario = parse_scenario(
        textwrap.dedent(f"""\
        duration: 1m
        queues: {{audit: {{}}}}
        topics: {{audit: {{}}}}
        functions:
          api: {{async: {{on_failure: "topic:audit"}}, {FUNCTION}}}
        """)
    )
    assert scenario.functions["api"].async_config.on_failure == "topic:audit"


def test_traffic_needs_rate_with_for_or_a_burst():
    msgs = problems(f"""\
        duration: 1m
        functions: {{api: {{{FUNCTION}}}}}
        traffic:
          - {{target: api, rate: 5/s}}
          - {{target: api}}
          - {{target: api, rate: 5/s, for: 1s, burst: 3}}
        """)
    assert "traffic[0]: missing required key 'for'" in msgs[0]
    assert "traffic[1]: give either 'rate' (with 'for') or 'burst' (with 'at')" in msgs[1]
    assert "traffic[2]: give either" in msgs[2]


def test_async_payload_over_one_megabyte_is_refused():
    # A megabyte cannot be written inline (YAML files stop at 1 MB), but a sample event can be that large.
    from lambdalab.engine.scenario import build_scenario
    from lambdalab.inputs import Document

    data = {
        "duration": 60,
        "functions": {"api": {"behaviour": {"init": 0.1, "duration": 0.05}}},
        "traffic": [{"target": "api", "invocation": "async", "burst": 1, "event": {"blob": "x" * (1024 * 1024)}}],
    }
    with pytest.raises(InputErrors) as caught:
        build_scenario(Document("s.yaml", data, {}))
    [error] = caught.value.errors
    assert error.path == "traffic[0].event"  # {"blob":"<1048576 x>"} is 9 + 1048576 + 2 bytes
    assert error.message == "1048587 bytes is above the asynchronous payload limit of 1048576 bytes"


def test_fifo_names_end_in_dot_fifo():
    msgs = problems(f"""\
        duration: 1m
        queues: {{jobs: {{fifo: true}}, orders.fifo: {{}}}}
        functions: {{api: {{{FUNCTION}}}}}
        """)
    assert "queues.jobs: a FIFO name ends in .fifo and only FIFO names do: name it jobs.fifo" in msgs[0]
    assert (
        "queues.orders.fifo: a FIFO name ends in .fifo and only FIFO names do: name it orders or add fifo: true"
        in msgs[1]
    )


def test_expectations_name_known_metrics_and_parts():
    msgs = problems(f"""\
        duration: 1m
        functions: {{api: {{{FUNCTION}}}}}
        expect:
          - {{metric: Duration, function: api, op: "<", value: 5}}
          - {{metric: Duration.p95, function: api, op: "<", value: 5}}
          - {{metric: Throttles, function: ap, op: "==", value: 0}}
          - {{metric: Throttles, op: "==", value: 0}}
        """)
    assert "write one of: Duration.p50, Duration.p90, Duration.p99, Duration.max" in msgs[0]
    assert "Duration has the parts: p50, p90, p99, max" in msgs[1]
    assert "no function named 'ap' (did you mean 'api'?)" in msgs[2]
    assert "unknown metric 'Throttles'" in msgs[3]  # without function or queue it is an account figure


def test_json_path_error_rules_are_parsed():
    scenario = parse_scenario(
        textwrap.dedent("""\
        duration: 1m
        functions:
          api:
            behaviour:
              init: 1s
              duration: 1s
              errors:
                - {when: {path: "$.Records[0].body", equals: poison}}
                - {every: 3, on_cold_start: false, type: Runtime.ExitError}
        """)
    )
    first, second = scenario.functions["api"].behaviour.errors
    assert first.when.path == ("Records", 0, "body") and first.when.equals == "poison" and first.when.has_equals
    assert (second.every, second.on_cold_start, second.error_type) == (3, False, "Runtime.ExitError")


def test_a_run_has_bounds_so_a_typo_is_an_error_not_a_run_that_never_ends():
    msgs = problems(f"""\
        duration: 1m
        account: {{concurrency: 1000000000}}
        functions: {{api: {{{FUNCTION}}}, zero: {{behaviour: {{init: 0ms, duration: 0ms}}}}}}
        traffic:
          - {{target: api, invocation: sync, rate: 100000/s, for: 1m}}
          - {{target: api, invocation: sync, rate: 1000000000/s, for: 1m}}
          - {{target: api, invocation: sync, burst: 20000000, at: 1s}}
        """)
    assert (
        "account.concurrency: 1,000,000,000 is more than lambdalab simulates (100,000; AWS's default is 1,000)"
        in msgs[0]
    )
    assert "functions.zero.behaviour.duration: an invocation takes some time: give at least 1ms" in msgs[1]
    assert (
        "traffic[1].rate: 60,000,000,000 requests here, 60,006,000,000 in all, is more than one run simulates "
        "(10,000,000): a lower rate or a shorter 'for'"
    ) in msgs[2]
    assert len(msgs) == 3  # counted until the first item over the bound, which is enough to know what to fix


def test_tumbling_windows_are_for_streams_in_whole_seconds_up_to_15_minutes():
    msgs = problems(f"""\
        duration: 1m
        functions: {{f: {{{FUNCTION}}}}}
        queues: {{orders: {{}}}}
        streams: {{a: {{type: kinesis}}, b: {{type: dynamodb}}, c: {{type: kinesis}}, d: {{type: kinesis}}}}
        event_source_mappings:
          - {{source: queue:orders, function: f, tumbling_window: 1m}}
          - {{source: stream:a, function: f, starting_position: LATEST, tumbling_window: 16m}}
          - {{source: stream:b, function: f, starting_position: LATEST, tumbling_window: 1500ms}}
          - {{source: stream:c, function: f, starting_position: LATEST, tumbling_window: 15m}}
          - {{source: stream:d, function: f, starting_position: LATEST}}
        expect:
          - {{stream: d, metric: windows.closed, op: ">", value: 0}}
          - {{stream: c, metric: windows.open, op: ">", value: 0}}
          - {{stream: c, metric: windows.closed, op: ">", value: 0}}
        """)
    assert msgs == [
        "s.yaml:6:41: event_source_mappings[0].tumbling_window: tumbling_window applies only to Kinesis and DynamoDB "
        "Streams mappings (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html)",
        "s.yaml:7:64: event_source_mappings[1].tumbling_window: 960 s is above the maximum of 900 s (15m) "
        "(https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html)",
        "s.yaml:8:64: event_source_mappings[2].tumbling_window: 1.5 s: a tumbling window is a whole number of "
        "seconds (https://docs.aws.amazon.com/lambda/latest/api/API_CreateEventSourceMapping.html)",
        "s.yaml:12:17: expect[0].metric: windows.closed: stream d has no mapping with a tumbling_window, so no "
        "windows to count",
        "s.yaml:13:17: expect[1].metric: windows has the parts: closed, terminated_early, final_invocations",
    ]


def test_tenant_isolation_refuses_what_lambda_refuses():
    """Tenant isolation mode (https://docs.aws.amazon.com/lambda/latest/dg/tenant-isolation.html): every invoke
    carries a tenant id and a normal function takes none; no provisioned concurrency, no event source mapping,
    nothing that invokes without an id (topics, buses, destinations)."""
    msgs = problems(f"""\
        duration: 1m
        queues: {{jobs: {{}}}}
        topics: {{news: {{subscribers: [portal]}}}}
        functions:
          portal: {{tenant_isolation: true, provisioned_concurrency: 2, {FUNCTION}}}
          plain: {{async: {{on_failure: "function:portal"}}, {FUNCTION}}}
        event_source_mappings:
          - {{source: jobs, function: portal}}
        traffic:
          - {{target: portal, rate: 1/s, for: 10s}}
          - {{target: plain, rate: 1/s, for: 10s, tenant: acme}}
          - {{target: "queue:jobs", rate: 1/s, for: 10s, tenants: 3}}
          - {{target: portal, rate: 1/s, for: 10s, tenant: acme, tenants: 3}}
        """)
    expected = [
        "s.yaml:3:31: topics.news.subscribers[0]: portal is in tenant isolation mode, and a topic invokes it "
        "without a tenant id (InvalidParameterValueException)",
        "functions.portal.provisioned_concurrency: a function in tenant isolation mode cannot have provisioned "
        "concurrency",
        "functions.plain.async.on_failure: portal is in tenant isolation mode, and a destination invokes it",
        "traffic[0]: portal is in tenant isolation mode: every request needs a tenant id",
        "traffic[1].tenant: plain is not in tenant isolation mode, and Lambda refuses a tenant id for it "
        "(InvalidParameterValueException)",
        "traffic[2].tenants: tenants is for traffic to a function in tenant isolation mode",
        "traffic[3].tenants: 'tenants' does not go with 'tenant'",
        "event_source_mappings[0].function: portal is in tenant isolation mode, and an event source mapping "
        "invokes it without a tenant id",
    ]
    assert len(msgs) == len(expected), msgs
    for part in expected:
        assert any(part in message for message in msgs), (part, msgs)


@pytest.mark.parametrize(
    "tenant, problem",
    [
        ("'a#b'", "traffic[0].tenant: a tenant id has only the characters letters, digits, spaces and"),
        ("a" * 257, "traffic[0].tenant: a tenant id has 1 to 256 characters, not 257"),
    ],
)
def test_a_fixed_tenant_id_is_checked_as_invoke_checks_it(tenant, problem):
    [message] = problems(f"""\
        duration: 1m
        functions: {{portal: {{tenant_isolation: true, {FUNCTION}}}}}
        traffic: [{{target: portal, rate: 1/s, for: 10s, tenant: {tenant}}}]
        """)
    assert problem in message


def test_tenant_isolation_keys_have_clear_shapes():
    msgs = problems(f"""\
        duration: 1m
        functions:
          portal: {{tenant_isolation: "yes", {FUNCTION}}}
        traffic: [{{target: portal, rate: 1/s, for: 10s, tenants: 0}}]
        expect: [{{function: portal, metric: tenants.seen, op: ">", value: 0}}]
        """)
    assert any("functions.portal.tenant_isolation: 'yes' is not true or false" in m for m in msgs), msgs
    assert any("traffic[0].tenants: 0 is not a whole number of tenants, 1 to 1,000,000" in m for m in msgs), msgs
    msgs = problems(f"""\
        duration: 1m
        functions:
          other:
            tenant_isolation: true
            {FUNCTION}
            versions: {{"1": {{provisioned_concurrency: 1}}}}
          plain: {{{FUNCTION}}}
        expect: [{{function: plain, metric: tenants.seen, op: ">", value: 0}}]
        """)
    assert any(
        "functions.other.versions.1.provisioned_concurrency: a function in tenant isolation mode cannot" in m
        for m in msgs
    ), msgs
    assert any("expect[0].metric: plain is not in tenant isolation mode" in m for m in msgs), msgs


def test_sends_name_existing_standard_targets():
    msgs = problems("""\
        duration: 1m
        queues: {jobs: {}, orders.fifo: {fifo: true}}
        functions:
          a: {behaviour: {init: 100ms, duration: 50ms, sends: [queue:jbos]}}
          b: {behaviour: {init: 100ms, duration: 50ms, sends: [orders.fifo]}}
          d: {behaviour: {init: 100ms, duration: 50ms, sends: [function:nobody]}}
        """)
    assert "s.yaml:4:56: functions.a.behaviour.sends[0]: no queue or topic or bus or function named 'jbos'" in msgs[0]
    assert "(did you mean 'jobs'?)" in msgs[0]
    assert any("functions.b.behaviour.sends[0]: 'orders.fifo' is FIFO" in m for m in msgs), msgs
    assert any("functions.d.behaviour.sends[0]: no queue or topic or bus or function named 'nobody'" in m for m in msgs)


def test_sends_and_recursive_loop_have_a_shape():
    msgs = problems(f"""\
        duration: 1m
        functions:
          c: {{behaviour: {{init: 100ms, duration: 50ms, sends: [stream:clicks]}}}}
          e: {{recursive_loop: Stop, {FUNCTION}}}
          f: {{behaviour: {{init: 100ms, duration: 50ms, sends: [{{target: queue:x, invocation: sync}}]}}}}
        """)
    assert any(
        "functions.f.behaviour.sends[0]" in m and "{target: function:relay, invocation: sync}" in m for m in msgs
    )
    assert any("functions.c.behaviour.sends[0]" in m and "queue:jobs, topic:news, bus:orders" in m for m in msgs)
    assert any("functions.e.recursive_loop: 'Stop' is not one of: Terminate, Allow" in m for m in msgs), msgs


def test_sends_and_recursion_settings_are_built():
    scenario = parse_scenario(f"""\
        duration: 1m
        account: {{recursion_via_destinations: true}}
        queues: {{jobs: {{}}}}
        topics: {{news: {{}}}}
        functions:
          a:
            recursive_loop: Allow
            behaviour: {{init: 100ms, duration: 50ms, sends: [jobs, topic:news, function:b]}}
          b: {{{FUNCTION}}}
        """)
    a, b = scenario.functions["a"], scenario.functions["b"]
    assert [s.target for s in a.behaviour.sends] == ["queue:jobs", "topic:news", "function:b"]
    assert a.recursive_loop == "Allow" and not any(s.sync for s in a.behaviour.sends)
    assert b.behaviour.sends == () and b.recursive_loop == "Terminate"
    assert scenario.account.recursion_via_destinations and scenario.follows_chains


def test_recursion_figures_need_a_scenario_that_follows_chains():
    msgs = problems(f"""\
        duration: 1m
        functions:
          f: {{{FUNCTION}}}
        expect:
          - {{metric: RecursiveInvocationsDropped, function: f, op: "==", value: 0}}
          - {{metric: recursion.loops_stopped, op: "==", value: 0}}
        """)
    assert len(msgs) == 2 and all("give a function `behaviour.sends`" in m for m in msgs), msgs
    assert msgs[1].startswith("s.yaml:6:") and "expect[1].metric: recursion is reported only" in msgs[1]


POLLED = f"""\
    duration: 1m
    queues: {{orders: {{}}}}
    streams: {{clicks: {{type: kinesis}}}}
    functions: {{api: {{{FUNCTION}}}}}
    event_source_mappings:
      - MAPPING
    """


@pytest.mark.parametrize(
    "mapping, message",
    [
        (
            "{source: stream:clicks, function: api, starting_position: LATEST, provisioned_pollers: {minimum: 2}}",
            "event_source_mappings[0].provisioned_pollers: provisioned_pollers applies only to SQS mappings",
        ),
        (
            "{source: queue:orders, function: api, maximum_concurrency: 50, provisioned_pollers: {}}",
            "event_source_mappings[0].provisioned_pollers: You cannot use Provisioned Mode and Maximum concurrency "
            "together",
        ),
        (
            "{source: queue:orders, function: api, provisioned_pollers: {minimum: 20, maximum: 10}}",
            "event_source_mappings[0].provisioned_pollers: minimum (20) is above maximum (10)",
        ),
        (
            "{source: queue:orders, function: api, provisioned_pollers: {minimum: 300}}",
            "event_source_mappings[0].provisioned_pollers.minimum: 300 is above the maximum of 200",
        ),
        (
            "{source: queue:orders, function: api, provisioned_pollers: {minimum: 1}}",
            "event_source_mappings[0].provisioned_pollers.minimum: 1 is below the minimum of 2",
        ),
        (
            "{source: queue:orders, function: api, provisioned_pollers: {maximum: 10001}}",
            "event_source_mappings[0].provisioned_pollers.maximum: 10001 is above the maximum of 10,000 pollers",
        ),
        (
            "{source: queue:orders, function: api, provisioned_pollers: {minimum: 2, maxmum: 5}}",
            "event_source_mappings[0].provisioned_pollers.maxmum: unknown key 'maxmum' (did you mean 'maximum'?)",
        ),
    ],
)
def test_provisioned_pollers_are_checked_as_aws_checks_them(mapping, message):
    msgs = problems(POLLED.replace("MAPPING", mapping))
    assert len(msgs) == 1 and message in msgs[0], msgs


def test_provisioned_pollers_default_to_two_and_two_hundred():
    scenario = parse_scenario(
        textwrap.dedent(POLLED.replace("MAPPING", "{source: queue:orders, function: api, provisioned_pollers: {}}"))
    )
    bounds = scenario.event_source_mappings[0].provisioned_pollers
    assert (bounds.minimum, bounds.maximum) == (2, 200)


def test_several_mappings_may_read_one_source():
    scenario = parse_scenario(
        textwrap.dedent(
            POLLED.replace(
                "- MAPPING",
                "- {source: queue:orders, function: api}\n"
                "      - {source: queue:orders, function: api, provisioned_pollers: {minimum: 3}}\n"
                "      - {source: stream:clicks, function: api, starting_position: LATEST}\n"
                "      - {source: stream:clicks, function: api, starting_position: TRIM_HORIZON}",
            )
        )
    )
    assert [m.source for m in scenario.event_source_mappings] == ["orders", "orders", "clicks", "clicks"]


def test_expectations_about_a_mapping_name_one_that_exists_and_its_figures():
    msgs = problems(
        POLLED.replace("MAPPING", "{source: queue:orders, function: api}").rstrip(" ")
        + """\
    expect:
      - {mapping: 1, metric: events.polled, op: ">", value: 0}
      - {mapping: 0, metric: pollers.busiest, op: ">", value: 0}
      - {mapping: 0, function: api, metric: events.polled, op: ">", value: 0}
    """
    )
    assert "expect[0].mapping: no mapping 1: event_source_mappings has 1, numbered from 0" in msgs[0]
    assert "pollers has the parts: minimum, maximum, max_active, poller_hours" in msgs[1]
    assert (
        "an expectation is about one function, queue, stream, mapping or capacity provider, not function and mapping"
        in msgs[2]
    )


def test_snapstart_waits_for_its_feature():
    msgs = problems(
        """\
        duration: 10s
        functions:
          api:
            snap_start: {apply_on: PublishedVersions}
            behaviour: {init: 1s, duration: 1s}
        """
    )
    assert msgs == [
        "s.yaml:4:5: functions.api.snap_start: SnapStart snapshots are not simulated yet; "
        "this scenario waits for that feature"
    ]


def test_durations_take_days_up_to_366():
    assert parse_duration("3d") == 3 * 86_400 and parse_duration("366d") == 366 * 86_400
    with pytest.raises(ValueError, match="more than a year"):
        parse_duration("367d")


def durable_problems(durable: str, traffic: str = "  - {target: flow:$LATEST, burst: 1, at: 0s}") -> list[str]:
    head = "duration: 1h\nfunctions:\n  flow:\n    behaviour: {init: 100ms, duration: 50ms}\n    durable:\n"
    return problems(head + textwrap.indent(durable, "    ") + "\ntraffic:\n" + traffic + "\n")


def test_durable_configuration_is_checked_against_lambdas_ranges():
    (required,) = durable_problems("  steps: [{step: a}]")
    assert "functions.flow.durable" in required and "'execution_timeout'" in required
    (too_long,) = durable_problems("  execution_timeout: 400d\n  steps: [{step: a}]")
    assert "functions.flow.durable.execution_timeout" in too_long and "is more than a year" in too_long
    (short,) = durable_problems("  execution_timeout: 1d\n  retention: 12h\n  steps: [{step: a}]")
    assert "functions.flow.durable.retention: 12h is outside 24h - 2160h" in short
    (none,) = durable_problems("  execution_timeout: 1d")
    assert "missing required key 'steps'" in none


def test_a_durable_function_with_code_has_no_modelled_workflow(tmp_path):
    durable = "durable: {execution_timeout: 1d, steps: [{step: a}]}"
    text = f"duration: 1h\nfunctions:\n  flow:\n    code: {tmp_path}\n    handler: app.handler\n    {durable}\n"
    (both,) = problems(text + "traffic:\n  - {target: flow:$LATEST, burst: 1}\n")
    assert "functions.flow.durable.steps: a function with `code:` runs its handler's own workflow" in both


def test_durable_operations_are_checked():
    (wait,) = durable_problems("  execution_timeout: 1d\n  steps: [{wait: w, for: 500ms}]")
    assert "functions.flow.durable.steps[0].for" in wait and "at least 1s" in wait
    (two,) = durable_problems("  execution_timeout: 1d\n  steps: [{step: a, wait: b}]")
    assert "functions.flow.durable.steps[0]: an operation is one of step, wait" in two
    (key,) = durable_problems("  execution_timeout: 1d\n  steps: [{step: a, for: 1s}]")
    assert "functions.flow.durable.steps[0].for: a step takes duration" in key
    (big,) = durable_problems("  execution_timeout: 1d\n  steps: [{step: a, size: 2MB}]")
    assert "steps[0].size: 2097152 bytes is above the 1048576 bytes a checkpointed result may be" in big
    (nested,) = durable_problems("  execution_timeout: 1d\n  steps: [{map: m, items: 2, do: [{wait: w}]}]")
    assert "functions.flow.durable.steps[0].do[0]: missing required key 'for'" in nested


def test_a_durable_function_is_started_by_a_qualified_arn():
    (unqualified,) = durable_problems("  execution_timeout: 1d\n  steps: [{step: a}]", "  - {target: flow, burst: 1}")
    assert "traffic[0].target: a durable function is invoked by a qualified ARN: write flow:$LATEST" in unqualified


def test_execution_names_and_callback_traffic_are_checked():
    config = "  execution_timeout: 1d\n  steps: [{callback: approve}]"
    (name,) = durable_problems(config, "  - {target: flow:$LATEST, burst: 1, execution_name: 'order #{n}'}")
    assert "traffic[0].execution_name: 'order #{n}': an execution's name is 1-64 of" in name
    (path,) = durable_problems(config, "  - {target: flow:$LATEST, burst: 1, execution_name: $.order, event: {}}")
    assert "traffic[0].execution_name: the event has no name at $.order" in path
    (callback,) = durable_problems(config, "  - {target: 'callback:flow', execution: e-1, callback: aprove, burst: 1}")
    assert "traffic[0].callback: flow's workflow has no callback 'aprove' (did you mean 'approve'?)" in callback
    (function,) = durable_problems(config, "  - {target: 'callback:flw', execution: e-1, callback: approve, burst: 1}")
    assert "traffic[0].target: no durable function named 'flw'" in function
    (missing,) = durable_problems(config, "  - {target: 'callback:flow', callback: approve, burst: 1}")
    assert "missing required key 'execution'" in missing


def test_durable_keys_on_an_ordinary_function_are_refused():
    assert problems(f"""\
        duration: 1m
        functions:
          api: {{{FUNCTION}}}
        traffic:
          - {{target: api, burst: 1, execution_name: a}}
        expect:
          - {{function: api, metric: durable.executions.succeeded, op: ">", value: 0}}
        """) == [
        "s.yaml:5:29: traffic[0].execution_name: api is not a durable function (it has no `durable` block)",
        "s.yaml:7:21: expect[0].metric: api is not a durable function: it has no durable figures",
    ]


def test_destinations_and_subscriptions_cannot_start_a_durable_function_by_its_bare_name():
    found = problems(f"""\
        duration: 1m
        queues: {{jobs: {{}}}}
        topics: {{news: {{subscribers: [flow]}}}}
        functions:
          flow:
            {FUNCTION}
            durable: {{execution_timeout: 1h, steps: [{{step: a}}]}}
          api:
            {FUNCTION}
            async: {{on_success: "function:flow"}}
        """)
    assert [p.split(": ", 2)[1] for p in found] == ["topics.news.subscribers[0]", "functions.api.async.on_success"]
    assert "flow is a durable function, invoked only by a qualified ARN" in found[0]
