"""Durable functions with real code: a handler written with AWS's SDK (`@durable_execution`) runs in the engine's
scenarios, each invocation replaying it in its worker against the checkpoint service in virtual time
(shared/reference/lambda-2026.md §2; https://docs.aws.amazon.com/lambda/latest/dg/durable-basic-concepts.html).

The functions give `behaviour: {init, duration}`, so virtual time follows the model, not the code's wall time
(RealCodeRef.modelled_timing): the service's clock then stands at each invocation's start, and the report
repeats byte for byte.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import pytest

from lambdalab.engine import Simulation, parse_scenario
from lambdalab.engine.report import build_report

HANDLERS = Path(__file__).parent / "handlers" / "durable"
DAY = 86_400.0
START = '  - {target: orders:$LATEST, invocation: async, burst: 1, at: 0s, execution_name: "order-{n}", event: EVENT}'
EVENT = "{amount: 42, order: o-7}"


def scenario(handler: str, traffic: str = "", duration: str = "10d") -> str:
    return (
        textwrap.dedent(
            f"""\
        duration: {duration}
        functions:
          orders:
            code: {HANDLERS}
            handler: approvals.{handler}
            timeout: 30s
            behaviour: {{init: 200ms, duration: 50ms}}
            durable: {{execution_timeout: 30d}}
        traffic:
        """
        )
        + "\n".join((START.replace("EVENT", EVENT), *([traffic] if traffic else [])))
        + "\n"
    )


def run(text: str) -> tuple[dict, list[tuple[float, str, dict]]]:
    events: list[tuple[float, str, dict]] = []
    with Simulation(parse_scenario(text, name="real.yaml")) as sim:
        sim.subscribe(lambda t, kind, data: events.append((t, kind, dict(data))))
        sim.run()
        return build_report(sim), events


def of(events: list[tuple[float, str, dict]], kind: str) -> list[tuple[float, dict]]:
    return [(t, d) for t, k, d in events if k == kind]


APPROVE = (
    '  - {target: callback:orders, execution: "order-{n}", callback: approval, burst: 1, at: 73h,'
    " event: {approved: true}}"
)


def test_a_step_a_three_day_wait_and_an_approval_run_to_success_over_three_invocations():
    report, events = run(scenario("approval", APPROVE))
    durable = report["functions"]["orders"]["durable"]
    assert durable["executions"]["succeeded"] == 1 and durable["executions"]["running"] == 0
    # Three invocations: up to the wait, after it up to the callback, after the approval to the end.
    assert (durable["invocations"], durable["replays"]) == (3, 2)
    starts = [t for t, _ in of(events, "invoke_start")]
    # Each is cold (the environment expired in between): Init 200 ms, then the handler. The wait ends 3 days
    # after the first invocation began (the service's clock stands at its start), and the approval at 73 h.
    assert starts == pytest.approx([0.2, 0.2 + 3 * DAY + 0.2, 73 * 3600 + 0.2])
    # The operations as AWS's service records them: the execution, charge, the wait, wait_for_callback's
    # context, callback and submitter step, ship; billed 1 each (a step 1 per attempt).
    assert durable["operations"]["by_type"] == {"EXECUTION": 1, "STEP": 3, "WAIT": 1, "CALLBACK": 1, "CONTEXT": 1}
    assert durable["operations"]["billed"] == 7 and durable["operations"]["step_attempts"] == 3
    assert durable["cost"]["operations_usd"] == pytest.approx(7 * 8.0 / 1e6)
    assert durable["callbacks"]["completed"] == 1 and durable["callbacks"]["rejected"] == 0
    (history,) = durable["history"]
    assert history["status"] == "SUCCEEDED" and history["invocations"] == 3 and history["operations"] == 7
    assert history["end_s"] == pytest.approx(73 * 3600 + 0.25)
    # The traffic's event, as JSON, is the callback's result, which the handler's replay gets (a string: the SDK
    # hands a callback's result over as it was sent).
    last_output = of(events, "invoke_end")[-1][1]["output"]
    assert 'approved: {"approved": true}' in last_output
    metrics = report["functions"]["orders"]["metrics"]
    assert metrics["Errors"] == 0 and metrics["Invocations"] == 3
    assert metrics["BilledDurationMs"] == 3 * (200 + 50)  # nothing billed while suspended for three days


def test_an_unanswered_callback_times_out_and_fails_the_execution():
    report, events = run(scenario("approval"))
    durable = report["functions"]["orders"]["durable"]
    assert durable["executions"]["failed"] == 1 and durable["callbacks"]["timed_out"] == 1
    (history,) = durable["history"]
    assert history["status"] == "FAILED" and history["invocations"] == 3
    # The error type as the SDK checkpointed it (its exception's qualified name).
    assert history["error"] == "aws_durable_execution_sdk_python.exceptions.CallbackTimeoutError"
    # The callback was created at the second invocation's start and times out two days later; the third
    # invocation (cold) replays, gets CallbackTimeoutError, and the handler does not catch it.
    assert history["end_s"] == pytest.approx(0.2 + 3 * DAY + 0.2 + 2 * DAY + 0.2 + 0.05)
    assert report["functions"]["orders"]["metrics"]["Errors"] == 0  # the SDK's FAILED answer, not an invoke error
    assert report["functions"]["orders"]["outcomes"]["failed"] == 1


def test_callback_traffic_finds_callbacks_by_the_name_the_handler_gave():
    wrong_name = APPROVE.replace("callback: approval", "callback: approve")
    late = APPROVE.replace("at: 73h", "at: 6d")  # after the timeout: refused, as CallbackTimeoutException
    report, _ = run(scenario("approval", f"{wrong_name}\n{late}"))
    durable = report["functions"]["orders"]["durable"]
    assert durable["callbacks"]["rejected"] == 2 and durable["callbacks"]["completed"] == 0
    assert durable["executions"]["failed"] == 1


def test_a_failed_step_attempt_suspends_until_its_retry_delay():
    report, events = run(scenario("flaky_charge", duration="1h"))
    durable = report["functions"]["orders"]["durable"]
    assert durable["executions"]["succeeded"] == 1
    assert durable["operations"]["step_attempts"] == 2 and durable["operations"]["retries"] == 1
    assert durable["operations"]["billed"] == 1 + 2  # the start, and the step's two attempts
    starts = [t for t, _ in of(events, "invoke_start")]
    assert starts == pytest.approx([0.2, 0.2 + 10])  # the retry 10 s after the attempt, in the warm environment


def test_the_report_repeats_byte_for_byte_with_modelled_timing():
    text = scenario("approval", APPROVE)
    first, second = (json.dumps(run(text)[0]) for _ in range(2))
    assert first == second


def test_heartbeats_keep_a_callback_alive_and_move_the_wake_up():
    """Each heartbeat moves the callback's heartbeat deadline an hour on; the suspended execution is woken by the
    answer, not by the deadline it had when it suspended (no extra invocation)."""
    job = '  - {target: callback:orders, execution: "order-{n}", callback: job, burst: 1, at: AT, outcome: OUTCOME}'
    beats = [job.replace("AT", at).replace("OUTCOME", "heartbeat") for at in ("50m", "100m")]
    answer = job.replace("AT", "140m").replace("OUTCOME", "success")
    report, _ = run(scenario("heartbeats", "\n".join((*beats, answer)), duration="1d"))
    durable = report["functions"]["orders"]["durable"]
    assert durable["executions"]["succeeded"] == 1 and durable["invocations"] == 2
    assert durable["callbacks"]["heartbeats"] == 2 and durable["callbacks"]["completed"] == 1
    # Without them, the callback times out an hour after it was created, and the execution fails.
    report, events = run(scenario("heartbeats", answer, duration="1d"))
    durable = report["functions"]["orders"]["durable"]
    assert durable["callbacks"] == {"completed": 0, "failed": 0, "timed_out": 1, "rejected": 1, "heartbeats": 0}
    assert [t for t, _ in of(events, "invoke_start")] == pytest.approx([0.2, 0.2 + 3600 + 0.2])
