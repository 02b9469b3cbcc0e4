"""The simulator's text panels: counters per function; asynchronous events waiting to be retried, queues and
stream shards."""

from __future__ import annotations

from textual.content import Content
from textual.widgets import Static

from lambdalab.engine.simulation import Snapshot, StreamView


class Counters(Static):
    """Each function's counters so far, one block per function: its whole name on a line of its own (two
    functions that share a prefix stay two names), then what happened to its requests, in words."""

    COUNTED = (
        ("invocations", "invocations"),
        ("errors", "errors"),
        ("throttles", "throttled"),
        ("denied", "denied"),
        ("cold_starts", "cold starts"),
        ("retried", "retried"),
        ("dropped", "dropped"),
        ("to_dlq", "to the DLQ"),
    )

    def show(self, snapshot: Snapshot, costs: dict[str, float]) -> None:
        blocks = []
        for name, fn in snapshot.functions.items():
            figures = [
                f"{fn.counters[key]:,} {label}"
                for key, label in self.COUNTED
                if fn.counters[key] or key == "invocations"
            ]
            blocks.append(f"{name}: {fn.busy:,} busy now, ${costs.get(name, 0.0):.6f}\n  " + ", ".join(figures))
        self.update(Content("\n".join(blocks)))


class AsyncPanel(Static):
    """Lambda's internal queue: each waiting event's attempts and next try; queues (DLQs, destinations) filling;
    each stream shard's backlog, retries and how far behind it is."""

    def show(self, snapshot: Snapshot) -> None:
        lines = []
        for name, fn in snapshot.functions.items():
            if not fn.waiting_count:
                continue
            lines.append(f"{name}: {fn.waiting_count:,} event(s) waiting in Lambda's queue")
            for event in fn.waiting:
                why = "retry after an error" if event.reason == "retry" else "backoff after a throttle"
                lines.append(
                    f"  {event.request_id[:8]}  attempts {event.attempts}, {why}, next try at {event.next_try_s:.1f}s"
                )
            if fn.waiting_count > len(fn.waiting):
                lines.append(f"  ... and {fn.waiting_count - len(fn.waiting):,} more")
        if not lines:
            lines.append("No asynchronous event is waiting for a retry.")
        for name, queue in snapshot.queues.items():
            being_read = (
                f", {queue['in_flight']:,} in flight, {queue['deleted']:,} deleted"
                if queue["in_flight"] or queue["deleted"]
                else ""
            )
            lines.append(f"queue {name}: {queue['visible']:,} visible{being_read}, {queue['sent']:,} sent in all")
        for stream in snapshot.streams.values():
            lines += stream_lines(stream)
        self.update(Content("\n".join(lines)))


def stream_lines(stream: StreamView) -> list[str]:
    """A stream's records in words, then one line per shard: a shard retrying the same batch is one that is stuck."""
    records = stream.records
    if not records:
        return [f"stream {stream.name} ({stream.kind}): {stream.written:,} written, no mapping reads it"]
    given_up = records["to_on_failure"] + records["discarded"]
    lines = [
        f"stream {stream.name} ({stream.kind}): {stream.written:,} written, {records['processed']:,} processed, "
        f"{records['in_flight']:,} in a batch, {records['unread']:,} unread"
        + (f", {given_up:,} given up" if given_up else "")
        + (f", {records['expired']:,} expired" if records["expired"] else "")
        + f"; IteratorAge max {stream.iterator_age_ms / 1000:,.1f} s"
    ]
    for shard in stream.shards:
        retrying = f", failed {shard['attempts']} time(s) in a row" if shard["attempts"] else ""
        behind = f", oldest {shard['behind_ms'] / 1000:,.1f} s old" if shard["waiting"] else ""
        lines.append(
            f"  {shard['shard']}: {shard['waiting']:,} waiting, {shard['busy']} batch(es) running{retrying}{behind}"
        )
    return lines
