"""Scenario YAML -> validated Scenario model, or every problem with file:line:column and key path.

Three passes: the JSON Schema (shape and spelling), then features that are
written in the contract but not simulated yet, then Lambda's limits and the
references between parts (a DLQ that names a queue, a target that names a
function). All problems are collected so that an author fixes them in one go.
"""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lambdalab import content
from lambdalab.engine import edge, limits
from lambdalab.engine.behaviour import MISSING, lookup
from lambdalab.engine.deployments import CONFIGS as DEPLOYMENT_CONFIGS
from lambdalab.engine.metrics import (
    EXPECTABLE_ACCOUNT,
    EXPECTABLE_FUNCTION,
    EXPECTABLE_QUEUE,
    EXPECTABLE_STREAM,
    EXPECTABLE_VERSION,
)
from lambdalab.engine.model import (
    Account,
    Alias,
    AsyncConfig,
    Behaviour,
    Bus,
    DeploymentPlan,
    Distribution,
    EdgeAssociation,
    ErrorRule,
    EventMatch,
    EventSourceMapping,
    Expectation,
    Function,
    JsonPath,
    KeyRule,
    Queue,
    RealCodeRef,
    Scenario,
    Stream,
    Topic,
    Traffic,
)
from lambdalab.engine.units import parse_duration, parse_rate, parse_size
from lambdalab.iam import Policy, Request, evaluate
from lambdalab.iam.policies import parse_policy
from lambdalab.inputs import Document, InputError, InputErrors, load_yaml
from lambdalab.inputs.errors import did_you_mean
from lambdalab.inputs.schema_check import check, load_schema
from lambdalab.inputs.yaml_source import dotted

DESTINATION_KINDS = ("queue", "topic", "bus", "function")
STREAM_ONLY = (
    "parallelization_factor",
    "bisect_on_error",
    "maximum_retry_attempts",
    "maximum_record_age",
    "on_failure",
    "starting_position",
    "starting_position_timestamp",
)
# What a mapping's role needs to read its source: the actions of AWS's managed policies
# AWSLambdaSQSQueueExecutionRole, AWSLambdaKinesisExecutionRole and AWSLambdaDynamoDBExecutionRole.
READ_ACTIONS = {
    "SQS": ("sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"),
    "Kinesis": ("kinesis:GetRecords", "kinesis:GetShardIterator", "kinesis:DescribeStream", "kinesis:ListShards"),
    "DynamoDB": ("dynamodb:GetRecords", "dynamodb:GetShardIterator", "dynamodb:DescribeStream", "dynamodb:ListStreams"),
}
SENT_TO = ("queue", "topic", "bus", "stream", "edge")  # traffic targets that are not functions
UTC = timezone.utc  # datetime.UTC is new in Python 3.11, and lambdalab runs on 3.10
RUN_START = datetime(2026, 1, 1, tzinfo=UTC)  # virtual time 0
# lambdalab's own bounds on one run, not AWS's: past them a typo (a rate of 1e9/s) would run for days
# instead of being an error (the engine runs about 250,000 requests a second: benchmarks/engine.py).
MAX_REQUESTS = 10_000_000
MAX_ACCOUNT_CONCURRENCY = 100_000
KeyPath = tuple[str | int, ...]  # where a value is in the scenario: ("functions", "api", "memory"), ("traffic", 0)


def load_scenario(path: str | Path) -> Scenario:
    """Read, check and build a scenario file; InputErrors lists every problem."""
    return build_scenario(load_yaml(path))


def parse_scenario(text: str, name: str = "<scenario>") -> Scenario:
    """The same as load_scenario, for text already in memory (the TUI's editor, tests)."""
    return build_scenario(load_yaml(name, text=text, name=name))


def build_scenario(doc: Document) -> Scenario:
    """A scenario from YAML already read (with positions), checked; InputErrors lists every problem."""
    if not isinstance(doc.data, dict):
        raise InputErrors([doc.error((), "a scenario is a mapping of keys (name, duration, functions, traffic, ...)")])
    errors = check(doc, "scenario")
    errors += _planned_features(doc)
    if errors:
        raise InputErrors(errors)
    builder = _Builder(doc)
    scenario = builder.scenario()
    if builder.errors:
        raise InputErrors(builder.errors)
    return scenario


def _planned_features(doc: Document) -> list[InputError]:
    """Keys the contract defines but this engine does not simulate yet: say which feature they wait for."""
    schema = load_schema("scenario")
    defs = schema["$defs"]
    where: list[tuple[KeyPath, Any, Any]] = [((), schema["properties"], doc.data)]  # (key path, properties, data)
    functions, traffic = doc.data.get("functions"), doc.data.get("traffic")
    for name, fn in functions.items() if isinstance(functions, dict) else ():
        where.append((("functions", name), defs["function"]["properties"], fn))
    for i, item in enumerate(traffic if isinstance(traffic, list) else ()):
        where.append((("traffic", i), defs["traffic"]["properties"], item))
    mappings = doc.data.get("event_source_mappings")
    for i, item in enumerate(mappings if isinstance(mappings, list) else ()):
        where.append((("event_source_mappings", i), defs["event_source_mapping"]["properties"], item))
    errors = []
    for path, properties, data in where:
        for key in data if isinstance(data, dict) else ():
            planned = properties.get(key, {}).get("x-planned")
            if planned:
                error = doc.error(
                    (*path, key), f"{planned} are not simulated yet; this scenario waits for that feature"
                )
                errors.append(replace(error, waits_for=planned))
    return errors


