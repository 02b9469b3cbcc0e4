"""Tumbling windows on stream mappings: windows aligned on the epoch, batches of one window, a final invocation
per window with the state the shard built, the state passed along and kept through retries, a window ended
early past 1 MB, the report's `windows` (the checks on `tumbling_window` are in
test_scenario_validation.py).

Facts: https://docs.aws.amazon.com/lambda/latest/dg/services-kinesis-windows.html (windows up to 900 s, state up
to 1 MB per shard, the event's window fields, `{"state": ..., "batchItemFailures": [...]}` returned)."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

from engine_helpers import Run, report_json, simulate
from hypothesis import given, settings
from hypothesis import strategies as st

from lambdalab.engine.destinations import EPOCH_MS
from lambdalab.engine.explain import sentence

HANDLERS = Path(__file__).parent / "handlers"
EPOCH_S = EPOCH_MS // 1000
MARK = "WINDOW "


def window_run(
    mapping: str,
    traffic: str,
    *,
    function: str = "behaviour: {init: 0ms, duration: 100ms}",
    stream: str = "{type: kinesis}",
    duration: str = "1m",
    seed: int | None = None,
) -> Run:
    return simulate(
        f"""
        duration: {duration}
        functions:
          f:
            timeout: 30s
            {function}
        streams: {{clicks: {stream}}}
        event_source_mappings:
          - {{source: stream:clicks, function: f, starting_position: TRIM_HORIZON, {mapping}}}
        traffic:
          - {{target: stream:clicks, {traffic}}}
        """,
        seed=seed,
    )


def windows(run: Run) -> dict:
    return run.report["streams"]["clicks"]["windows"]


def batches(run: Run) -> list[list[int]]:
    return [d["records"] for _, d in run.of("batch")]


def finals(run: Run) -> list[tuple[float, dict]]:
    return run.of("window_final_done")


def printed(run: Run) -> list[dict]:
    """What the real handler printed of each event it got, in order."""
    return [
        json.loads(line[len(MARK) :])
        for _, d in run.of("invoke_end")
        for line in (d["output"] or "").splitlines()
        if line.startswith(MARK)
    ]


def window_of(t: float, length: int) -> int:
    return int((EPOCH_S + t) // length)  # as the engine computes it


# --- windows and batches --------------------------------------------------------------------------------


def test_windows_align_on_the_epoch_and_a_batch_never_spans_two():
    """An 11 s window does not divide the Unix time of the run's start (2026-01-01, 8 s past a multiple of 11),
    so the windows start at t = -8, 3, 14, 25 s. A 20 s batching window would gather everything into one batch;
    the tumbling window cuts the batches at its boundaries."""
    run = window_run("tumbling_window: 11s, batching_window: 20s", "rate: 1/s, for: 30s, event: {n: 1}")
    arrivals = {n: n - 1.0 for n in range(1, 31)}  # record n (one shard) arrives at t = n - 1
    assert batches(run) == [list(range(1, 4)), list(range(4, 15)), list(range(15, 26)), list(range(26, 31))]
    for batch in batches(run):
        assert len({window_of(arrivals[n], 11) for n in batch}) == 1
    ends = [d["window"] for _, d in finals(run)]
    assert ends == [[-8.0, 3.0], [3.0, 14.0], [14.0, 25.0], [25.0, 36.0]]
    assert all((EPOCH_S + start) % 11 == 0 for start, _ in ends)
    # Each final invocation comes after its window's end, and sees every record the window held.
    assert all(t >= d["window"][1] for t, d in finals(run))
    assert [d["records"] for _, d in finals(run)] == [3, 11, 11, 5]
    assert windows(run) == {"closed": 4, "terminated_early": 0, "final_invocations": 4, "records": [3, 11, 11, 5]}
    assert run.outcomes()["requests"] == 8 and run.outcomes()["succeeded"] == 8  # 4 batches, 4 final invocations


def test_a_backlog_is_read_window_by_window_and_each_window_counts_its_records():
    """100 records already in the stream, one a second before the run: ten 10 s windows of ten records each,
    though one batch of 100 could hold them all."""
    run = window_run(
        "tumbling_window: 10s",
        "burst: 1, at: 5s, event: {n: 1}",
        stream="{type: kinesis, backlog: {records: 100, over: 100s}}",
    )
    assert batches(run)[:10] == [list(range(i, i + 10)) for i in range(1, 101, 10)]
    assert windows(run)["records"] == [10] * 10 + [1]  # and the record written at t = 5 s, its window closed at 10 s
    assert run.report["streams"]["clicks"]["records"]["processed"] == 101


def test_each_shard_keeps_its_own_windows():
    """Two shards, one key each: per minute, each shard's final invocation counts that shard's records."""
    run = window_run(
        "tumbling_window: 1m",
        "rate: 4/s, for: 3m, partition_key: $.user, events: [{user: ana}, {user: bo}]",
        stream="{type: kinesis, shards: 2}",
        duration="4m",
    )
    done = finals(run)
    assert sorted((d["window"][0], d["shard"], d["records"]) for _, d in done) == [
        (start, shard, 120) for start in (0.0, 60.0, 120.0) for shard in (0, 1)
    ]
    assert windows(run)["closed"] == 6 and sum(windows(run)["records"]) == 720


def test_a_failing_batch_is_retried_without_advancing_the_window():
    """The poison record's batch fails three times and is given up: the window's count leaves it out, and the
    retries did not count its records twice."""
    run = window_run(
        "tumbling_window: 30s, batch_size: 2, maximum_retry_attempts: 2",
        "burst: 8, at: 0s, events: [{n: 0}, {n: 1}, {n: 2}, {poison: true}, {n: 4}, {n: 5}, {n: 6}, {n: 7}]",
        function="behaviour: {init: 0ms, duration: 100ms, errors: {when: {path: $.poison, equals: true}}}",
    )
    assert batches(run) == [[1, 2], [3, 4], [3, 4], [3, 4], [5, 6], [7, 8]]
    assert run.report["streams"]["clicks"]["records"]["discarded"] == 2
    assert windows(run) == {"closed": 1, "terminated_early": 0, "final_invocations": 1, "records": [6]}


def test_a_window_with_no_new_records_closes_at_its_end_not_before():
    """Its final invocation starts at t = 900 s and lasts 100 ms."""
    run = window_run("tumbling_window: 15m", "burst: 3, at: 10s, event: {n: 1}", duration="20m")
    ((t, done),) = finals(run)
    assert t == 900.1 and done["window"] == [0.0, 900.0] and done["records"] == 3
    assert "window closes with 3 record(s)" in sentence("window_final_done", t, done, run.sim.scenario)


def test_a_run_that_ends_inside_a_window_leaves_it_open():
    run = window_run("tumbling_window: 1m", "rate: 1/s, for: 90s, event: {n: 1}", duration="100s")
    assert windows(run) == {"closed": 1, "terminated_early": 0, "final_invocations": 1, "records": [60]}


def test_the_report_is_the_same_byte_for_byte_on_every_run():
    text = """
        duration: 3m
        seed: 7
        functions: {f: {behaviour: {init: 200ms, duration: {dist: exponential, mean: 300ms}, errors: {rate: 0.1}}}}
        streams: {clicks: {type: dynamodb, shards: 3}}
        event_source_mappings:
          - {source: stream:clicks, function: f, starting_position: TRIM_HORIZON, tumbling_window: 20s,
             parallelization_factor: 2, batch_size: 5}
        traffic:
          - {target: stream:clicks, rate: 30/s, arrivals: poisson, for: 150s, partition_key: $.user,
             events: [{user: a}, {user: b}, {user: c}, {user: d}]}
        """
    first = report_json(text)
    assert first == report_json(text)
    report = json.loads(first)
    assert (
        report["streams"]["clicks"]["windows"]["final_invocations"] > report["streams"]["clicks"]["windows"]["closed"]
    )
    assert report_json(text, seed=8) != first


def test_a_mapping_without_a_window_has_no_windows_in_its_report():
    run = window_run("batch_size: 10", "burst: 3, at: 0s, event: {n: 1}")
    assert "windows" not in run.report["streams"]["clicks"]
    assert not finals(run)


@settings(max_examples=25, deadline=None)
@given(
    length=st.sampled_from([1, 3, 7, 11, 60]),
    shards=st.integers(1, 3),
    factor=st.integers(1, 3),
    batch=st.integers(1, 20),
    keys=st.integers(1, 12),
    error_rate=st.sampled_from([0.0, 0.2, 0.5]),
    bisect=st.booleans(),
    retries=st.sampled_from([-1, 0, 2]),
    batching=st.sampled_from(["", ", batching_window: 3s"]),
    seed=st.integers(0, 1000),
)
def test_whatever_the_settings_each_record_counts_once_in_one_window(
    length, shards, factor, batch, keys, error_rate, bisect, retries, batching, seed
):
    """Every record ends in one place; each key's records succeed in order; every window closes in the end, and
    the closed windows' counts add up to the records processed. On one shard, where a record's number tells its
    arrival (record n at t = (n - 1) / 20 s), no batch spans two windows."""
    errors = f", errors: {{rate: {error_rate}}}" if error_rate else ""
    run = window_run(
        f"tumbling_window: {length}, batch_size: {batch}, parallelization_factor: {factor}, "
        f"bisect_on_error: {str(bisect).lower()}, maximum_retry_attempts: {retries}{batching}",
        f"rate: 20/s, for: 10s, partition_keys: {keys}, event: {{n: 1}}",
        function=f"behaviour: {{init: 0ms, duration: 50ms{errors}}}",
        stream=f"{{type: kinesis, shards: {shards}}}",
        duration="10m",
        seed=seed,
    )
    figures = run.report["streams"]["clicks"]["records"]
    assert sum(figures.values()) == 200 and figures["in_flight"] == figures["unread"] == 0
    ok = {d["request_id"] for _, d in run.of("invoke_end") if d["error"] is None}
    last: dict[str, int] = {}
    for _, b in run.of("batch"):
        if b["request_id"] in ok:
            for number, key in zip(b["records"], b["keys"]):
                assert number > last.get(key, 0)
                last[key] = number
        if shards == 1:
            assert len({window_of((n - 1) / 20, length) for n in b["records"]}) == 1, b["records"]
    figures_w = windows(run)
    assert all(lane.open is None for lane in run.sim.streams["clicks"].consumer.lanes)
    assert sum(figures_w["records"]) == figures["processed"]
    assert figures_w["closed"] <= figures_w["final_invocations"] and figures_w["terminated_early"] == 0
    if not error_rate:
        assert figures_w["closed"] == figures_w["final_invocations"]


# --- real code: the event's fields and the state it returns ---------------------------------------------


def real(handler: str) -> str:
    return (
        f"code: {HANDLERS}\n            handler: app.{handler}\n            behaviour: {{init: 0ms, duration: 100ms}}"
    )


def test_real_code_gets_the_state_its_last_invocation_returned_and_the_window_fields():
    """The handler sums `n` over the window. Record 4 fails its first try and the first final invocation fails:
    each retry gets the state as it was before the failure, so no record is counted twice."""
    run = window_run(
        "tumbling_window: 30s, batch_size: 3",
        "burst: 7, at: 1s, events: [{n: 1}, {n: 2}, {n: 3}, {n: 4, flaky: true}, {n: 5}, {n: 6}, {n: 7}]",
        function=real("window_sum"),
    )
    seen = printed(run)
    assert [len(e["sequence_numbers"]) for e in seen] == [3, 3, 3, 1, 0, 0]
    assert [e["state"] for e in seen] == [
        {},
        {"count": 3, "sum": 6},  # the batch with the flaky record: fails
        {"count": 3, "sum": 6},  # its retry: the same state
        {"count": 6, "sum": 21},
        {"count": 7, "sum": 28},  # the final invocation: fails
        {"count": 7, "sum": 28},  # and again, with the same state
    ]
    assert [e["isFinalInvokeForWindow"] for e in seen] == [False] * 4 + [True] * 2
    assert not any(e["isWindowTerminatedEarly"] for e in seen)
    stream = run.sim.streams["clicks"]
    first = seen[0]
    assert first["window"] == {"start": "2026-01-01T00:00:00Z", "end": "2026-01-01T00:00:30Z"}
    assert first["shardId"] == "shardId-000000000000" and first["eventSourceARN"] == stream.arn
    start = datetime.fromisoformat(first["window"]["start"].replace("Z", "+00:00"))
    assert start.timestamp() % 30 == 0 and start.tzinfo == timezone.utc
    assert windows(run) == {"closed": 1, "terminated_early": 0, "final_invocations": 2, "records": [7]}
    assert run.outcomes()["failed"] == 2 and run.outcomes()["retried"] == 2


def test_a_state_over_one_megabyte_ends_the_window_early_and_the_rest_starts_fresh():
    """400,000 characters a record: after the third record the state passes 1 MB, so Lambda ends the window
    with a final invocation (both flags true) carrying that state; records 4 and 5 start again from nothing."""
    run = window_run(
        "tumbling_window: 1m, batch_size: 1",
        "burst: 5, at: 0s, event: {n: 1}",
        function=real("window_big_state"),
        duration="70s",
    )
    seen = printed(run)
    assert [(e["records"], e["state_chars"], e["isFinalInvokeForWindow"]) for e in seen] == [
        (1, 0, False),
        (1, 400_000, False),
        (1, 800_000, False),
        (0, 1_200_000, True),  # ended early
        (1, 0, False),
        (1, 400_000, False),
        (0, 800_000, True),  # the window's end
    ]
    assert [e["isWindowTerminatedEarly"] for e in seen if e["isFinalInvokeForWindow"]] == [True, False]
    assert {json.dumps(e["window"]) for e in seen} == {json.dumps(seen[0]["window"])}  # one window throughout
    assert windows(run) == {"closed": 2, "terminated_early": 1, "final_invocations": 2, "records": [3, 2]}


def test_a_response_without_state_is_a_failed_invocation():
    """The batch is tried twice and given up; the window's final invocation fails too, and Lambda tries it
    again and again: the shard waits until it succeeds, which this code never lets it."""
    run = window_run(
        "tumbling_window: 10s, maximum_retry_attempts: 1",
        "burst: 2, at: 0s, event: {n: 1}",
        function=real("window_without_state"),
        duration="15s",
    )
    assert run.report["streams"]["clicks"]["records"]["discarded"] == 2
    assert batches(run) == [[1, 2], [1, 2]]
    figures = windows(run)
    assert figures["closed"] == 0 and figures["final_invocations"] == 51  # from t = 10 s, one every 100 ms
    assert run.outcomes()["in_flight"] == 1  # the last one, when the run ends
    assert run.outcomes()["retried"] == 1 + 50  # the batch's one retry, and every final invocation that ended
    t, failed = finals(run)[0]
    assert failed["outcome"] == "retrying" and failed["attempts"] == 1
    assert "failed at t=10.10 s (attempt 1): the shard tries it again" in sentence(
        "window_final_done", t, failed, run.sim.scenario
    )
