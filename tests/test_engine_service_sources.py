"""SNS topics and EventBridge buses as asynchronous sources: what is published reaches each subscriber, in AWS's
shapes."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_cli

HANDLERS = Path(__file__).parent / "handlers"

SCENARIO = f"""\
name: fan-out
duration: 2m
account: {{account_id: "111122223333"}}
queues:
  audit: {{}}
  echoes: {{}}
topics:
  orders: {{subscribers: [function:mailer, function:locked, queue:audit]}}
buses:
  default: {{targets: [function:mailer]}}
functions:
  mailer:
    code: {HANDLERS}
    handler: app.echo
    behaviour: {{init: 100ms, duration: 50ms}}
    async: {{on_success: "queue:echoes"}}
    resource_policy:
      - {{Effect: Allow, Principal: {{Service: sns.amazonaws.com}}, Action: "lambda:InvokeFunction", Resource: "*",
          Condition: {{ArnLike: {{"aws:SourceArn": "arn:aws:sns:us-east-1:111122223333:orders"}}}}}}
      - {{Effect: Allow, Principal: {{Service: events.amazonaws.com}}, Action: "lambda:InvokeFunction", Resource: "*"}}
  locked:
    behaviour: {{init: 100ms, duration: 50ms}}
traffic:
  - {{target: "topic:orders", rate: 1/s, for: 5s, event: {{order: 7}}}}
  - {{target: "bus:default", burst: 2, at: 10s, event: {{order: 8}}}}
"""


def test_a_topic_and_a_bus_fan_out_to_their_subscribers(tmp_path):
    path = tmp_path / "fanout.yaml"
    path.write_text(SCENARIO)
    result = run_cli("sim", str(path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    mailer, locked = report["functions"]["mailer"], report["functions"]["locked"]
    assert mailer["metrics"]["AsyncEventsReceived"] == 5 + 2 and mailer["outcomes"]["succeeded"] == 7
    # `locked` has no resource-based policy: SNS may not invoke it, as on AWS
    assert locked["outcomes"]["denied"] == 5 and locked["metrics"]["Invocations"] == 0
    assert report["queues"]["audit"]["NumberOfMessagesSent"] == 5
    events = [m["body"]["responsePayload"] for m in report["queues"]["echoes"]["messages"]]
    sns = events[0]["Records"][0]
    assert sns["EventSource"] == "aws:sns" and sns["Sns"]["TopicArn"] == "arn:aws:sns:us-east-1:111122223333:orders"
    assert json.loads(sns["Sns"]["Message"]) == {"order": 7}
    bus_event = events[-1]
    assert bus_event["detail"] == {"order": 8} and bus_event["account"] == "111122223333"
    assert {"version", "id", "detail-type", "source", "time", "region", "resources"} <= set(bus_event)


def test_a_subscriber_that_does_not_exist_is_named(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(SCENARIO.replace("function:locked", "function:lockd"))
    result = run_cli("sim", str(path))
    assert result.returncode == 2
    assert (
        "topics.orders.subscribers[1]: no function or queue named 'lockd' in this scenario (did you mean 'locked'?)"
        in result.stderr
    )
