"""AWS SAM templates as scenarios (lambdalab/inputs/sam.py): what a template becomes, `sim` and `validate` on one,
scenario checks that name one, and the messages for what lambdalab's subset refuses."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, run_cli

from lambdalab.engine.scenario import build_scenario, load_scenario
from lambdalab.grading.scenario_check import run_scenario
from lambdalab.inputs import InputErrors, load_yaml
from lambdalab.inputs.sam import is_template, translate

HEAD = "AWSTemplateFormatVersion: '2010-09-09'\nTransform: AWS::Serverless-2016-10-31\n"

SHOP = (
    HEAD
    + """\
Description: Orders from a queue, and a checkout behind an alias
Metadata:
  lambdalab:
    duration: 10m
    seed: 3
    traffic:
      - {target: "queue:Orders", burst: 30, at: 0s, events: [{sku: a}, {sku: b}, {sku: bad}]}
      - {target: "Checkout:live", invocation: sync, rate: 10/s, for: 10m}
Parameters:
  Memory: {Type: Number, Default: "512"}
  Stage: {Type: String, Default: prod}
Globals:
  Function:
    Runtime: python3.13
    Timeout: 10
    Environment:
      Variables: {STAGE: !Ref Stage, LEVEL: info}
Resources:
  Orders:
    Type: AWS::SQS::Queue
    Properties:
      VisibilityTimeout: 60
      RedrivePolicy:
        deadLetterTargetArn: !GetAtt OrdersDLQ.Arn
        maxReceiveCount: 3
  OrdersDLQ:
    Type: AWS::SQS::Queue
  Worker:
    Type: AWS::Serverless::Function
    Metadata:
      lambdalab:
        behaviour:
          init: 300ms
          duration: 200ms
          errors: [{when: {path: $.sku, equals: bad}}]
    Properties:
      Handler: app.handler
      MemorySize: !Ref Memory
      ReservedConcurrentExecutions: 5
      EphemeralStorage: {Size: 1024}
      Environment:
        Variables:
          LEVEL: debug
          QUEUE_URL: !Ref Orders
          QUEUE_ARN: !Sub "${Orders.Arn}"
      Events:
        Jobs:
          Type: SQS
          Properties:
            Queue: !GetAtt Orders.Arn
            BatchSize: 5
            MaximumBatchingWindowInSeconds: 2
            FunctionResponseTypes: [ReportBatchItemFailures]
            ScalingConfig: {MaximumConcurrency: 4}
  Checkout:
    Type: AWS::Serverless::Function
    Metadata:
      lambdalab:
        behaviour: {init: 300ms, duration: 100ms, errors: {rate: 0.3}}
        previous: {behaviour: {init: 300ms, duration: 100ms}}
        deploy_at: 1m
    Properties:
      Handler: app.handler
      AutoPublishAlias: live
      DeploymentPreference:
        Type: Canary10Percent5Minutes
        Alarms: [!Ref CanaryErrors, !Ref LooseAlarm]
      Events:
        Buy: {Type: HttpApi, Properties: {Path: /buy, Method: post}}
  CanaryErrors:
    Type: AWS::CloudWatch::Alarm
    Properties: &alarm
      Namespace: AWS/Lambda
      MetricName: Errors
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 2
      ComparisonOperator: GreaterThanThreshold
  LooseAlarm:
    Type: AWS::CloudWatch::Alarm
    Properties:
      Namespace: AWS/Lambda
      MetricName: Errors
      Statistic: Sum
      Period: 60
      EvaluationPeriods: 1
      Threshold: 50
      ComparisonOperator: GreaterThanThreshold
