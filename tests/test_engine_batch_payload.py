"""A mapping's batch is cut off before its payload passes 6 MB, for every source; one item always goes."""

from __future__ import annotations

from pathlib import Path

import pytest
from engine_helpers import Run, simulate

HANDLERS = Path(__file__).parent / "handlers"
MEGABYTE_BODY = "{blob: " + "x" * 1_000_000 + "}"

SOURCES = {
    "sqs": ("queues: {orders: {}}", "queue:orders", "", "messages"),
    "fifo": ("queues: {orders.fifo: {fifo: true}}", "queue:orders.fifo", "message_group: g, ", "messages"),
    "kinesis": ("streams: {clicks: {type: kinesis}}", "stream:clicks", "partition_key: k, ", "records"),
    "dynamodb": ("streams: {clicks: {type: dynamodb}}", "stream:clicks", "partition_key: k, ", "records"),
}


def big_items_run(source: str, count: int, *, function_extra: str = "") -> Run:
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
          - {{source: {target}, function: f, batch_size: 10{position}}}
        traffic:
          - {{target: {target}, burst: {count}, at: 0s, {key}event: {MEGABYTE_BODY}}}
        """)


def batch_sizes(run: Run, source: str) -> list[int]:
    return [len(d[SOURCES[source][3]]) for _, d in run.of("batch")]


@pytest.mark.parametrize("source, sizes", [
    ("sqs", [6, 4]),  # about 1 MB each: six fit in 6 MB (6,291,456 bytes)
    ("fifo", [6, 4]),
    ("kinesis", [4, 4, 2]),  # base64 makes each record's data 1.33 MB: four fit
    ("dynamodb", [6, 4]),
])
def test_a_batch_stops_before_its_payload_passes_6_mb(source, sizes):
    run = big_items_run(source, 10)
    assert batch_sizes(run, source) == sizes
    assert run.fn()["outcomes"]["succeeded"] == len(sizes)


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
