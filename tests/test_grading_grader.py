"""The grader runs an exercise's checks at once and still reports them in authored order; a scenario check explains
a failed expectation from the run's trace."""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from pathlib import Path

import pytest

from lambdalab.grading.exercises import load_exercise
from lambdalab.grading.grader import grade_exercise
from lambdalab.grading.handler_check import CheckCannotRun
from lambdalab.grading.scenario_check import run_scenario
from lambdalab.paths import environments_dir

# Each invocation leaves its name in a shared folder (not under /tmp, which is each environment's own), then waits
# (up to 2 s) for the other's: it meets the other only if both run at the same time. One after the other, the first
# gives up and answers met: false.
RENDEZVOUS = """
import os, time

def handler(event, context):
    open(os.path.join(event["dir"], event["me"]), "w").close()
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        if os.path.exists(os.path.join(event["dir"], event["other"])):
            return {"met": True}
        time.sleep(0.02)
    return {"met": False}
"""


def rendezvous_exercise(root: Path, meeting: Path) -> Path:
    folder = root / "01-rendezvous"
    (folder / "starter").mkdir(parents=True)
    (folder / "starter" / "app.py").write_text(RENDEZVOUS)

    def check(me: str, other: str) -> str:
        return textwrap.dedent(f"""\
          - id: {me}
            name: {me} meets {other}
            points: 1
            why: checks run at once
            handler:
              handler: app.handler
              events: [{{event: {{me: {me}, other: {other}, dir: "{meeting}"}}}}]
            expect:
              - {{response: $.met, equals: true}}
        """)

    checks = "".join(check(me, other) for me, other in (("first", "second"), ("second", "first")))
    (folder / "exercise.yaml").write_text(
        "id: rendezvous\ntitle: Checks run at once\nlesson: invocation-models\ndifficulty: beginner\n"
        "instructions: Two checks that can only pass together.\nstarter: [app.py]\nhints: [Run them at once.]\n"
        "checks:\n" + checks
    )
    return folder


def test_the_checks_of_an_exercise_run_at_once_and_keep_their_order(tmp_path):
    environments_dir().mkdir(parents=True, exist_ok=True)
    meeting = Path(tempfile.mkdtemp(prefix="meeting-", dir=environments_dir()))
    exercise = load_exercise(rendezvous_exercise(tmp_path / "exercises", meeting))
    heard = []
    try:
        result = grade_exercise(exercise, exercise.folder / "starter", progress=lambda check, _: heard.append(check.id))
    finally:
        shutil.rmtree(meeting)
    assert [(c.id, c.status) for c in result.checks] == [("first", "pass"), ("second", "pass")]
    assert sorted(heard) == ["first", "second"]


# --- scenario checks explain a failed expectation from the run's own trace ---------------------------------


def explained(tmp_path: Path, scenario: str, expect: dict) -> str:
    (tmp_path / "scenario.yaml").write_text(textwrap.dedent(scenario))
    failures, _, _ = run_scenario({"file": "scenario.yaml"}, (expect,), tmp_path, seed=1)
    (failure,) = failures
    return failure


def test_a_throttle_is_explained_with_the_reservation_that_caused_it(tmp_path):
    failure = explained(
        tmp_path,
        """\
        duration: 10s
        functions:
          api: {reserved_concurrency: 5, behaviour: {init: 0ms, duration: 1s}}
        traffic:
          - {target: api, invocation: sync, burst: 8, at: 1.2s}
        """,
        {"metric": "Throttles", "function": "api", "op": "==", "value": 0},
    )
    assert failure.startswith("Throttles of api was 3; expected == 0.")
    assert (
        "(sync) was throttled at t=1.20 s because reserved concurrency 5 was reached while 5 environments "
        "were busy (ReservedFunctionConcurrentInvocationLimitExceeded)" in failure
    )


def test_an_error_on_a_version_explains_the_functions_figure(tmp_path):
    failure = explained(
        tmp_path,
        """\
        duration: 10s
        functions:
          checkout:
            behaviour: {init: 0ms, duration: 100ms}
            versions:
              "1": {}
              "2": {behaviour: {init: 0ms, duration: 100ms, errors: {rate: 1}}}
        traffic:
          - {target: "checkout:2", invocation: sync, burst: 2, at: 3s}
        """,
        {"metric": "Errors", "function": "checkout", "op": "==", "value": 0},
    )
    assert "to checkout:2 failed at t=3." in failure