"""
)


def template(text: str, name: str = "template.yaml"):
    return load_yaml(name, text=text, name=name)


def problems(text: str) -> list[str]:
    with pytest.raises(InputErrors) as caught:
        build_scenario(template(text))
    return [str(e) for e in caught.value.errors]


def test_short_form_tags_load_as_their_long_form_with_positions():
    doc = template("a: !Ref Q\nb: !GetAtt Q.Arn\nc: !GetAtt [Q, Arn]\nd: !Sub 'x-${Q}'\ne: !!str 3\n")
    assert doc.data == {
        "a": {"Ref": "Q"},
        "b": {"Fn::GetAtt": "Q.Arn"},
        "c": {"Fn::GetAtt": ["Q", "Arn"]},
        "d": {"Fn::Sub": "x-${Q}"},
        "e": "3",  # YAML's own tags keep their meaning
    }
    assert doc.positions[("c", "Fn::GetAtt", 1)] == (3, 16)


def test_a_template_becomes_the_scenario_it_describes():
    data = translate(template(SHOP)).doc.data
    worker, checkout = data["functions"]["Worker"], data["functions"]["Checkout"]
    assert worker["memory"] == 512 and worker["timeout"] == "10s" and worker["runtime"] == "python3.13"
    assert worker["reserved_concurrency"] == 5 and worker["ephemeral_storage"] == 1024
    assert worker["environment"] == {
        "STAGE": "prod",  # Globals, a parameter's Default
        "LEVEL": "debug",  # the function's own value wins over Globals'
        "QUEUE_URL": "https://sqs.us-east-1.amazonaws.com/123456789012/Orders",
        "QUEUE_ARN": "arn:aws:sqs:us-east-1:123456789012:Orders",
    }
    assert data["queues"] == {
        "Orders": {"visibility_timeout": "60s", "dead_letter": "OrdersDLQ", "max_receive_count": 3},
        "OrdersDLQ": {},
    }
    assert data["event_source_mappings"] == [
        {
            "source": "queue:Orders",
            "function": "Worker",
            "batch_size": 5,
            "batching_window": "2s",
            "report_batch_item_failures": True,
            "maximum_concurrency": 4,
        }
    ]
    assert checkout["versions"] == {"1": {"behaviour": {"init": "300ms", "duration": "100ms"}}, "2": {}}
    assert checkout["aliases"] == {"live": {"version": "1"}}
    # the lowest alarm threshold fires first
    assert data["deployments"] == [
        {
            "function": "Checkout",
            "alias": "live",
            "to": "2",
            "config": "Canary10Percent5Minutes",
            "start": "1m",
            "alarm": {"errors_over": 2},
        }
    ]
    assert data["duration"] == "10m" and data["seed"] == 3 and len(data["traffic"]) == 2
    assert data["description"] == "Orders from a queue, and a checkout behind an alias"


def test_sam_defaults_are_the_engines():
    """An SQS event with only its Queue: SAM's BatchSize 10 and no batching window
    (https://docs.aws.amazon.com/serverless-application-model/latest/developerguide/sam-property-function-sqs.html)
    are the mapping's own defaults; a run needs a length, 1 minute unless Metadata gives one."""
    text = (
        HEAD
        + """\
Resources:
  Q: {Type: AWS::SQS::Queue}
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {lambdalab: {behaviour: {init: 100ms, duration: 10ms}}}
    Properties:
      Events: {E: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn}}}
"""
    )
    scenario = build_scenario(template(text))
    (mapping,) = scenario.event_source_mappings
    assert mapping.batch_size == 10 and mapping.batching_window == 0.0 and not mapping.report_batch_item_failures
    assert scenario.duration == 60.0


def test_filter_patterns_are_the_mappings_filter_criteria():
    text = (
        HEAD
        + """\
Resources:
  Q: {Type: AWS::SQS::Queue}
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {lambdalab: {behaviour: {init: 100ms, duration: 10ms}}}
    Properties:
      Events:
        E:
          Type: SQS
          Properties:
            Queue: !GetAtt Q.Arn
            FilterCriteria: {Filters: [{Pattern: '{"body": {"amount": [{"numeric": [">=", 100]}]}}'}]}
"""
    )
    (mapping,) = translate(template(text)).doc.data["event_source_mappings"]
    assert mapping["filter_criteria"] == [{"body": {"amount": [{"numeric": [">=", 100]}]}}]
    assert any("Filters[0].Pattern: not JSON text" in p for p in problems(text.replace("]}}'}", "]}'}")))


def test_first_deploy_and_a_deploy_without_preference():
    """Without `previous` there is one version and nothing to shift; with it but no DeploymentPreference, the
    alias moves at once (as AllAtOnce), at deploy_at."""
    base = (
        HEAD
        + """\
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {lambdalab: {behaviour: {init: 100ms, duration: 10ms}PREVIOUS}}
    Properties:
      AutoPublishAlias: live
      ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 3}
"""
    )
    first = translate(template(base.replace("PREVIOUS", ""))).doc.data
    assert first["functions"]["Fn"]["versions"] == {"1": {"provisioned_concurrency": 3}}
    assert first["functions"]["Fn"]["aliases"] == {"live": {"version": "1"}}
    assert "deployments" not in first
    update = base.replace("PREVIOUS", ", previous: {behaviour: {init: 100ms, duration: 20ms}}, deploy_at: 30s")
    update = update.replace("      ProvisionedConcurrencyConfig: {ProvisionedConcurrentExecutions: 3}\n", "")
    data = translate(template(update)).doc.data
    assert data["deployments"] == [
        {"function": "Fn", "alias": "live", "to": "2", "config": "AllAtOnce", "start": "30s"}
    ]


def test_sim_runs_a_template_and_the_canary_rolls_back(tmp_path: Path):
    path = tmp_path / "template.yaml"
    path.write_text(SHOP)
    result = run_cli("sim", str(path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert (
        report["queues"]["OrdersDLQ"]["ApproximateNumberOfMessagesVisible"] == 10
    )  # the 10 bad orders, alone (partial batch responses)
    text = run_cli("sim", str(path)).stdout
    assert "Deployment of Checkout:live to version 2 (Canary10Percent5Minutes): rolled back" in text


def test_real_code_from_codeuri(tmp_path: Path):
    (tmp_path / "src").mkdir()
    (tmp_path / "src" / "app.py").write_text("def handler(event, context):\n    return {'ok': True}\n")
    (tmp_path / "template.yaml").write_text(
        HEAD
        + """\
Metadata:
  lambdalab:
    duration: 5s
    traffic: [{target: Hello, invocation: sync, rate: 1/s, for: 3s}]
    expect:
      - {metric: Errors, function: Hello, op: "==", value: 0}
      - {metric: Invocations, function: Hello, op: "==", value: 3}
Resources:
  Hello:
    Type: AWS::Serverless::Function
    Properties: {CodeUri: src/, Handler: app.handler, Runtime: python3.12}
"""
    )
    scenario = load_scenario(tmp_path / "template.yaml")
    code = scenario.functions["Hello"].code
    assert code is not None and code.folder == tmp_path / "src" and code.handler == "app.handler"
    result = run_cli("sim", str(tmp_path / "template.yaml"))
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_names_the_templates_lines(tmp_path: Path):
    path = tmp_path / "template.yaml"
    path.write_text(
        HEAD
        + """\
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {lambdalab: {behaviour: {init: 1s, duration: 1s}}}
    Properties:
      Timeout: 60
      Runtime: python2.7
      Events:
        E: {Type: SQS, Properties: {Queue: !GetAtt Q.Arn, BatchSize: 50}}
  Q: {Type: AWS::SQS::Queue}
"""
    )
    result = run_cli("validate", str(path))
    assert result.returncode == 1
    assert f"{path}:9:7: Resources.Fn.Properties.Runtime: 'python2.7' is not a Lambda runtime" in result.stdout
    path.write_text(path.read_text().replace("python2.7", "python3.13"))
    out = run_cli("validate", str(path)).stdout
    # the engine's own checks, named by the template's keys and lines
    assert f"{path}:11:37: Resources.Fn.Properties.Events.E.Properties.Queue: Queue visibility timeout: 30" in out
    assert f"{path}:11:59: Resources.Fn.Properties.Events.E.Properties.BatchSize: a batch size above 10" in out


@pytest.mark.parametrize(
    ("fragment", "expected"),
    [
        ("  T: {Type: AWS::DynamoDB::Table}\n", "template.yaml:9:7: Resources.T.Type: 'AWS::DynamoDB::Table' is not a"),
        (
            "  Q2: {Type: AWS::SQS::Queue, Properties: {FifoQueue: true}}\n",
            "Q2.Properties.FifoQueue: 'FifoQueue' is not in",
        ),
        ("  Q2: {Type: AWS::SQS::Queue, Properties: {VisibilityTimeout: !If [C, 1, 2]}}\n", "Fn::If (!If) is not in"),
        ("  Q2: {Type: AWS::SQS::Queue, Properties: {VisibilityTimout: 30}}\n", "(did you mean 'VisibilityTimeout'?)"),
        ("  Q2: {Type: AWS::SQS::Queue, Properties: {VisibilityTimeout: !Ref Missing}}\n", "no parameter or resource"),
    ],
)
def test_refused_features_name_file_line_and_key(fragment: str, expected: str):
    base = (
        HEAD
        + """\
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {lambdalab: {behaviour: {init: 1s, duration: 1s}}}
    Properties: {Timeout: 3}
  Q: {Type: AWS::SQS::Queue}
"""
    )
    assert any(expected in p for p in problems(base + fragment)), problems(base + fragment)


@pytest.mark.parametrize(
    ("properties", "expected"),
    [
        ("{Layers: [x]}", "Resources.Fn.Properties.Layers: 'Layers' is not in lambdalab's SAM subset"),
        ("{DeploymentPreference: {Type: AllAtOnce}}", "DeploymentPreference needs AutoPublishAlias"),
        (
            "{AutoPublishAlias: live, DeploymentPreference: {Type: Canary10Percent7Minutes}}",
            "(did you mean 'Canary10Percent5Minutes'?)",
        ),
        (
            "{Events: {E: {Type: SQS, Properties: {Queue: !Ref Q}}}}",
            "!Ref Q gives the queue's URL; Queue takes its ARN: !GetAtt Q.Arn",
        ),
        ("{Events: {E: {Type: S3, Properties: {Bucket: b}}}}", "'S3' is not an event type lambdalab runs"),
        ("{MemorySize: 100000}", "100000 is not MB, 128 to 10240"),
        (
            "{AutoPublishAlias: live, DeploymentPreference: {Type: AllAtOnce, Alarms: [!Ref Q]}}",
            "no AWS::CloudWatch::Alarm named 'Q'",
        ),
    ],
)
def test_function_properties_refused_with_reasons(properties: str, expected: str):
    text = (
        HEAD
        + f"""\
Resources:
  Q: {{Type: AWS::SQS::Queue}}
  Fn:
    Type: AWS::Serverless::Function
    Metadata: {{lambdalab: {{behaviour: {{init: 1s, duration: 1s}}}}}}
    Properties: {properties}
"""
    )
    found = problems(text)
    assert any(expected in p and p.startswith("template.yaml:") for p in found), found


def test_a_function_needs_a_model_or_code():
    text = HEAD + "Resources:\n  Fn:\n    Type: AWS::Serverless::Function\n    Properties: {Timeout: 3}\n"
    assert problems(text) == [
        "template.yaml:4:3: Resources.Fn: SAM says nothing about what the code does: give the function Metadata: "
        "{lambdalab: {behaviour: ...}} (a model of its code), or CodeUri (a folder of Python code) and Handler"
    ]


def test_alarm_shapes_lambdalab_does_not_model():
    text = SHOP.replace(
        "      Period: 60\n      EvaluationPeriods: 1\n      Threshold: 2",
        "      Period: 300\n      EvaluationPeriods: 1\n      Threshold: 2",
        1,
    )
    assert any("CanaryErrors.Properties.Period: 300 is not 60" in p for p in problems(text))


def test_what_is_a_template():
    assert is_template({"Transform": "AWS::Serverless-2016-10-31"}) and is_template({"Resources": {}})
    assert not is_template({"duration": "1m", "functions": {}})
    assert any("missing required key 'Transform'" in p for p in problems("Resources: {Q: {Type: AWS::SQS::Queue}}\n"))


def test_a_scenario_check_overrides_the_scenario_a_template_describes(tmp_path: Path):
    (tmp_path / "template.yaml").write_text(SHOP)
    setup = {
        "file": "template.yaml",
        "override": {
            "duration": "5m",
            "functions": {"Worker": {"behaviour": {"errors": None}}},  # the course's model: nothing fails
            "traffic": [{"target": "queue:Orders", "burst": 20, "at": "0s", "events": [{"sku": "bad"}]}],
        },
    }
    expect = ({"queue": "Orders", "metric": "NumberOfMessagesDeleted", "op": "==", "value": 20},)
    failures, _, report = run_scenario(setup, expect, tmp_path, seed=1)
    assert failures == [] and report["queues"]["OrdersDLQ"]["ApproximateNumberOfMessagesVisible"] == 0


def test_a_broken_template_in_a_scenario_check_names_its_line(tmp_path: Path):
    from lambdalab.grading.handler_check import CheckCannotRun

    (tmp_path / "template.yaml").write_text(SHOP.replace("BatchSize: 5", "BatchSize: five"))
    with pytest.raises(CheckCannotRun, match=r"template.yaml:\d+:\d+: Resources.Worker.Properties.Events.Jobs"):
        run_scenario({"file": "template.yaml"}, None, tmp_path, seed=1)


def test_the_exercise_template_is_a_valid_scenario():
    solution = REPO / "exercises" / "35-sam-safe-release" / "solution" / "template.yaml"
    assert set(load_scenario(solution).functions) == {"CheckoutFunction", "FulfilFunction"}


def test_the_simulator_opens_a_template_and_its_knobs_change_the_scenario():
    pytest.importorskip("textual")
    from lambdalab.tui.knobs import current_values
    from lambdalab.tui.screens.simulator import SimulatorScreen

    screen = SimulatorScreen(REPO / "exercises" / "35-sam-safe-release" / "solution" / "template.yaml")
    assert "Resources" not in screen.data and screen.scenario.deployments
    assert current_values(screen.data, "CheckoutFunction")["memory"] == 512
