"""Kinesis and DynamoDB Streams: records on shards, and the event source mapping that reads them in order.

As https://docs.aws.amazon.com/lambda/latest/dg/with-kinesis.html and
https://docs.aws.amazon.com/lambda/latest/dg/with-ddb.html describe it: each shard is read in order, one
batch at a time (or `parallelization_factor` batches, order kept per partition key); a batch that fails
is retried whole and holds up its shard until it succeeds, its records pass `maximum_record_age` or the
stream's retention, or `maximum_retry_attempts` run out; `bisect_on_error` halves a failed batch
without using up retries; a partial batch response checkpoints at the lowest failed sequence number;
a batch given up on sends a record describing it (not its data) to the on-failure destination.
Throttled batches never reached the function, so they are retried without counting as attempts.

Model choices where AWS documents no timing: a failed batch (or its bisected first half) is tried again as
soon as the attempt ends, a throttled one at the shard's next poll; a shard with records waiting takes its
next batch as soon as the last one ends.
"""

from __future__ import annotations

import base64
import hashlib
import json
import zlib
from collections import deque
from typing import TYPE_CHECKING, Any

from lambdalab import limits
from lambdalab.engine.admission import admit, count_throttle
from lambdalab.engine.behaviour import MISSING, matches
from lambdalab.engine.destinations import EPOCH_MS, timestamp
from lambdalab.engine.filters import kinesis_view, passes
from lambdalab.engine.ids import function_arn, request_id
from lambdalab.engine.keys import shard_for
from lambdalab.engine.model import EventSourceMapping, Stream
from lambdalab.engine.records import PayloadRoom, base64_bytes, to_dynamodb

if TYPE_CHECKING:
    from lambdalab.engine.clock import EventLoop
    from lambdalab.engine.concurrency import AccountConcurrency
    from lambdalab.engine.destinations import Destinations
    from lambdalab.engine.environments import Environment, FunctionRuntime

RETRY_EXHAUSTED = "RetryAttemptsExhausted"
# The condition for records older than maximum_record_age is not in AWS's documentation; this is the value
# other emulators send (shared/reference/lambda-facts.md §2.3 marks it unconfirmed).
RECORD_AGE_EXCEEDED = "MaximumRecordAgeExceeded"


class StreamRecord:
    __slots__ = ("shard", "number", "key", "body", "arrived_at", "insert", "size")

    def __init__(self, shard: int, number: int, key: str, body: Any, arrived_at: float, insert: bool):
        self.shard = shard
        self.number = number  # its position in the shard: 1, 2, ...
        self.key = key
        self.body = body
        self.arrived_at = arrived_at
        self.insert = insert  # DynamoDB: the item's first write (INSERT) or a later one (MODIFY)
        self.size = 0  # what it weighs in a batch, once a mapping reads it


class StreamState:
    """A stream: records spread over shards by partition key and kept for the retention period. With no
    mapping reading it, it only counts what is written."""

    def __init__(self, config: Stream, region: str, account_id: str):
        self.config = config
        self.kind = config.kind
        if config.kind == "kinesis":
            self.arn = f"arn:aws:kinesis:{region}:{account_id}:stream/{config.name}"
        else:  # a table's stream is named by the time it was enabled: here, virtual time 0
            self.arn = f"arn:aws:dynamodb:{region}:{account_id}:table/{config.name}/stream/{timestamp(0.0)[:-1]}"
        self.written = 0
        self.per_shard = [0] * config.shards
        self.consumer: StreamMapping | None = None  # the first mapping reading it: the one the report's records follow
        self.readers: list[StreamMapping] = []  # every mapping reading it: each reads every record
        self._items: set[Any] | None = set() if config.kind == "dynamodb" else None  # primary keys written so far

    def put(self, now: float, body: Any, key: str) -> None:
        """A record written with partition key `key`. A DynamoDB item that carries its table's partition key
        attribute is keyed by it instead: a table's shards and order follow its items' keys
        (https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html)."""
        insert = True
        if self._items is not None:
            key, item_key = item_keys(body, self.config.key, key)
            insert = item_key not in self._items
            self._items.add(item_key)
        shard = shard_for(key, self.config.shards) if self.config.shards > 1 else 0
        self.per_shard[shard] = number = self.per_shard[shard] + 1
        self.written += 1
        for reader in self.readers:  # a record of its own for each: sizes and places differ
            reader.receive(StreamRecord(shard, number, key, body, now, insert))

    def write_backlog(self, put_key: Any) -> None:
        """The records already in the stream when the run starts, evenly over `backlog_over` before it."""
        config = self.config
        for i in range(config.backlog):
            self.put(
                -config.backlog_over + i * config.backlog_over / config.backlog,
                config.backlog_event,
                put_key(config.backlog_event),
            )

    def sequence_number(self, record: StreamRecord) -> str:
        """Fixed-width digits, growing along each shard, shaped like the service's."""
        if self.kind == "kinesis":
            return f"4966{record.shard:06d}{record.number:046d}"
        return f"44{record.shard:06d}{record.number:020d}"

    def shard_id(self, shard: int) -> str:
        return f"shardId-{shard:012d}"


