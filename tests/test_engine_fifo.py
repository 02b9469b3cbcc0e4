"""FIFO queues read by a mapping: one batch per message group at a time, order kept per group, a failing
message holding only its own group."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import pytest
from engine_helpers import Run, simulate
from hypothesis import given, settings
from hypothesis import strategies as st

HANDLERS = Path(__file__).parent / "handlers"


def fifo_run(
    traffic: str,
    *,
    mapping: str = "batch_size: 1",
    behaviour: str = "{init: 0ms, duration: 1s}",
    duration: str = "5m",
    extra: str = "",
    **kwargs,
) -> Run:
    return simulate(
        f"""
        duration: {duration}
        functions:
          f:
            timeout: 10s
            behaviour: {behaviour}
            {extra}
        queues:
          orders.fifo: {{fifo: true, visibility_timeout: 60s, max_receive_count: 3, dead_letter: dlq.fifo}}
          dlq.fifo: {{fifo: true}}
        event_source_mappings:
          - {{source: queue:orders.fifo, function: f, {mapping}}}
        traffic:
          - {{target: queue:orders.fifo, {traffic}}}
        """,
        **kwargs,
    )


def succeeded_in_order(run: Run) -> list[tuple[str, int]]:
    ok = {d["request_id"] for _, d in run.of("invoke_end") if d["error"] is None}
    ended = {d["request_id"]: t for t, d in run.of("invoke_end")}
    batches = sorted((d for _, d in run.of("batch") if d["request_id"] in ok), key=lambda d: ended[d["request_id"]])
    return [(g, n) for b in batches for g, n in zip(b["groups"], b["messages"])]


@pytest.mark.parametrize("groups, most", [(1, 1), (4, 4)])
def test_concurrency_grows_only_with_the_number_of_message_groups(groups, most):
    run = fifo_run(f"burst: 200, at: 0s, message_groups: {groups}, event: {{n: 1}}")
    assert run.metrics()["ConcurrentExecutions"] == most
    assert run.queue("orders.fifo")["NumberOfMessagesDeleted"] == 200


def test_a_failing_message_holds_its_group_and_no_other():
    run = fifo_run(
        "rate: 2/s, for: 20s, message_group: $.customer, events: [{customer: a, poison: true}, {customer: b}, "
        "{customer: a}, {customer: b}]",
        behaviour="{init: 0ms, duration: 100ms, errors: {when: {path: $.poison, equals: true}}}",
        duration="2m",
    )
    done = succeeded_in_order(run)
    assert sum(1 for g, _ in done if g == "b") == 20  # every b message passes at once
    assert not [n for g, n in done if g == "a"]  # a's first message fails, so a's later ones wait behind it
    assert run.queue("orders.fifo")["ApproximateNumberOfMessagesVisible"] == 19  # a's other messages, waiting


def test_the_poison_message_goes_to_the_dead_letter_queue_and_its_group_moves_on():
    run = fifo_run(
        "burst: 5, at: 0s, message_group: g1, events: [{poison: true}, {n: 2}, {n: 3}, {n: 4}, {n: 5}]",
        behaviour="{init: 0ms, duration: 100ms, errors: {when: {path: $.poison, equals: true}}}",
        duration="5m",
    )
    assert run.queue("dlq.fifo")["NumberOfMessagesSent"] == 1
    assert [n for _, n in succeeded_in_order(run)] == [2, 3, 4, 5]
    assert run.times("batch")[-4] == pytest.approx(180.0, abs=1)  # after 3 receives, 60 s apart


def test_real_code_sees_the_fifo_attributes():
    run = fifo_run(
        "burst: 3, at: 0s, message_group: $.customer, events: [{customer: ana}, {customer: bo}]",
        behaviour="{init: 0ms, duration: 10ms}",
        mapping="batch_size: 10",
        extra=f"code: {HANDLERS}\n            handler: app.fifo_event_shape",
    )
    assert run.metrics()["Errors"] == 0 and run.queue("orders.fifo")["NumberOfMessagesDeleted"] == 3


BIG_BODY = "{n: 1, blob: " + "x" * 700_000 + "}"  # nine fit in a 6 MB batch: the payload limit cuts batches of ten


@settings(max_examples=20, deadline=None)
@given(
    groups=st.integers(1, 6),
    batch=st.integers(1, 10),
    rate=st.sampled_from([0.0, 0.3]),
    partial=st.booleans(),
    window=st.sampled_from(["", ", batching_window: 2s"]),
    big=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_each_group_is_processed_in_order_and_nothing_is_lost(groups, batch, rate, partial, window, big, seed):
    errors = f", errors: {{rate: {rate}}}" if rate else ""
    run = fifo_run(
        f"rate: 10/s, for: 10s, message_groups: {groups}, event: {BIG_BODY if big else '{n: 1}'}",
        mapping=f"batch_size: {batch}, report_batch_item_failures: {str(partial).lower()}{window}",
        behaviour=f"{{init: 0ms, duration: 200ms{errors}}}",
        duration="4h",
        seed=seed,
    )
    queue, dlq = run.queue("orders.fifo"), run.queue("dlq.fifo")
    assert queue["NumberOfMessagesDeleted"] + dlq["NumberOfMessagesSent"] == 100
    assert queue["ApproximateNumberOfMessagesVisible"] == queue["ApproximateNumberOfMessagesNotVisible"] == 0
    last: dict[str, int] = defaultdict(int)
    for group, number in succeeded_in_order(run):
        assert number > last[group]
        last[group] = number
