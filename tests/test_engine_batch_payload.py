"""A mapping's batch is cut off before its payload passes 6 MB, for every source; one item always goes."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_helpers import Run, scenario, simulate

from lambdalab.engine import Simulation

HANDLERS = Path(__file__).parent / "handlers"
MEGABYTE_BODY = "{blob: " + "x" * 1_000_000 + "}"

SOURCES = {
    "sqs": ("queues: {orders: {}}", "queue:orders", "", "messages"),
    "fifo": ("queues: {orders.fifo: {fifo: true}}", "queue:orders.fifo", "message_group: g, ", "messages"),
    "kinesis": ("streams: {clicks: {type: kinesis}}", "stream:clicks", "partition_key: k, ", "records"),
    "dynamodb": ("streams: {clicks: {type: dynamodb}}", "stream:clicks", "partition_key: k, ", "records"),
}


def big_items_run(
    source: str,
    count: int,
    *,
    function_extra: str = "",
    mapping: str = "batch_size: 10",
    arrivals: str = "burst: {count}, at: 0s",
    body: str = MEGABYTE_BODY,
) -> Run:
    resources, target, key, _ = SOURCES[source]
    position = ", starting_position: TRIM_HORIZON" if target.startswith("stream") else ""
    return simulate(f"""
        duration: 1m
        functions:
          f:
            timeout: 30s
            behaviour: {{init: 0ms, duration: 100ms}}
            {function_extra}
        {resources}
        event_source_mappings:
          - {{source: {target}, function: f, {mapping}{position}}}
        traffic:
          - {{target: {target}, {arrivals.format(count=count)}, {key}event: {body}}}
        """)


def batch_sizes(run: Run, source: str) -> list[int]:
    return [len(d[SOURCES[source][3]]) for _, d in run.of("batch")]


@pytest.mark.parametrize(
    "source, sizes",
    [
        ("sqs", [6, 4]),  # about 1 MB each: six fit in 6 MB (6,291,456 bytes)
        ("fifo", [6, 4]),
        ("kinesis", [4, 4, 2]),  # base64 makes each record's data 1.33 MB: four fit
        ("dynamodb", [6, 4]),
    ],
)
def test_a_batch_stops_before_its_payload_passes_6_mb(source, sizes):
    run = big_items_run(source, 10)
    assert batch_sizes(run, source) == sizes
    assert run.fn()["outcomes"]["succeeded"] == len(sizes)


@pytest.mark.parametrize(
    "source, first_batch, overflowed_at",
    [
        ("sqs", 6, 6.0),  # the seventh megabyte arrives at 6 s: the six before it go at once
        ("fifo", 6, 6.0),
        ("kinesis", 4, 4.0),  # the fifth 1.33 MB record, at 4 s, on the shard's 1 s polling beat
        ("dynamodb", 6, 6.0),
    ],
)
def test_a_batching_window_ends_when_its_payload_passes_6_mb(source, first_batch, overflowed_at):
    """Lambda invokes when the batch size is reached, the window ends or the payload reaches 6 MB, whichever
    comes first (https://docs.aws.amazon.com/lambda/latest/dg/invocation-eventsourcemapping.html)."""
    window = "batch_size: 10, batching_window: 50s"  # nine items a second apart: the size alone never ends it
    run = big_items_run(source, 9, mapping=window, arrivals="rate: 1/s, start: 0s, for: {count}s")
    assert batch_sizes(run, source)[0] == first_batch
    assert run.times("batch")[0] == pytest.approx(overflowed_at)
    small = big_items_run(source, 9, mapping=window, arrivals="rate: 1/s, start: 0s, for: {count}s", body="{n: 1}")
    assert batch_sizes(small, source) == [9] and small.times("batch") == [pytest.approx(50.0)]


def test_small_items_fill_the_batch_size():
    run = simulate("""
        duration: 1m
        functions: {f: {behaviour: {init: 0ms, duration: 100ms}}}
        queues: {orders: {}}
        event_source_mappings: [{source: queue:orders, function: f, batch_size: 10}]
        traffic: [{target: queue:orders, burst: 10, at: 0s, event: {n: 1}}]
        """)
    assert batch_sizes(run, "sqs") == [10]


@pytest.mark.parametrize("source", ["sqs", "kinesis"])
def test_the_events_real_code_receives_fit_the_limit(source):
    run = big_items_run(source, 7, function_extra=f"code: {HANDLERS}\n            handler: app.fits_the_payload_limit")
    assert run.fn()["outcomes"]["succeeded"] == len(run.of("batch")) > 1


@pytest.mark.parametrize("source", list(SOURCES))
def test_the_waiting_payload_is_always_what_the_waiting_items_weigh(source):
    """The running totals behind the 6 MB rule, through failures, returns and redrives."""
    resources, target, key, _ = SOURCES[source]
    position = ", starting_position: TRIM_HORIZON" if target.startswith("stream") else ""
    sim = Simulation(
        scenario(f"""
        duration: 2m
        functions: {{f: {{timeout: 5s, behaviour: {{init: 0ms, duration: 300ms, errors: {{rate: 0.3}}}}}}}}
        {resources}
        event_source_mappings:
          - {{source: {target}, function: f, batch_size: 10, batching_window: 2s{position}}}
        traffic:
          - {{target: {target}, rate: 7/s, start: 0s, for: 30s, \
{key}events: [{{n: 1}}, {{blob: {"y" * 300_000}}}, {{s: short}}]}}
        """)
    )
    checked = 0
    for second in range(1, 121):
        sim.advance_to(float(second))
        for mapping in sim.mappings:
            if hasattr(mapping, "lanes"):
                for lane in mapping.lanes:
                    assert lane.pending_bytes == sum(mapping.room.cost(r.body) for r in lane.pending)
                    checked += len(lane.pending)
            else:
                ready = mapping.queue.ready
                assert ready.payload == sum(mapping.room.cost(m.body) for m in ready)
                checked += len(ready)
    assert checked > 0  # something was waiting at some point