@pytest.mark.parametrize(
    "version, first", [("2", "to checkout:2 failed at t=3."), ("$LATEST", "to checkout failed at t=5.")]
)
def test_an_expectation_about_one_version_is_explained_by_that_version(tmp_path, version, first):
    failure = explained(
        tmp_path,
        """\
        duration: 10s
        functions:
          checkout:
            behaviour: {init: 0ms, duration: 100ms, errors: {rate: 1}}
            versions:
              "2": {}
        traffic:
          - {target: "checkout:2", invocation: sync, burst: 2, at: 3s}
          - {target: checkout, invocation: sync, burst: 2, at: 5s}
        """,
        {"metric": "Errors", "function": "checkout", "version": version, "op": "==", "value": 0},
    )
    assert failure.startswith(f"Errors of checkout version {version} was 2; expected == 0.")
    assert first in failure


def test_records_a_stream_gave_up_are_explained(tmp_path):
    failure = explained(
        tmp_path,
        """\
        duration: 1m
        functions:
          f: {behaviour: {init: 0ms, duration: 100ms, errors: {when: {path: $.poison, equals: true}}}}
        queues: {skipped: {}}
        streams: {clicks: {type: kinesis}}
        event_source_mappings:
          - {source: stream:clicks, function: f, starting_position: TRIM_HORIZON, maximum_retry_attempts: 0,
             on_failure: queue:skipped}
        traffic:
          - {target: stream:clicks, burst: 2, at: 0s, partition_key: one, events: [{n: 1}, {poison: true}]}
        """,
        {"metric": "to_on_failure", "stream": "clicks", "op": "==", "value": 0},
    )
    assert "records 1, 2 of stream clicks (shard 0) were given up by f at t=" in failure


def test_a_check_whose_changes_break_the_learners_scenario_says_so(tmp_path):
    """The learner's file is valid alone; with the course's override it is not: the message must not send the
    learner to lines of their file that hold no such thing."""
    (tmp_path / "scenario.yaml").write_text(
        "duration: 10s\nfunctions:\n  api: {reserved_concurrency: 850, behaviour: {init: 0ms, duration: 10ms}}\n"
        "traffic:\n  - {target: api, invocation: sync, burst: 1, at: 0s}\n"
    )
    override = {"functions": {"api": {"reserved_concurrency": 950}}}
    with pytest.raises(CheckCannotRun) as caught:
        run_scenario({"file": "scenario.yaml", "override": override}, None, tmp_path, seed=1)
    assert str(caught.value).startswith(
        "scenario.yaml, with this check's changes: functions.api.reserved_concurrency: 950 would leave 50 unreserved"
    )


def test_a_save_made_while_the_first_check_runs_is_not_missed(tmp_path):
    """`lambdalab watch` checks once, then watches: changes count from before that first check."""
    from lambdalab.grading.watcher import snapshot, watch

    (tmp_path / "app.py").write_text("starter")
    baseline = snapshot(tmp_path)
    (tmp_path / "app.py").write_text("the learner's fix")  # saved while the first check was running
    heard: list[list[str]] = []
    polls = iter(range(20))
    watch(tmp_path, heard.append, stop=lambda: bool(heard) or next(polls) == 19, since=baseline)
    assert heard == [[str(tmp_path / "app.py")]]


def test_a_failed_expectation_names_the_mapping_it_is_about(tmp_path):
    failure = explained(
        tmp_path,
        """\
        duration: 30s
        queues: {jobs: {}}
        functions:
          worker: {behaviour: {init: 0ms, duration: 1s}}
        event_source_mappings:
          - {source: queue:jobs, function: worker, provisioned_pollers: {minimum: 2, maximum: 10}}
        traffic:
          - {target: queue:jobs, burst: 100, at: 0s}
        """,
        {"mapping": 0, "metric": "pollers.minimum", "op": "==", "value": 3},
    )
    assert failure.startswith("pollers.minimum of event source mapping 0 was 2; expected == 3.")