class _Builder:
    """Turns checked YAML data into the model, collecting limit and reference errors."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.data: dict[str, Any] = doc.data
        self.errors: list[InputError] = []

    def fail(self, path: KeyPath, message: str) -> None:
        self.errors.append(self.doc.error(path, message))

    def duration(self, path: KeyPath, value: Any, default: float = 0.0) -> float:
        if value is None:
            return default
        try:
            return parse_duration(value)
        except ValueError as exc:
            self.fail(path, str(exc))
            return default

    # --- the whole scenario -------------------------------------------------------------------

    def scenario(self) -> Scenario:
        data = self.data
        account = self.account_model = self.account(data.get("account") or {})
        queues = {name: self.queue(name, q or {}) for name, q in (data.get("queues") or {}).items()}
        self.targets = {"queue": queues, "function": data["functions"]}  # what topics and buses may deliver to
        topics = {
            name: Topic(
                name,
                bool((t or {}).get("fifo")),
                self.fan_out(("topics", name, "subscribers"), (t or {}).get("subscribers")),
            )
            for name, t in (data.get("topics") or {}).items()
        }
        for kind, things in (("queues", queues), ("topics", topics)):
            for name, thing in things.items():
                self.check_fifo_name((kind, name), name, thing.fifo)
        buses = {
            name: Bus(name, self.fan_out(("buses", name, "targets"), (b or {}).get("targets")))
            for name, b in (data.get("buses") or {}).items()
        }
        streams = {name: self.stream(name, st) for name, st in (data.get("streams") or {}).items()}
        self.targets.update(topic=topics, bus=buses, stream=streams)
        functions = {name: self.function(name, fn or {}, account) for name, fn in data["functions"].items()}
        self.check_account_concurrency(functions, account)
        for queue in queues.values():
            self.check_queue_redrive(queue, queues)
        duration = self.duration(("duration",), data["duration"])
        if duration <= 0:
            self.fail(("duration",), "the run needs a duration above zero, such as 60s")
        edge = self.edge_associations(data.get("edge") or [], functions)
        self.targets["edge"] = edge
        traffic = tuple(self.traffic(i, t, functions) for i, t in enumerate(data.get("traffic") or []))
        self.check_traffic_volume(traffic, duration)
        expect = tuple(self.expectation(i, e, functions) for i, e in enumerate(data.get("expect") or []))
        mappings = tuple(self.mapping(i, m, functions) for i, m in enumerate(data.get("event_source_mappings") or []))
        self.check_one_mapping_per_source(mappings)
        deployments = tuple(self.deployment(i, d, functions) for i, d in enumerate(data.get("deployments") or []))
        return Scenario(
            name=data.get("name") or Path(self.doc.name).stem,
            description=data.get("description", "").strip(),
            seed=data.get("seed", 0),
            duration=duration,
            account=account,
            functions=functions,
            queues=queues,
            topics=topics,
            buses=buses,
            streams=streams,
            traffic=traffic,
            expect=expect,
            source=self.doc.name,
            event_source_mappings=mappings,
            deployments=deployments,
            edge=edge,
        )

    def edge_associations(
        self, items: list[dict[str, Any]], functions: dict[str, Function]
    ) -> dict[str, EdgeAssociation]:
        """Lambda@Edge associations, refused as CloudFront refuses them (edge.association_problems)."""
        found: dict[str, EdgeAssociation] = {}
        for index, item in enumerate(items):
            path = ("edge", index)
            trigger = item["trigger"]
            if trigger in found:
                self.fail(
                    (*path, "trigger"),
                    f"a cache behaviour has at most one function on {trigger} ({edge.CF_RESTRICTIONS})",
                )
            if ("function" in item) == ("cloudfront_function" in item):
                self.fail(path, "give either function (Lambda@Edge, NAME:VERSION) or cloudfront_function")
                continue
            if "cloudfront_function" in item:
                found[trigger] = self.cloudfront_function(
                    (*path, "cloudfront_function"), trigger, item["cloudfront_function"]
                )
                continue
            name, _, version = item["function"].partition(":")
            fn = functions.get(name)
            if fn is None:
                self.fail((*path, "function"), f"no function named {name!r}{did_you_mean(name, list(functions))}")
                continue
            if version not in fn.versions:
                given = (
                    "$LATEST"
                    if version in ("", "$LATEST")
                    else f"the alias {version}"
                    if version in fn.aliases
                    else repr(version)
                )
                self.fail(
                    (*path, "function"),
                    f"a trigger needs a published version such as {name}:1, not {given}; "
                    f"{name} has {'version(s) ' + ', '.join(fn.versions) if fn.versions else 'no published versions'} "
                    f"({edge.CF_RESTRICTIONS})",
                )
                continue
            published = fn.versions[version]
            trusted = published.role_trust is None or trusts(published.role_trust, edge.EDGE_SERVICE)
            for problem in edge.lambda_at_edge_problems(trigger, published, self.account_model.region, trusted):
                self.fail((*path, "function"), f"{item['function']}: {problem}")
            found[trigger] = EdgeAssociation(trigger, name, version)
        kinds = {a.cloudfront_function for t, a in found.items() if t.startswith("viewer")}
        if len(kinds) > 1:
            self.fail(
                ("edge",),
                "CloudFront Functions and Lambda@Edge functions cannot share a cache behaviour's viewer "
                f"triggers; use one kind for both ({edge.CF_RESTRICTIONS})",
            )
        return found

    def cloudfront_function(self, path: KeyPath, trigger: str, data: dict[str, Any]) -> EdgeAssociation:
        size = 0
        if "size" in data:
            try:
                size = parse_size(data["size"])
            except ValueError as exc:
                self.fail((*path, "size"), str(exc))
        for problem in edge.cloudfront_function_problems(trigger, size):
            self.fail(path, problem)
        return EdgeAssociation(trigger, data["name"], "", cloudfront_function=True)

    def deployment(self, index: int, data: dict[str, Any], functions: dict[str, Function]) -> DeploymentPlan:
        """A CodeDeploy shift: the alias, a published version to move to, and a known configuration."""
        path = ("deployments", index)
        fn = functions.get(data["function"])
        if fn is None:
            self.fail(
                (*path, "function"),
                f"no function named {data['function']!r}{did_you_mean(data['function'], list(functions))}",
            )
        elif data["alias"] not in fn.aliases:
            self.fail(
                (*path, "alias"),
                f"{fn.name} has no alias {data['alias']!r}{did_you_mean(data['alias'], list(fn.aliases))}",
            )
        elif str(data["to"]) not in fn.versions:
            self.fail(
                (*path, "to"),
                f"{fn.name} has no published version {data['to']!r}; versions: {', '.join(fn.versions) or 'none'}",
            )
        elif fn.aliases[data["alias"]].version == str(data["to"]):
            self.fail((*path, "to"), f"alias {data['alias']} already points to version {data['to']}")
        if data["config"] not in DEPLOYMENT_CONFIGS:
            self.fail(
                (*path, "config"),
                f"{data['config']!r} is not a CodeDeploy configuration"
                f"{did_you_mean(data['config'], list(DEPLOYMENT_CONFIGS))}",
            )
        alarm = data.get("alarm") or {}
        return DeploymentPlan(
            data["function"],
            data["alias"],
            str(data["to"]),
            data["config"],
            self.duration((*path, "start"), data.get("start"), 0.0),
            alarm.get("errors_over"),
        )

    def mapping(self, index: int, data: dict[str, Any], functions: dict[str, Function]) -> EventSourceMapping:
        """An SQS or stream event source mapping, with the checks CreateEventSourceMapping makes (ESM)."""
        path = ("event_source_mappings", index)
        resolved = self.resolve((*path, "source"), data["source"], ("queue", "stream"))
        kind, name = resolved or ("queue", "")
        source = self.targets[kind].get(name)
        fn = functions.get(data["function"])
        if fn is None:
            self.fail(
                (*path, "function"),
                f"no function named {data['function']!r}{did_you_mean(data['function'], list(functions))}",
            )
        wrong = STREAM_ONLY if kind == "queue" else ("maximum_concurrency",)
        for key in wrong:
            if key in data:
                self.fail(
                    (*path, key),
                    f"{key} applies only to {'Kinesis and DynamoDB Streams' if kind == 'queue' else 'SQS'} "
                    f"mappings ({limits.ESM})",
                )
        window = self.duration((*path, "batching_window"), data.get("batching_window"), 0.0)
        if window > limits.BATCHING_WINDOW_MAX_S:
            self.fail(
                (*path, "batching_window"),
                f"{window:g} s is above the maximum of {limits.BATCHING_WINDOW_MAX_S:g} s ({limits.ESM})",
            )
        common = dict(
            index=index,
            kind=kind,
            source=name,
            function=data["function"],
            batching_window=window,
            report_batch_item_failures=bool(data.get("report_batch_item_failures")),
            enabled=data.get("enabled", True),
        )
        if source is not None and fn is not None:
            self.check_role_reads(path, fn, kind, source)
        if kind == "queue":
            return self.queue_mapping(path, data, fn, source, common)
        return self.stream_mapping(path, data, source, common)

    def queue_mapping(
        self, path: KeyPath, data: dict[str, Any], fn: Function | None, queue: Queue | None, common: dict[str, Any]
    ) -> EventSourceMapping:
        fifo = queue is not None and queue.fifo
        batch = data.get("batch_size", limits.SQS_BATCH_DEFAULT)
        if fifo and batch > limits.SQS_FIFO_BATCH_MAX:
            self.fail(
                (*path, "batch_size"),
                f"{batch} is above the maximum of {limits.SQS_FIFO_BATCH_MAX} for a FIFO queue ({limits.ESM})",
            )
        elif batch > limits.SQS_BATCH_WITHOUT_WINDOW_MAX and common["batching_window"] < 1:
            self.fail(
                (*path, "batch_size"),
                f"a batch size above {limits.SQS_BATCH_WITHOUT_WINDOW_MAX} needs a "
                f"batching_window of at least 1s ({limits.ESM})",
            )
        if queue is not None and fn is not None and queue.visibility_timeout < fn.timeout:
            # The error CreateEventSourceMapping returns (shared/reference/lambda-facts.md §2.2)
            self.fail(
                (*path, "source"),
                f"Queue visibility timeout: {queue.visibility_timeout:g} seconds is less than "
                f"Function timeout: {fn.timeout:g} seconds (AWS recommends 6 times the "
                "function timeout; https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html)",
            )
        return EventSourceMapping(**common, batch_size=batch, maximum_concurrency=data.get("maximum_concurrency"))

    def stream_mapping(
        self, path: KeyPath, data: dict[str, Any], stream: Stream | None, common: dict[str, Any]
    ) -> EventSourceMapping:
        position = data.get("starting_position")
        if position is None:
            self.fail(
                path,
                "missing required key 'starting_position': TRIM_HORIZON (the oldest record kept), "
                f"LATEST (only new ones) or AT_TIMESTAMP; a stream mapping must say where to start ({limits.ESM})",
            )
        at = 0.0
        if position == "AT_TIMESTAMP":
            if stream is not None and stream.kind != "kinesis":
                self.fail((*path, "starting_position"), f"AT_TIMESTAMP is for Kinesis streams only ({limits.ESM})")
            at = self.virtual_time((*path, "starting_position_timestamp"), data.get("starting_position_timestamp"))
        elif "starting_position_timestamp" in data:
            self.fail((*path, "starting_position_timestamp"), "goes only with starting_position: AT_TIMESTAMP")
        age = data.get("maximum_record_age", -1)
        age = -1.0 if age == -1 else self.duration((*path, "maximum_record_age"), age)
        if age > limits.STREAM_RECORD_AGE_MAX_S:
            self.fail(
                (*path, "maximum_record_age"), f"{age:g} s is above the maximum of 7 days (604800 s) ({limits.ESM})"
            )
        on_failure = None
        if "on_failure" in data:
            resolved = self.resolve((*path, "on_failure"), data["on_failure"], ("queue", "topic"))
            on_failure = f"{resolved[0]}:{resolved[1]}" if resolved else None
        return EventSourceMapping(
            **common,
            batch_size=data.get("batch_size", limits.STREAM_BATCH_DEFAULT),
            parallelization_factor=data.get("parallelization_factor", 1),
            bisect_on_error=bool(data.get("bisect_on_error")),
            maximum_retry_attempts=data.get("maximum_retry_attempts", -1),
            maximum_record_age=age,
            on_failure=on_failure,
            starting_position=position or "TRIM_HORIZON",
            starting_position_time=at,
        )

    def virtual_time(self, path: KeyPath, value: Any) -> float:
        """An ISO 8601 moment as virtual seconds: the run starts at 2026-01-01T00:00:00Z."""
        if value is None:
            self.fail(path[:-1], "AT_TIMESTAMP needs starting_position_timestamp, such as 2025-12-31T23:30:00Z")
            return 0.0
        try:
            moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            self.fail(path, f"{value!r} is not an ISO 8601 time such as 2025-12-31T23:30:00Z")
            return 0.0
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (moment - RUN_START).total_seconds()

    def check_role_reads(self, path: KeyPath, fn: Function, kind: str, source: Queue | Stream) -> None:
        """Lambda reads the source with the function's execution role: without the permissions, the mapping
        cannot be created (https://docs.aws.amazon.com/lambda/latest/dg/with-sqs.html, with-kinesis.html,
        with-ddb.html)."""
        if fn.role_policies is None:
            return
        region, account_id = self.account_model.region, self.account_model.account_id
        if isinstance(source, Queue):  # kind "queue" (a source is found among the things of its kind)
            service, arn = "SQS", f"arn:aws:sqs:{region}:{account_id}:{source.name}"
        elif source.kind == "kinesis":
            service, arn = "Kinesis", f"arn:aws:kinesis:{region}:{account_id}:stream/{source.name}"
        else:
            service, arn = "DynamoDB", f"arn:aws:dynamodb:{region}:{account_id}:table/{source.name}/stream/*"
        for action in READ_ACTIONS[service]:
            if not evaluate(Request(action, arn), list(fn.role_policies)).allowed:
                self.fail(
                    (*path, "source"),
                    f"The provided execution role does not have permissions to call "
                    f"{action.split(':')[1]} on {service} (CreateEventSourceMapping refuses the "
                    f"mapping; the role of {fn.name} needs {', '.join(READ_ACTIONS[service])})",
                )
                return

    def check_one_mapping_per_source(self, mappings: tuple[EventSourceMapping, ...]) -> None:
        seen: set[tuple[str, str]] = set()
        for m in mappings:
            if (m.kind, m.source) in seen and m.source:
                error = self.doc.error(
                    ("event_source_mappings", m.index, "source"),
                    f"a second mapping reading {m.kind} {m.source} is not simulated yet; "
                    "this scenario waits for that feature",
                )
                self.errors.append(replace(error, waits_for="several mappings on one source"))
            seen.add((m.kind, m.source))

    def stream(self, name: str, data: dict[str, Any]) -> Stream:
        path = ("streams", name)
        kind = data["type"]
        retention = self.duration((*path, "retention"), data.get("retention"), limits.STREAM_RETENTION_DEFAULT_S)
        if kind == "dynamodb" and "retention" in data:
            self.fail(
                (*path, "retention"),
                "a DynamoDB stream keeps records for 24 hours; that cannot be changed "
                "(https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/Streams.html)",
            )
        elif not limits.STREAM_RETENTION_DEFAULT_S <= retention <= limits.KINESIS_RETENTION_MAX_S:
            self.fail(
                (*path, "retention"),
                "a Kinesis stream keeps records from 24 hours up to 365 days "
                "(https://docs.aws.amazon.com/streams/latest/dev/kinesis-extended-retention.html)",
            )
        backlog = data.get("backlog") or {}
        over = self.duration((*path, "backlog", "over"), backlog.get("over"), 0.0)
        if over > retention:
            self.fail(
                (*path, "backlog", "over"),
                f"records older than the retention ({retention / 3600:g} h) are no longer in the stream",
            )
        key = data.get("key", "pk")
        key = (key,) if isinstance(key, str) else tuple(key)
        if kind == "kinesis" and "key" in data:
            self.fail(
                (*path, "key"),
                "key is a DynamoDB table's key schema; a Kinesis record's partition key is the traffic's partition_key",
            )
        message = self.event((*path, "backlog", "message"), backlog.get("message", {}))
        if kind == "dynamodb" and "backlog" in data:
            self.check_items([(*path, "backlog", "message")], key, (message,), name, by_traffic=False)
        return Stream(name, kind, data.get("shards", 1), retention, backlog.get("records", 0), over, message, key)

    def check_items(
        self, paths: list[KeyPath], key: tuple[str, ...], events: tuple[Any, ...], table: str, by_traffic: bool
    ) -> None:
        """The items written to a DynamoDB table carry a valid key: a text or number for each key attribute, of one
        type across the items, and the sort key always (nothing else could give it). The partition key may be left
        out: the record's partition key (the traffic's partition_key, or a new one each write) is then the item's.
        https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/HowItWorks.CoreComponents.html#HowItWorks.CoreComponents.PrimaryKey"""
        types: dict[str, type] = {}
        for where, event in zip(paths, events):
            item = event if isinstance(event, dict) else {"value": event}
            for n, name in enumerate(key):
                if name not in item:
                    if n:
                        self.fail(
                            where,
                            f"the item has no {name!r}, the sort key of table {table!r} (streams.{table}.key): "
                            "every item has its whole primary key",
                        )
                    continue
                value = item[name]
                if isinstance(value, bool) or not isinstance(value, (str, int, float)) or value == "":
                    self.fail(
                        where,
                        f"{name!r} is part of the primary key of table {table!r}: a non-empty text or a number, "
                        f"not {json.dumps(value)}",
                    )
                    continue
                kind = str if isinstance(value, str) else float
                if types.setdefault(name, kind) is not kind:
                    self.fail(
                        where,
                        f"{name!r} is a text in one item and a number in another; a table's key attribute has one type",
                    )
                if n == 0 and by_traffic:
                    by_traffic = False  # said once
                    self.fail(
                        where,
                        f"the item has {name!r}, the partition key of table {table!r}: the item's own key "
                        f"decides its shard and order, so partition_key has nothing to choose; remove "
                        f"partition_key, or leave {name!r} out of the items to key them by it",
                    )

    def account(self, data: dict[str, Any]) -> Account:
        concurrency = data.get("concurrency", limits.ACCOUNT_CONCURRENCY_DEFAULT)
        if concurrency > MAX_ACCOUNT_CONCURRENCY:
            self.fail(
                ("account", "concurrency"),
                f"{concurrency:,} is more than lambdalab simulates "
                f"({MAX_ACCOUNT_CONCURRENCY:,}; AWS's default is 1,000)",
            )
        minimum = data.get("unreserved_minimum", limits.UNRESERVED_MINIMUM_DEFAULT)
        if minimum > concurrency:
            self.fail(
                ("account", "unreserved_minimum"), f"{minimum} is more than the account concurrency of {concurrency}"
            )
        return Account(
            concurrency=concurrency,
            unreserved_minimum=minimum,
            region=data.get("region", "us-east-1"),
            account_id=data.get("account_id", "123456789012"),
            idle_expiry=self.positive(("account", "idle_expiry"), data.get("idle_expiry"), 600.0),
        )

    def positive(self, path: KeyPath, value: Any, default: float) -> float:
        seconds = self.duration(path, value, default)
        if seconds <= 0:
            self.fail(path, "must be above zero")
        return seconds

    # --- functions ----------------------------------------------------------------------------

    def function(
        self, name: str, data: dict[str, Any], account: Account, version: str = "$LATEST", path: KeyPath | None = None
    ) -> Function:
        path = path or ("functions", name)
        memory = data.get("memory", limits.MEMORY_DEFAULT_MB)
        self.in_range((*path, "memory"), memory, limits.MEMORY_MIN_MB, limits.MEMORY_MAX_MB, "MB", limits.QUOTAS)
        timeout = self.timeout((*path, "timeout"), data.get("timeout"))
        storage = data.get("ephemeral_storage", limits.EPHEMERAL_MIN_MB)
        self.in_range(
            (*path, "ephemeral_storage"), storage, limits.EPHEMERAL_MIN_MB, limits.EPHEMERAL_MAX_MB, "MB", limits.QUOTAS
        )
        environment = {k: str(v) for k, v in (data.get("environment") or {}).items()}
        role_policies, role_trust = self.role((*path, "role"), data.get("role"))
        size = sum(len(k.encode()) + len(v.encode()) for k, v in environment.items())
        if size > limits.ENVIRONMENT_MAX_BYTES:
            self.fail(
                (*path, "environment"),
                f"{size} bytes of variables; Lambda allows {limits.ENVIRONMENT_MAX_BYTES} bytes in all "
                f"({limits.QUOTAS})",
            )
        reserved = data.get("reserved_concurrency")
        provisioned = data.get("provisioned_concurrency", 0)
        if reserved is not None and provisioned > reserved:
            self.fail(
                (*path, "provisioned_concurrency"),
                f"{provisioned} is more than reserved concurrency {reserved}: "
                f"provisioned concurrency counts against the reservation ({limits.RESV})",
            )
        code = self.real_code(path, data)
        if "behaviour" not in data and code is None:
            self.fail(
                path,
                "missing required key 'behaviour' (a model of the code: init, duration, errors), "
                "or `code:` and `handler:` to run real code",
            )
        behaviour = self.behaviour((*path, "behaviour"), data.get("behaviour") or {})
        fn = Function(
            name=name,
            memory=memory,
            timeout=timeout,
            architecture=data.get("architecture", "x86_64"),
            ephemeral_storage=storage,
            reserved_concurrency=reserved,
            provisioned_concurrency=provisioned,
            idle_expiry=self.positive((*path, "idle_expiry"), data.get("idle_expiry"), account.idle_expiry),
            environment=environment,
            behaviour=behaviour,
            async_config=self.async_config((*path, "async"), data.get("async") or {}),
            dead_letter_queue=self.dead_letter_queue((*path, "dead_letter_queue"), data.get("dead_letter_queue")),
            description=data.get("description", ""),
            code=code,
            resource_policy=self.resource_policy((*path, "resource_policy"), data.get("resource_policy")),
            role_policies=role_policies,
            role_trust=role_trust,
            version=version,
        )
        if version == "$LATEST" and (data.get("versions") or data.get("aliases")):
            fn = self.versions_and_aliases(fn, data, account, path)
        return fn

    def versions_and_aliases(self, fn: Function, data: dict[str, Any], account: Account, path: KeyPath) -> Function:
        """Published versions (a snapshot of $LATEST with what the scenario says differed then) and aliases
        (https://docs.aws.amazon.com/lambda/latest/dg/configuration-versions.html).

        Provisioned concurrency is set on a published version, never on $LATEST, and all of it together
        counts against the function's reservation."""
        if fn.provisioned_concurrency and data.get("versions"):
            self.fail(
                (*path, "provisioned_concurrency"),
                "with published versions, provisioned concurrency goes on a "
                'version (versions: {"1": {provisioned_concurrency: N}}), never on $LATEST '
                f"({limits.PROV})",
            )
        latest = {k: v for k, v in data.items() if k not in ("versions", "aliases", "provisioned_concurrency")}
        versions = {
            str(number): self.function(
                fn.name, {**latest, **(overrides or {})}, account, version=str(number), path=(*path, "versions", number)
            )
            for number, overrides in (data.get("versions") or {}).items()
        }
        provisioned, reserved = sum(v.provisioned_concurrency for v in versions.values()), fn.reserved_concurrency
        if (
            reserved is not None
            and provisioned > reserved
            and all(  # a version over it alone is said already
                v.provisioned_concurrency <= reserved for v in versions.values()
            )
        ):
            self.fail(
                (*path, "versions"),
                f"{provisioned} provisioned in all is more than reserved concurrency "
                f"{reserved}: every version's provisioned concurrency counts against the "
                f"function's reservation ({limits.RESV})",
            )
        aliases = {
            name: self.alias((*path, "aliases", name), name, spec, versions)
            for name, spec in (data.get("aliases") or {}).items()
        }
        return replace(fn, versions=versions, aliases=aliases)

    def alias(self, path: KeyPath, name: str, spec: dict[str, Any], versions: dict[str, Function]) -> Alias:
        """An alias points to one version, or splits requests between two published ones
        (https://docs.aws.amazon.com/lambda/latest/api/API_AliasRoutingConfiguration.html)."""
        version = str(spec["version"])
        known = ["$LATEST", *versions]
        if version not in known:
            self.fail(
                (*path, "version"),
                f"no version {version!r}{did_you_mean(version, known)}; versions: {', '.join(known)}",
            )
        routing = []
        for other, weight in (spec.get("routing") or {}).items():
            other = str(other)
            if other not in versions:
                self.fail(
                    (*path, "routing", other),
                    f"no published version {other!r}; versions: {', '.join(versions) or 'none'}",
                )
            elif other == version:
                self.fail(
                    (*path, "routing", other), f"the alias already points to version {other}; route to another one"
                )
            elif version == "$LATEST":
                self.fail(
                    (*path, "version"),
                    "weighted routing needs two published versions, and $LATEST is not one "
                    "(https://docs.aws.amazon.com/lambda/latest/dg/configuration-aliases.html)",
                )
            routing.append((other, float(weight)))
        return Alias(name, version, tuple(routing))

    def resource_policy(self, path: KeyPath, statements: list[Any] | None) -> Policy | None:
        """The function's resource-based policy: its statements, checked as IAM checks a policy."""
        if statements is None:
            return None
        return self.policy(path, {"Version": "2012-10-17", "Statement": statements}, "resource", as_list=True)

    def role(self, path: KeyPath, data: dict[str, Any] | None) -> tuple[tuple[Policy, ...] | None, Policy | None]:
        """The execution role: its identity policies, and a trust policy that must let Lambda assume it."""
        if data is None:
            return None, None
        trust = data.get("trust")
        policy = None
        if trust is not None:
            policy = self.policy((*path, "trust"), trust, "resource")
            if policy is not None and not trusts(policy, "lambda.amazonaws.com"):
                self.fail(
                    (*path, "trust"),
                    "the trust policy does not let lambda.amazonaws.com assume the role "
                    "(sts:AssumeRole), so Lambda could not run the function with it "
                    f"({limits.ROLE})",
                )
        policies = [
            self.policy((*path, "policies", i), p, "identity") for i, p in enumerate(data.get("policies") or [])
        ]
        return tuple(p for p in policies if p is not None), policy

    def policy(self, path: KeyPath, data: Any, kind: str, as_list: bool = False) -> Policy | None:
        """A policy inside the scenario; its errors name the scenario's lines. `as_list`: `data` wraps
        the statements found at `path`."""
        doc = self.doc.sub(path, data, ("Statement",) if as_list else ())
        try:
            return parse_policy(doc, kind)
        except InputErrors as exc:
            for error in exc.errors:
                key = error.path.removeprefix("Statement") if as_list else ("." + error.path if error.path else "")
                self.errors.append(replace(error, path=dotted(path) + key))
            return None

    def real_code(self, path: KeyPath, data: dict[str, Any]) -> RealCodeRef | None:
        """`code:` (a folder, relative to the scenario file) and `handler:` go together."""
        if "code" not in data and "handler" not in data:
            return None
        if "code" not in data or "handler" not in data:
            missing = "handler" if "code" in data else "code"
            self.fail(path, f"missing required key {missing!r}: real code needs both `code:` (a folder) and `handler:`")
            return None
        folder = Path(self.doc.name).resolve().parent / data["code"]
        if not folder.is_dir():
            self.fail((*path, "code"), f"{data['code']!r} is not a folder (it is read relative to the scenario file)")
            return None
        behaviour = data.get("behaviour") or {}
        return RealCodeRef(folder, data["handler"], modelled_timing="duration" in behaviour)

    def in_range(self, path: KeyPath, value: int | float, low: float, high: float, unit: str, source: str) -> None:
        if value < low:
            self.fail(path, f"{value:g} is below the Lambda minimum of {low:g} {unit} ({source})")
        elif value > high:
            self.fail(path, f"{value:g} is above the Lambda maximum of {high:g} {unit} ({source})")

    def timeout(self, path: KeyPath, value: Any) -> float:
        if value is None:
            return float(limits.TIMEOUT_DEFAULT_S)
        seconds = self.duration(path, value, float(limits.TIMEOUT_DEFAULT_S))
        if not float(seconds).is_integer():
            self.fail(
                path,
                f"{value!r} is {seconds:g} s; Lambda's timeout is a whole number of seconds, "
                f"{limits.TIMEOUT_MIN_S} to {limits.TIMEOUT_MAX_S} ({limits.QUOTAS})",
            )
        else:
            self.in_range(path, seconds, limits.TIMEOUT_MIN_S, limits.TIMEOUT_MAX_S, "seconds", limits.QUOTAS)
        return seconds

    def behaviour(self, path: KeyPath, data: dict[str, Any]) -> Behaviour:
        for key in ("init", "duration"):
            if key not in data and data:
                self.fail(path, f"missing required key {key!r} (a duration such as 200ms, or a distribution)")
        errors = data.get("errors", [])
        rules = tuple(
            self.error_rule((*path, "errors", i) if isinstance(errors, list) else (*path, "errors"), rule)
            for i, rule in enumerate(errors if isinstance(errors, list) else [errors])
        )
        extra = data.get("cold_start_extra")
        duration = self.distribution((*path, "duration"), data.get("duration", 0))
        if "duration" in data and max(duration.a, duration.b) <= 0:
            # Every invocation takes some time; at zero, a stream's failing batch would be retried forever
            # without virtual time moving.
            self.fail((*path, "duration"), "an invocation takes some time: give at least 1ms")
        return Behaviour(
            init=self.distribution((*path, "init"), data.get("init", 0)),
            duration=duration,
            cold_start_extra=self.distribution((*path, "cold_start_extra"), extra) if extra is not None else None,
            cpu_bound=float(data.get("cpu_bound", 0.0)),
            measured_at=data.get("measured_at", limits.MEMORY_MIN_MB),
            threads=data.get("threads", 1),
            memory_used=data.get("memory_used", 64),
            errors=rules,
        )

    def distribution(self, path: KeyPath, value: Any) -> Distribution:
        if not isinstance(value, dict):
            return Distribution("fixed", self.duration(path, value))
        d = {k: self.duration((*path, k), v) for k, v in value.items() if k != "dist"}
        kind = value.get("dist")
        if kind is None:
            if d.get("jitter", 0) > d["mean"]:
                self.fail((*path, "jitter"), "jitter is larger than the mean, which would allow negative durations")
            return Distribution("jitter", d["mean"], d.get("jitter", 0.0))
        if kind == "exponential":
            return Distribution("exponential", d["mean"])
        if kind == "uniform":
            if d["min"] > d["max"]:
                self.fail((*path, "min"), "min is larger than max")
            return Distribution("uniform", d["min"], d["max"])
        if not 0 < d["median"] < d["p99"]:
            self.fail((*path, "p99"), "a lognormal needs 0 < median < p99")
            return Distribution("fixed", d["median"])
        return Distribution("lognormal", d["median"], d["p99"])

    def error_rule(self, path: KeyPath, data: dict[str, Any]) -> ErrorRule:
        when = data.get("when")
        match = None
        if when:
            match = EventMatch(
                json_path(when["path"]),
                when.get("equals"),
                "equals" in when,
                tuple(when["in"]) if "in" in when else None,
                when.get("exists"),
            )
        return ErrorRule(
            data.get("rate"),
            data.get("every"),
            data.get("on_cold_start"),
            match,
            data.get("type", "Exception"),
            data.get("message", "Simulated failure"),
        )

    def async_config(self, path: KeyPath, data: dict[str, Any]) -> AsyncConfig:
        retries = data.get("maximum_retry_attempts", limits.ASYNC_RETRIES_DEFAULT)
        self.in_range(
            (*path, "maximum_retry_attempts"),
            retries,
            limits.ASYNC_RETRIES_MIN,
            limits.ASYNC_RETRIES_MAX,
            "retries",
            limits.EIC,
        )
        age = self.duration(
            (*path, "maximum_event_age"), data.get("maximum_event_age"), float(limits.EVENT_AGE_DEFAULT_S)
        )
        self.in_range(
            (*path, "maximum_event_age"), age, limits.EVENT_AGE_MIN_S, limits.EVENT_AGE_MAX_S, "seconds", limits.EIC
        )
        return AsyncConfig(
            maximum_retry_attempts=retries,
            maximum_event_age=age,
            on_success=self.destination((*path, "on_success"), data.get("on_success")),
            on_failure=self.destination((*path, "on_failure"), data.get("on_failure")),
        )

    def resolve(self, path: KeyPath, ref: str, kinds: tuple[str, ...]) -> tuple[str, str] | None:
        """("queue", "dlq") for "dlq" or "queue:dlq", if exactly one thing of an allowed kind has that name."""
        kind, _, name = ref.partition(":") if ":" in ref else ("", "", ref)
        if kind and kind not in kinds:
            self.fail(path, f"{ref!r}: a {kind} cannot be used here; use one of: {', '.join(kinds)}")
            return None
        found = [k for k in ((kind,) if kind else kinds) if name in self.targets.get(k, {})]
        if len(found) > 1:
            self.fail(
                path, f"{ref!r} names a {found[0]} and a {found[1]}; write {found[0]}:{name} or {found[1]}:{name}"
            )
            return None
        if not found:
            known = [n for k in kinds for n in self.targets.get(k, {})]
            self.fail(path, f"no {' or '.join(kinds)} named {name!r} in this scenario{did_you_mean(name, known)}")
            return None
        return found[0], name

    def fan_out(self, path: KeyPath, refs: list[str] | None) -> tuple[str, ...]:
        """An SNS topic's subscribers or an EventBridge rule's targets: functions (invoked asynchronously) or queues."""
        out = []
        for i, ref in enumerate(refs or []):
            resolved = self.resolve((*path, i), ref, ("function", "queue"))
            if resolved:
                out.append(f"{resolved[0]}:{resolved[1]}")
        return tuple(out)

    def destination(self, path: KeyPath, ref: str | None) -> str | None:
        resolved = self.resolve(path, ref, DESTINATION_KINDS) if ref else None
        return f"{resolved[0]}:{resolved[1]}" if resolved else None

    def dead_letter_queue(self, path: KeyPath, ref: str | None) -> str | None:
        resolved = self.resolve(path, ref, ("queue", "topic")) if ref else None
        if not resolved:
            return None
        kind, name = resolved
        if self.targets[kind][name].fifo:
            self.fail(
                path,
                f"{name!r} is FIFO; a dead-letter queue must be a standard SQS queue or SNS topic ({limits.ASYNC_REC})",
            )
        return f"{kind}:{name}"

    def check_account_concurrency(self, functions: dict[str, Function], account: Account) -> None:
        """Reservations (and provisioned concurrency of unreserved functions) must leave the unreserved minimum."""
        claimed = 0
        for fn in functions.values():
            claim = fn.claimed_concurrency
            if not claim:
                continue
            claimed += claim
            left = account.concurrency - claimed
            if left < account.unreserved_minimum:
                key = "reserved_concurrency" if fn.reserved_concurrency is not None else "provisioned_concurrency"
                self.fail(
                    ("functions", fn.name, key),
                    f"{claim} would leave {left} unreserved of the account's {account.concurrency}; "
                    f"Lambda keeps at least {account.unreserved_minimum} unreserved ({limits.RESV})",
                )

    def queue(self, name: str, data: dict[str, Any]) -> Queue:
        path = ("queues", name)
        size = limits.SQS_MESSAGE_MAX_BYTES
        if "max_message_size" in data:
            try:
                size = parse_size(data["max_message_size"])
            except ValueError as exc:
                self.fail((*path, "max_message_size"), str(exc))
        return Queue(
            name=name,
            fifo=bool(data.get("fifo")),
            visibility_timeout=self.duration(
                (*path, "visibility_timeout"), data.get("visibility_timeout"), limits.SQS_VISIBILITY_DEFAULT_S
            ),
            max_receive_count=data.get("max_receive_count"),
            dead_letter=data.get("dead_letter"),
            max_message_size=size,
        )

    def check_fifo_name(self, path: KeyPath, name: str, fifo: bool) -> None:
        """SQS and SNS FIFO names end in .fifo, and only FIFO names do
        (https://docs.aws.amazon.com/AWSSimpleQueueService/latest/SQSDeveloperGuide/FIFO-queues.html)."""
        if fifo != name.endswith(".fifo"):
            self.fail(
                path,
                f"a FIFO name ends in .fifo and only FIFO names do: name it {name.removesuffix('.fifo')}"
                f"{'.fifo' if fifo else ''} or {'remove' if fifo else 'add'} fifo: true",
            )

    def check_queue_redrive(self, queue: Queue, queues: dict[str, Queue]) -> None:
        if queue.dead_letter is None:
            return
        path = ("queues", queue.name, "dead_letter")
        target = queues.get(queue.dead_letter)
        if target is None:
            self.fail(path, f"no queue named {queue.dead_letter!r}{did_you_mean(queue.dead_letter, list(queues))}")
        elif target.fifo != queue.fifo:
            self.fail(path, "a queue's dead-letter queue must be of the same type (both FIFO or both standard)")

    # --- traffic and expectations -------------------------------------------------------------

    def traffic(self, index: int, data: dict[str, Any], functions: dict[str, Function]) -> Traffic:
        path = ("traffic", index)
        target = data["target"]
        kind, _, name = target.partition(":")
        if kind in SENT_TO:
            known = self.targets[kind]
            if name not in known and kind == "edge":
                self.fail(
                    (*path, "target"),
                    f"no function is associated with the {name!r} trigger; the edge section has "
                    f"{', '.join(known) or 'none'}",
                )
            elif name not in known:
                self.fail((*path, "target"), f"no {kind} named {name!r}{did_you_mean(name, list(known))}")
            if "invocation" in data:
                how = (
                    "its mapping reads them"
                    if kind == "stream"
                    else "CloudFront calls the function synchronously"
                    if kind == "edge"
                    else f"a {kind}'s functions are invoked asynchronously"
                )
                self.fail(
                    (*path, "invocation"), f"messages sent to a {kind} are not invocations; remove 'invocation' ({how})"
                )
        elif ":" in target:
            function, _, qualifier = target.partition(":")
            fn = functions.get(function)
            if fn is None:
                self.fail((*path, "target"), f"no function named {function!r}{did_you_mean(function, list(functions))}")
            elif qualifier != "$LATEST" and qualifier not in fn.versions and qualifier not in fn.aliases:
                known = ["$LATEST", *fn.versions, *fn.aliases]
                self.fail(
                    (*path, "target"),
                    f"{function} has no version or alias {qualifier!r}{did_you_mean(qualifier, known)}; "
                    f"it has {', '.join(known)}",
                )
        elif target not in functions:
            self.fail(
                (*path, "target"),
                f"no function named {target!r}{did_you_mean(target, list(functions))}; "
                "a queue target is written queue:NAME",
            )
        has_rate, has_burst = "rate" in data, "burst" in data
        if has_rate == has_burst:
            self.fail(path, "give either 'rate' (with 'for') or 'burst' (with 'at')")
        if has_rate and "for" not in data:
            self.fail(path, "missing required key 'for': how long the rate lasts, such as 60s")
        for a, b in (
            ("rate", "at"),
            ("burst", "for"),
            ("burst", "arrivals"),
            ("event", "events"),
            ("message", "event"),
            ("message", "events"),
        ):
            if a in data and b in data:
                self.fail((*path, b), f"'{b}' does not go with '{a}'")
        invocation = data.get("invocation", "sync")
        default = (
            f"cloudfront-{name}" if kind == "edge" and name in edge.TRIGGERS else {}
        )  # CloudFront's event for the trigger
        events = (
            tuple(self.event((*path, "events", i), e) for i, e in enumerate(data["events"]))
            if "events" in data
            else (
                self.event(
                    (*path, "message" if "message" in data else "event"),
                    data.get("message", data.get("event", default)),
                ),
            )
        )
        if invocation == "async":
            for i, event in enumerate(events):
                size = len(json.dumps(event, separators=(",", ":")).encode())
                if size > limits.ASYNC_PAYLOAD_MAX_BYTES:
                    self.fail(
                        (*path, "events", i) if "events" in data else (*path, "event"),
                        f"{size} bytes is above the asynchronous payload limit of "
                        f"{limits.ASYNC_PAYLOAD_MAX_BYTES} bytes",
                    )
        start = self.duration((*path, "start"), data.get("start"), 0.0)
        if has_burst:
            start = self.duration((*path, "at"), data.get("at"), 0.0)
        rate = 0.0
        if has_rate:
            try:
                rate = parse_rate(data["rate"])
            except ValueError as exc:
                self.fail((*path, "rate"), str(exc))
        base, _, qualifier = target.partition(":") if kind not in SENT_TO else (target, "", "")
        return Traffic(
            index=index,
            target=base,
            qualifier=qualifier,
            invocation=invocation,
            events=events,
            rate=rate,
            start=start,
            end=start + self.duration((*path, "for"), data.get("for"), 0.0),
            poisson=data.get("arrivals") == "poisson",
            burst=data.get("burst", 0),
            name=data.get("name", ""),
            principal=data.get("principal", ""),
            source_arn=data.get("source_arn", ""),
            source_account=str(data.get("source_account", "")),
            key=self.key_rule(path, data, kind, self.targets.get(kind, {}).get(name), events),
        )

    def check_traffic_volume(self, traffic: tuple[Traffic, ...], duration: float) -> None:
        """What the traffic sends within the run, in all, stays within what one run simulates."""
        total = 0.0
        for item in traffic:
            count = requests_sent(item, duration)
            total += count
            if total > MAX_REQUESTS:
                others = f" here, {total:,.0f} in all," if total > count else ""
                fix = "a smaller burst" if item.burst else "a lower rate or a shorter 'for'"
                self.fail(
                    ("traffic", item.index, "burst" if item.burst else "rate"),
                    f"{count:,.0f} requests{others} is more than one run simulates ({MAX_REQUESTS:,}): {fix}",
                )
                return

    def key_rule(
        self, path: KeyPath, data: dict[str, Any], kind: str, target: Any, events: tuple[Any, ...]
    ) -> KeyRule | None:
        """A stream record's partition key, or a FIFO message's group id: from the event, fixed, or cycling."""
        fifo = kind == "queue" and target is not None and target.fifo
        names = (
            ("partition_key", "partition_keys")
            if kind == "stream"
            else ("message_group", "message_groups")
            if fifo
            else ()
        )
        for key in ("partition_key", "partition_keys", "message_group", "message_groups"):
            if key in data and key not in names:
                self.fail(
                    (*path, key),
                    f"{key} is for traffic to a {'stream' if key.startswith('partition') else 'FIFO queue'}",
                )
        if not names:
            return None
        by, count = names
        if kind == "stream" and target is not None and target.kind == "dynamodb":
            paths = (
                [(*path, "events", i) for i in range(len(events))]
                if "events" in data
                else [(*path, "message" if "message" in data else "event")]
            )
            self.check_items(paths, target.key, events, target.name, by_traffic=by in data or count in data)
        if by in data and count in data:
            self.fail((*path, count), f"'{count}' does not go with '{by}'")
        if count in data:
            return KeyRule(count=data[count])
        value = data.get(by)
        if value is None:
            if fifo:
                self.fail(
                    path,
                    "every message sent to a FIFO queue needs a message group id: give message_group "
                    "(a JSON path such as $.customer, or one fixed id) or message_groups: N",
                )
            return KeyRule()
        if not value.startswith("$"):
            return KeyRule(fixed=value)
        parts = json_path(value)
        for i, event in enumerate(events):
            found = lookup(event, parts)
            if found is MISSING or found is None or isinstance(found, (dict, list)):
                self.fail(
                    (*path, by),
                    f"{'event ' + str(i) + ' of events' if len(events) > 1 else 'the event'} has no "
                    f"text or number at {value} to use as the {by.replace('_', ' ')}",
                )
                break
        return KeyRule(path=parts)

    def event(self, path: KeyPath, value: Any) -> Any:
        """An inline event, or the name of a sample event shipped in assets/events/."""
        if not isinstance(value, str):
            return value
        samples = content.sample_events()
        if value not in samples:
            self.fail(
                path,
                f"no sample event named {value!r}{did_you_mean(value, list(samples))}; "
                "write the event inline as a mapping, or use a sample name",
            )
            return {}
        return json.loads(samples[value].read_text("utf-8"))

    def expectation(self, index: int, data: dict[str, Any], functions: dict[str, Function]) -> Expectation:
        path = ("expect", index)
        metric = data["metric"]
        head = metric.split(".")[0]
        about = [key for key in ("function", "queue", "stream") if key in data]
        if len(about) > 1:
            self.fail(path, f"an expectation is about one function, queue or stream, not {' and '.join(about)}")
        known = EXPECTABLE_ACCOUNT
        for key, things, figures in (
            ("function", functions, EXPECTABLE_FUNCTION),
            ("queue", self.targets["queue"], EXPECTABLE_QUEUE),
            ("stream", self.targets["stream"], EXPECTABLE_STREAM),
        ):
            if key in data:
                if data[key] not in things:
                    self.fail((*path, key), f"no {key} named {data[key]!r}{did_you_mean(data[key], list(things))}")
                known = figures
                break
        if "version" in data:
            known = self.expected_version(path, data, functions)
        if head not in known:
            per_version = " for one version, which has only Invocations and Errors" if "version" in data else ""
            self.fail((*path, "metric"), f"unknown metric {metric!r}{per_version}{did_you_mean(head, list(known))}")
        elif known[head] and metric == head:
            self.fail(
                (*path, "metric"), f"{head} has parts; write one of: {', '.join(f'{head}.{p}' for p in known[head])}"
            )
        elif "." in metric and metric.split(".", 1)[1] not in known[head]:
            self.fail((*path, "metric"), f"{head} has the parts: {', '.join(known[head]) or 'none'}")
        value = data["value"]
        if isinstance(value, float) and not math.isfinite(value):
            self.fail((*path, "value"), "must be a finite number")
        return Expectation(
            index,
            metric,
            data["op"],
            value,
            data.get("function"),
            data.get("queue"),
            data.get("why", ""),
            data.get("stream"),
            data.get("version"),
        )

    def expected_version(
        self, path: KeyPath, data: dict[str, Any], functions: dict[str, Function]
    ) -> dict[str, tuple[str, ...]]:
        """An expectation about one version of a function: the figures the report keeps per version."""
        fn = functions.get(data["function"]) if "function" in data else None
        if "function" not in data:
            self.fail((*path, "version"), "a version belongs to a function: add function: NAME")
        elif fn is not None and data["version"] not in ("$LATEST", *fn.versions):
            versions = ["$LATEST", *fn.versions]
            self.fail(
                (*path, "version"),
                f"{data['function']} has no version {data['version']!r}; "
                f"it has {', '.join(versions)}{did_you_mean(data['version'], versions)}",
            )
        return EXPECTABLE_VERSION


def requests_sent(traffic: Traffic, duration: float) -> float:
    """About how many requests a traffic item sends in a run of `duration` seconds."""
    return traffic.burst if traffic.burst else traffic.rate * max(0.0, min(traffic.end, duration) - traffic.start)


def json_path(path: str) -> JsonPath:
    """ "$.Records[0].body" -> ("Records", 0, "body")."""
    return tuple(int(p[1:-1]) if p.startswith("[") else p for p in _json_path_parts(path))


def _json_path_parts(path: str) -> list[str]:
    """ "$.Records[0].body" -> ["Records", "[0]", "body"]."""
    parts, token = [], ""
    for ch in path[1:]:
        if ch in ".[":
            if token:
                parts.append(token)
            token = "[" if ch == "[" else ""
        elif ch == "]":
            parts.append(token + "]")
            token = ""
        else:
            token += ch
    if token:
        parts.append(token)
    return parts


def trusts(policy: Policy, service: str) -> bool:
    """Whether a role's trust policy lets `service` assume the role."""
    return evaluate(Request("sts:AssumeRole", "*", service), resource=policy).allowed
