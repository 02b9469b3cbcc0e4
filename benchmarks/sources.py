"""Performance benchmark for event source mappings: a million SQS messages with partial failures and a DLQ,
and a million Kinesis records with poison records bisected away.

    python benchmarks/sources.py [--messages N] [--records N] [--json]

Target (issue: engine breadth): an SQS mapping scenario moving 1,000,000 messages, with partial batch
failures and a dead-letter queue, finishes in under 15 s (parsing, run and report; one process). The
Kinesis run has no target of its own; its time is reported beside it.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from lambdalab.engine import Simulation, parse_scenario  # noqa: E402
from lambdalab.engine.report import build_report  # noqa: E402

TARGET_S = 15.0


def scenario(messages: int) -> str:
    rate = 10_000
    seconds = messages / rate
    return f"""\
name: a million SQS messages
duration: {seconds + 600:g}s
queues:
  orders: {{visibility_timeout: 60s, max_receive_count: 3, dead_letter: orders-dlq}}
  orders-dlq: {{}}
functions:
  worker:
    timeout: 10s
    behaviour:
      init: 200ms
      duration: {{mean: 40ms, jitter: 10ms}}
      errors: {{when: {{path: $.poison, equals: true}}}}
event_source_mappings:
  - {{source: queue:orders, function: worker, batch_size: 100, batching_window: 1s, report_batch_item_failures: true}}
traffic:
  - target: queue:orders
    rate: {rate}/s
    for: {seconds:g}s
    events: [{{n: 1}}, {{n: 2}}, {{n: 3}}, {{n: 4}}, {{n: 5}}, {{n: 6}}, {{n: 7}}, {{n: 8}}, {{n: 9}}, \
{{n: 10, poison: true}}]
"""


def kinesis_scenario(records: int) -> str:
    rate = 10_000
    seconds = records / rate
    poison = ", ".join(["{n: 1}"] * 9_999 + ["{n: 2, poison: true}"])  # one record in 10,000 always fails
    return f"""\
name: a million Kinesis records
duration: {seconds + 600:g}s
queues:
  skipped: {{}}
streams:
  clicks: {{type: kinesis, shards: 4}}
functions:
  reader:
    timeout: 30s
    behaviour:
      init: 200ms
      duration: {{mean: 40ms, jitter: 10ms}}
      errors: {{when: {{path: $.poison, equals: true}}}}
event_source_mappings:
  - {{source: stream:clicks, function: reader, starting_position: TRIM_HORIZON, batch_size: 100, \
parallelization_factor: 2,
      bisect_on_error: true, maximum_retry_attempts: 2, on_failure: queue:skipped}}
traffic:
  - {{target: stream:clicks, rate: {rate}/s, for: {seconds:g}s, events: [{poison}]}}
"""


def measure_kinesis(records: int) -> dict:
    started = time.perf_counter()
    sim = Simulation(parse_scenario(kinesis_scenario(records), "bench-kinesis.yaml")).run()
    report = build_report(sim)
    wall = time.perf_counter() - started
    stream = report["streams"]["clicks"]
    return {
        "records": stream["IncomingRecords"],
        "processed": stream["records"]["processed"],
        "to_on_failure": stream["records"]["to_on_failure"],
        "invocations": report["functions"]["reader"]["metrics"]["Invocations"],
        "max_iterator_age_ms": stream["IteratorAge"],
        "engine_events": sim.loop.events_run,
        "wall_s": round(wall, 2),
    }


def measure(messages: int) -> dict:
    started = time.perf_counter()
    parsed = parse_scenario(scenario(messages), "bench-sqs.yaml")
    sim = Simulation(parsed).run()
    report = build_report(sim)
    wall = time.perf_counter() - started
    queue, dlq = report["queues"]["orders"], report["queues"]["orders-dlq"]
    return {
        "messages": queue["NumberOfMessagesSent"],
        "deleted": queue["NumberOfMessagesDeleted"],
        "to_dlq": dlq["NumberOfMessagesSent"],
        "invocations": report["functions"]["worker"]["metrics"]["Invocations"],
        "engine_events": sim.loop.events_run,
        "wall_s": round(wall, 2),
        "target_s": TARGET_S,
        "met": messages < 1_000_000 or wall < TARGET_S,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=1_000_000)
    parser.add_argument("--records", type=int, default=1_000_000)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    out, kinesis = measure(args.messages), measure_kinesis(args.records)
    if args.json:
        print(json.dumps({"sqs": out, "kinesis": kinesis}, indent=2))
        return
    print(
        f"SQS mapping: {out['messages']:,} messages, {out['deleted']:,} deleted, {out['to_dlq']:,} to the DLQ, "
        f"{out['invocations']:,} invocations, {out['engine_events']:,} engine events: {out['wall_s']} s   "
        f"target {TARGET_S:g} s   met: {'yes' if out['met'] else 'NO'}"
    )
    print(
        f"Kinesis mapping: {kinesis['records']:,} records on 4 shards x 2, {kinesis['processed']:,} processed, "
        f"{kinesis['to_on_failure']:,} bisected away to the on-failure queue, {kinesis['invocations']:,} invocations, "
        f"max IteratorAge {kinesis['max_iterator_age_ms']:,.0f} ms, {kinesis['engine_events']:,} engine events: "
        f"{kinesis['wall_s']} s"
    )


if __name__ == "__main__":
    main()