class Lane:
    """What one poller reads in order: a shard, or one of its `parallelization_factor` parts (records of a
    partition key always land in the same part)."""

    __slots__ = ("shard", "part", "pending", "pending_bytes", "batches", "busy", "attempts", "poll_at", "last_request")

    def __init__(self, shard: int, part: int):
        self.shard = shard
        self.part = part  # which of the shard's parallelization parts
        self.pending: deque[StreamRecord] = deque()  # not read yet
        self.pending_bytes = 0  # what they would weigh in a batch
        self.batches: deque[list[StreamRecord]] = (
            deque()
        )  # read, not done: a batch to retry, or a bisected batch's halves
        self.busy = False  # a batch is being processed
        self.attempts = 0  # failed attempts of batches[0] that count against maximum_retry_attempts
        self.poll_at: float | None = None
        self.last_request = 0


class StreamMapping:
    lane_type = Lane  # a tumbling window's mapping keeps more per lane (engine/windows.py)

    def __init__(
        self,
        config: EventSourceMapping,
        stream: StreamState,
        fn: FunctionRuntime,
        loop: EventLoop,
        account: AccountConcurrency,
        destinations: Destinations,
        may_send: Any,
        seed: int,
        region: str,
        account_id: str,
    ):
        self.config = config
        self.stream = stream
        self.fn = fn
        self.loop = loop
        self.account = account
        self.destinations = destinations
        self.may_send = may_send  # (function, target) -> whether its role lets it send there
        self.seed = seed
        self.region, self.account_id = region, account_id
        self.role_arn = f"arn:aws:iam::{account_id}:role/{fn.config.name}-role"  # the event's invokeIdentityArn
        self.factor = config.parallelization_factor
        self.lanes = [self.lane_type(s, p) for s in range(stream.config.shards) for p in range(self.factor)]
        self.interval = limits.STREAM_POLL_S[stream.kind]
        self.retention = stream.config.retention
        self.start_from = {"TRIM_HORIZON": float("-inf"), "LATEST": 0.0}.get(
            config.starting_position, config.starting_position_time
        )
        self.batches: dict[
            int, tuple[Lane, list[StreamRecord], int | None]
        ] = {}  # request -> lane, batch, modelled failure
        self.item_matches = tuple(r.when for r in fn.config.behaviour.errors if r.when is not None)
        self.needs_event = fn.real is not None or bool(self.item_matches)  # otherwise nothing reads the event
        # Records, each counted in exactly one of these or still in a lane (in flight or unread).
        self.processed = 0
        self.to_on_failure = 0
        self.discarded = 0  # given up on, with no on-failure destination (or delivery to it failed)
        self.expired = 0  # past the stream's retention before they were processed
        self.skipped = 0  # before the starting position
        self.filtered = 0  # matched none of the mapping's filters: read past, never invoked (FilteredOutEventCount)
        self.room = self._payload_room()
        self.polled = 0  # records read into batches (PolledEventCount)
        self.invoked = 0  # records in batches that reached the function, retries included (InvokedEventCount)
        self.iterator_age_ms = 0.0  # this mapping's own highest IteratorAge (the function's is the highest of all)
        fn.metrics.iterator_age_ms = 0.0
        if stream.consumer is None:
            stream.consumer = self
        stream.readers.append(self)

    def _payload_room(self) -> PayloadRoom:
        """Each record costs its data and the envelope around it, measured on this mapping's own event."""
        data_bytes = base64_bytes if self.stream.kind == "kinesis" else _image_bytes
        probe = StreamRecord(0, 0, "", "", 0.0, True)
        envelope = len(json.dumps(self.event([probe])["Records"][0])) + 2 - data_bytes(probe.body)  # 2: ", "
        return PayloadRoom(data_bytes, envelope)

    # --- reading the shards ---------------------------------------------------------------------

    def receive(self, record: StreamRecord) -> None:
        if record.arrived_at < self.start_from:
            self.skipped += 1
            return
        factor = self.factor
        lane = self.lanes[record.shard * factor + (zlib.crc32(record.key.encode()) % factor if factor > 1 else 0)]
        lane.pending.append(record)
        record.size = self.room.cost(record.body)
        lane.pending_bytes += record.size
        if not lane.busy:
            self._poll_at(lane, self._next_poll(max(self.loop.now, 0.0)))

    def _next_poll(self, now: float) -> float:
        """Shards are polled on a fixed beat (once a second for Kinesis, four times for DynamoDB)."""
        beats = -(-now // self.interval)
        return beats * self.interval

    def _poll_at(self, lane: Lane, when: float) -> None:
        if lane.poll_at is None or when < lane.poll_at:
            lane.poll_at = when
            self.loop.at(when, self._poll, (lane, when))

    def _poll(self, scheduled: tuple[Lane, float]) -> None:
        lane, when = scheduled
        if lane.poll_at != when:
            return  # superseded by an earlier poll
        lane.poll_at = None
        if not lane.busy:
            self._serve(lane, self.loop.now)

    def _serve(self, lane: Lane, now: float) -> None:
        """Give the function the lane's next batch: the one being retried, or a new one read from its records."""
        self._drop_old(lane, now)
        if not lane.batches:
            batch = self._read(lane, now, self.config.batch_size)
            if batch is None:
                return
            lane.batches.append(batch)
            lane.attempts = 0
        self._invoke(lane, lane.batches[0], now)

    def _read(self, lane: Lane, now: float, size: int) -> list[StreamRecord] | None:
        """Up to `size` of the lane's waiting records as a new batch, or None while the batching window waits
        for more (or nothing waits)."""
        pending = lane.pending
        if not pending:
            return None
        window = self.config.batching_window
        if (
            window > 0
            and len(pending) < size
            and not self.room.overflows(lane.pending_bytes)
            and now < pending[0].arrived_at + window
        ):
            self._poll_at(lane, pending[0].arrived_at + window)  # wait for a fuller batch, at most the window
            return None
        batch: list[StreamRecord] = []
        while not batch and pending:  # records that every filter turns away are read past at once
            admits, batch = self.room.start().admits, []
            while pending and len(batch) < size and admits(pending[0].size):
                batch.append(pending.popleft())
            lane.pending_bytes -= self.room.used()
            self.polled += len(batch)
            if self.config.filters:
                batch = self._pass_filters(batch)
        return batch or None

    def _pass_filters(self, batch: list[StreamRecord]) -> list[StreamRecord]:
        """The records that match one of the mapping's filters; the others are read past, never invoked."""
        filters, kinesis = self.config.filters, self.stream.kind == "kinesis"
        records = self.event(batch)["Records"]
        kept = [r for r, record in zip(batch, records) if passes(filters, kinesis_view(record) if kinesis else record)]
        self.filtered += len(batch) - len(kept)
        return kept

    def _drop_old(self, lane: Lane, now: float) -> None:
        """Records past the retention are gone from the stream; records past the mapping's maximum age are
        given up on. Both are the oldest ones, at the front of the lane."""
        gone = now - self.retention
        old = now - self.config.maximum_record_age if self.config.maximum_record_age >= 0 else None
        too_old: list[StreamRecord] = []
        for queue in (*lane.batches, lane.pending):
            while queue and (queue[0].arrived_at <= gone or old is not None and queue[0].arrived_at < old):
                if queue is lane.pending:
                    record = queue.popleft()
                    lane.pending_bytes -= record.size
                else:
                    record = queue.pop(0)
                if record.arrived_at <= gone:
                    self.expired += 1
                else:
                    too_old.append(record)
            if queue:
                break
        while lane.batches and not lane.batches[0]:
            lane.batches.popleft()
            lane.attempts = 0
        if too_old:
            self._give_up(lane, too_old, RECORD_AGE_EXCEEDED, lane.attempts)

    # --- one batch ------------------------------------------------------------------------------

    def _start(self, lane: Lane, now: float) -> Environment | None:
        """An environment for the lane's next invocation (its request number is `lane.last_request`), or None
        when it is throttled: then the lane polls again."""
        fn = self.fn
        number = lane.last_request = self.loop.next_id()
        fn.outcomes.requests += 1
        got = admit(fn, self.account, now)
        if got.__class__ is str:  # throttled: never reached the function, so not an attempt
            count_throttle(fn, self.loop, number, self.stream.kind, got)
            fn.outcomes.throttled += 1
            self._poll_at(lane, self._next_poll(now + self.interval / 2))
            return None
        lane.busy = True
        fn.outcomes.sync_in_flight += 1
        return got  # type: ignore[return-value]  # an Environment: no narrowing on __class__

    def _invoke(self, lane: Lane, batch: list[StreamRecord], now: float) -> None:
        got = self._start(lane, now)
        if got is None:
            return
        self.invoked += len(batch)
        fn, number = self.fn, lane.last_request
        event = self._event(lane, batch) if self.needs_event else None
        modelled = None
        if self.config.report_batch_item_failures and fn.real is None and self.item_matches:
            # The modelled code reports the first record it fails on; no `when` rule fails the invocation.
            modelled = next(
                (i for i, r in enumerate(batch) if any(matches(when, r.body) for when in self.item_matches)), None
            )
            event = None
        self.batches[number] = (lane, batch, modelled)
        if self.loop.listeners:
            self.loop.emit(
                "batch",
                {
                    "function": fn.name,
                    "request_id": number,
                    "stream": self.stream.config.name,
                    "shard": lane.shard,
                    "part": lane.part,
                    "records": [r.number for r in batch],
                    "keys": [r.key for r in batch],
                },
            )
        fn.begin(got, number, event, self._done)

    def _done(self, env: Environment) -> None:
        lane, batch, modelled = self.batches.pop(env.request)
        fn, now = self.fn, self.loop.now
        fn.outcomes.sync_in_flight -= 1
        lane.busy = False
        age = (now - batch[-1].arrived_at) * 1000.0
        assert fn.metrics.iterator_age_ms is not None  # this mapping set it to 0 when it was made
        if age > fn.metrics.iterator_age_ms:
            fn.metrics.iterator_age_ms = age
        if age > fn.metrics.step_iterator_age_ms:
            fn.metrics.step_iterator_age_ms = age
        if age > self.iterator_age_ms:
            self.iterator_age_ms = age
        if env.error is not None:
            fn.outcomes.failed += 1
            failed_from: int | None = 0
        else:
            fn.outcomes.succeeded += 1
            failed_from = self._failed_from(env, lane, batch, modelled)
        if failed_from is None:
            lane.batches.popleft()
            self.processed += len(batch)
            lane.attempts = 0
            outcome = "processed"
        else:
            outcome = self._failed(lane, batch[failed_from:])
            self.processed += failed_from
        if self.loop.listeners:
            self.loop.emit(
                "batch_done",
                {
                    "function": fn.name,
                    "request_id": env.request,
                    "stream": self.stream.config.name,
                    "shard": lane.shard,
                    "part": lane.part,
                    "records": [r.number for r in batch],
                    "failed_from": failed_from,
                    "outcome": outcome,
                    "attempts": lane.attempts,
                },
            )
        if lane.batches or lane.pending:
            self._poll_at(lane, now)

    def _failed_from(self, env: Environment, lane: Lane, batch: list[StreamRecord], modelled: int | None) -> int | None:
        """Where a batch the function returned from failed (None: it all succeeded): the modelled code's first
        failing record, or the real code's partial batch response."""
        if not self.config.report_batch_item_failures:
            return None
        if modelled is not None or self.fn.real is None:
            return modelled
        return self._reported(env.response, batch)

    def _failed(self, lane: Lane, rest: list[StreamRecord]) -> str:
        """A batch failed from `rest` on: split it, retry it or give it up. Returns which, for the trace."""
        fn = self.fn
        fn.async_state.retried += 1
        if self.config.bisect_on_error and len(rest) > 1:
            half = len(rest) // 2  # splitting does not use up retry attempts
            lane.batches[0] = rest[half:]
            lane.batches.appendleft(rest[:half])
            lane.attempts = 0
            return "bisected"
        lane.batches[0] = rest
        lane.attempts += 1
        limit = self.config.maximum_retry_attempts
        if 0 <= limit < lane.attempts:
            fn.async_state.retried -= 1  # no retry after all
            lane.batches.popleft()
            self._give_up(lane, rest, RETRY_EXHAUSTED, lane.attempts)
            lane.attempts = 0
            return "given_up"
        return "retrying"

    def _reported(self, response: Any, batch: list[StreamRecord]) -> int | None:
        """Where a partial batch response makes Lambda retry from: the lowest sequence number it names.
        Empty or null means success; anything malformed, or a number not in the batch, fails it all."""
        if not response:
            return None
        items = response.get("batchItemFailures") if isinstance(response, dict) else None
        if not items:
            return None if isinstance(response, dict) and "batchItemFailures" in response else 0
        position = {self.stream.sequence_number(r): i for i, r in enumerate(batch)}
        lowest = len(batch)
        for item in items:
            identifier = item.get("itemIdentifier") if isinstance(item, dict) else None
            if identifier not in position:
                return 0
            lowest = min(lowest, position[identifier])
        return lowest

    def _give_up(self, lane: Lane, records: list[StreamRecord], condition: str, attempts: int) -> None:
        """Skip records and move on: the on-failure destination gets a record describing them."""
        fn, target = self.fn, self.config.on_failure
        if self.loop.listeners:
            self.loop.emit(
                "batch_discarded",
                {
                    "function": fn.name,
                    "stream": self.stream.config.name,
                    "shard": lane.shard,
                    "part": lane.part,
                    "records": [r.number for r in records],
                    "condition": condition,
                },
            )
        if target is None:
            self.discarded += len(records)
            return
        record = self.failure_record(lane, records, condition, attempts)
        if self.may_send(fn, target) and self.destinations.deliver(target, self.loop.now, record):
            fn.async_state.to_on_failure += 1
            self.to_on_failure += len(records)
        else:
            fn.async_state.destination_failures += 1
            self.discarded += len(records)

    # --- what the function and the destination receive -----------------------------------------

    def failure_record(self, lane: Lane, records: list[StreamRecord], condition: str, attempts: int) -> dict[str, Any]:
        """The on-failure record: the batch's place in the stream, not its data
        (https://docs.aws.amazon.com/lambda/latest/dg/kinesis-on-failure-destination.html)."""
        stream, fn = self.stream, self.fn
        first, last = records[0], records[-1]
        info_key = "KinesisBatchInfo" if stream.kind == "kinesis" else "DDBStreamBatchInfo"
        return {
            "requestContext": {
                "requestId": request_id(self.seed, lane.last_request),
                "functionArn": function_arn(self.region, self.account_id, fn.config.name, fn.version),
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": {"statusCode": 200, "executedVersion": fn.version, "functionError": "Unhandled"},
            "version": "1.0",
            "timestamp": timestamp(self.loop.now),
            info_key: {
                "shardId": stream.shard_id(lane.shard),
                "startSequenceNumber": stream.sequence_number(first),
                "endSequenceNumber": stream.sequence_number(last),
                "approximateArrivalOfFirstRecord": timestamp(first.arrived_at),
                "approximateArrivalOfLastRecord": timestamp(last.arrived_at),
                "batchSize": len(records),
                "streamArn": stream.arn,
            },
        }

    def _event(self, lane: Lane, batch: list[StreamRecord]) -> dict[str, Any]:
        """The event of one invocation for `lane` (a tumbling window adds its own fields)."""
        return self.event(batch)

    def event(self, batch: list[StreamRecord]) -> dict[str, Any]:
        """The event Lambda sends for a batch (the shapes in assets/events/kinesis.json and dynamodb-stream.json)."""
        stream = self.stream
        key_schema = stream.config.key
        records = []
        for r in batch:
            sequence = stream.sequence_number(r)
            arrived_s = (EPOCH_MS + r.arrived_at * 1000.0) / 1000.0
            if stream.kind == "kinesis":
                data = base64.b64encode(_json(r.body).encode()).decode()
                records.append(
                    {
                        "kinesis": {
                            "kinesisSchemaVersion": "1.0",
                            "partitionKey": r.key,
                            "sequenceNumber": sequence,
                            "data": data,
                            "approximateArrivalTimestamp": round(arrived_s, 3),
                        },
                        "eventSource": "aws:kinesis",
                        "eventVersion": "1.0",
                        "eventID": f"{stream.shard_id(r.shard)}:{sequence}",
                        "eventName": "aws:kinesis:record",
                        "invokeIdentityArn": self.role_arn,
                        "awsRegion": self.region,
                        "eventSourceARN": stream.arn,
                    }
                )
            else:
                image = to_dynamodb(stored_item(r.body, key_schema[0], r.key))
                records.append(
                    {
                        "eventID": hashlib.md5(sequence.encode()).hexdigest(),
                        "eventVersion": "1.1",
                        "dynamodb": {
                            "ApproximateCreationDateTime": int(arrived_s),
                            "Keys": {
                                name: image[name] for name in key_schema if name in image
                            },  # all but in the size probe
                            "NewImage": image,
                            "SequenceNumber": sequence,
                            "SizeBytes": len(_json(image).encode()),
                            "StreamViewType": "NEW_IMAGE",
                        },
                        "awsRegion": self.region,
                        "eventName": "INSERT" if r.insert else "MODIFY",
                        "eventSourceARN": stream.arn,
                        "eventSource": "aws:dynamodb",
                    }
                )
        return {"Records": records}

    # --- what the report and the TUI read -------------------------------------------------------

    def figures(self, now: float) -> dict[str, int]:
        """Where every record is now; the counts add up to the records written."""
        in_flight = sum(len(b) for lane in self.lanes for b in lane.batches)
        gone = now - self.retention
        expired_unread = sum(_count_older(lane.pending, gone) for lane in self.lanes)
        unread = sum(len(lane.pending) for lane in self.lanes) - expired_unread
        return {
            "processed": self.processed,
            "to_on_failure": self.to_on_failure,
            "discarded": self.discarded,
            "expired": self.expired + expired_unread,
            "skipped": self.skipped,
            **({"filtered": self.filtered} if self.config.filters else {}),
            "in_flight": in_flight,
            "unread": unread,
        }

    def shard_views(self, now: float) -> list[dict[str, Any]]:
        """Per shard: records waiting, batches in flight, failed attempts so far, and the age of its oldest unread
        record."""
        views = []
        factor = self.factor
        for shard in range(self.stream.config.shards):
            lanes = self.lanes[shard * factor : (shard + 1) * factor]
            oldest = min((q[0].arrived_at for lane in lanes for q in (*lane.batches, lane.pending) if q), default=None)
            views.append(
                {
                    "shard": self.stream.shard_id(shard),
                    "waiting": sum(len(lane.pending) + sum(map(len, lane.batches)) for lane in lanes),
                    "busy": sum(lane.busy for lane in lanes),
                    "attempts": max(lane.attempts for lane in lanes),
                    "behind_ms": round((now - oldest) * 1000.0) if oldest is not None else 0,
                }
            )
        return views


def _count_older(records: deque[StreamRecord], cutoff: float) -> int:
    count = 0
    for record in records:
        if record.arrived_at > cutoff:
            break
        count += 1
    return count


def item_keys(body: Any, key_schema: tuple[str, ...], key: str) -> tuple[str, Any]:
    """A DynamoDB record's partition key (its shard, its order) and the item's whole primary key (whether the write
    is the item's first): the item's own key attributes, or `key` for an item without its partition key."""
    item = body if isinstance(body, dict) else {"value": body}
    partition = item.get(key_schema[0], MISSING)
    if partition is not MISSING:
        key = _text(partition)
    if len(key_schema) == 1:
        return key, key
    return key, (key, _text(item[key_schema[1]]))  # the scenario's check makes every item carry its sort key


def stored_item(body: Any, partition: str, key: str) -> dict[str, Any]:
    """The item as the table holds it: an item written without its partition key attribute has the record's
    partition key there, so that Keys and NewImage agree as a table's would. A body that is not a mapping is the
    item's `value`."""
    item = body if isinstance(body, dict) else {"value": body}
    return item if partition in item else {partition: key, **item}


def _text(value: Any) -> str:
    """A key attribute's value as a partition key: text as it is, a number as JSON (`1` and `1.0` alike)."""
    if isinstance(value, str):
        return value
    return json.dumps(int(value) if isinstance(value, float) and value.is_integer() else value)


def _image_bytes(body: Any) -> int:
    """A DynamoDB record's NewImage, as the event carries it (a partition key filled in from the record's is
    counted in the envelope, as an empty one)."""
    return len(_json(to_dynamodb(body if isinstance(body, dict) else {"value": body})).encode())


def _json(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, separators=(",", ":"))
