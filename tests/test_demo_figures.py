"""Every demo of the shipped course re-runs, and the figures its watch lines and try-this answers quote are the run's
(issue 18, "Tests"); the matching rule itself (lambdalab/course/demo_figures.py) on small cases."""

from __future__ import annotations

import dataclasses

import pytest

from lambdalab.course.demo_figures import (
    ChangeError,
    Figures,
    apply_change,
    check_demo,
    missing,
    parse_change,
    quoted_figures,
)
from lambdalab.course.loader import load_course
from lambdalab.course.model import DemoStep

COURSE = load_course()
DEMOS = [(lesson, step) for lesson in COURSE.lessons for step in lesson.steps if isinstance(step, DemoStep)]


def test_the_course_has_demos_in_every_teaching_lesson_that_had_them():
    assert len(DEMOS) >= 30
    assert {lesson.number for lesson, _ in DEMOS} >= set(range(1, 15))


@pytest.mark.parametrize(("lesson", "step"), DEMOS, ids=[f"{lesson.id}#{step.id}" for lesson, step in DEMOS])
def test_every_figure_of_a_demo_is_the_run_s(lesson, step):
    mismatches = check_demo(lesson, step)
    assert not mismatches, f"{lesson.folder.name}/lesson.yaml, demo {step.id}:\n" + "\n".join(
        f"  {m}" for m in mismatches
    )


# --- the rule ---------------------------------------------------------------------------------------------------


def texts(line: str) -> list[str]:
    return [q.text for q in quoted_figures(line)]


def test_figures_are_numbers_with_separators_decimals_units_or_three_digits():
    line = "checkout shows 1,228 invocations, 172 throttles, 0.52 busy, 3,000.00 ms, $0.001303 and 17 % more"
    assert texts(line) == ["1,228", "172", "0.52", "3,000.00 ms", "$0.001303", "17 %"]


def test_small_counts_names_codes_and_code_spans_are_not_figures():
    line = (
        "lesson 3: 1 environment, 5 minutes, orders-80, arm64, traffic[1], p99, S3, HTTP 429, "
        "ran 3 times, `reserved_concurrency: 901`"
    )
    assert texts(line) == []


def test_a_small_count_is_a_figure_next_to_the_report_s_name_for_it():
    line = "60 requests and 28 Errors; ColdStarts is 29, in_flight 21, 15 are still running, peaks at 36 in 5 minutes"
    assert texts(line) == ["28", "29", "21", "15", "36"]


def test_a_ratio_in_times_is_a_figure_but_a_count_of_times_is_not():
    assert texts("costs 14 times as much") == ["14 times"]
    assert texts("each poison message is received 5 times, about 60 s apart") == []


def test_a_figure_matches_at_the_precision_written():
    run = Figures(shown={2860.03, 88312.0}, usd={0.0013026})
    assert missing("p50 2,860.03 ms, or 2,860 ms, costing $0.001303", [run]) == []
    assert missing("p50 2,860.04 ms", [run]) == ["2,860.04 ms"]
    assert missing("about 88,000 ms", [run]) == []
    assert missing("88,000 ms", [run]) == ["88,000 ms"]  # not "about": exact
    assert missing("about 90,000 ms", [run]) == []  # one significant digit
    assert missing("about 89,000 ms", [run]) == ["89,000 ms"]


def test_seconds_match_milliseconds_and_percentages_match_shares():
    run = Figures(shown={10100.0, 0.000194})
    assert missing("billed for only 10.1 s", [run]) == []
    assert missing("0.0194 % of its free GB-seconds", [run]) == []


def test_a_derived_figure_needs_its_arithmetic_written_or_a_ratio():
    run = Figures(shown={150.0, 700.0}, usd={0.003643, 0.003113})
    assert missing("$0.003643 against $0.003113, 17 % more", [run]) == []
    assert missing("$0.003643 against $0.003113, 27 % more", [run]) == ["27 %"]
    assert missing("billed 700 ms Init + 150 ms = 850 ms", [run]) == []
    assert missing("billed 850 ms (the Init and the work)", [run]) == ["850 ms"]


def test_money_matches_only_money():
    assert missing("costs $0.000544", [Figures(shown={0.000544})]) == ["$0.000544"]
    assert missing("costs $0.000544", [Figures(usd={0.000544})]) == []


def test_logs_and_trace_figures_count_only_where_the_line_mentions_them():
    run = Figures(shown={1.0}, logs={3250.0}, trace={840.15})
    assert missing("Billed Duration: 3250 ms", [run]) == ["3250 ms"]
    assert missing("the first REPORT line shows Billed Duration: 3250 ms", [run]) == []
    assert missing("env_shutdown comes at 840.15 s", [run]) == ["840.15 s"]
    assert missing("run with --trace: env_shutdown comes at 840.15 s", [run]) == []


def test_an_answer_may_quote_the_demo_s_own_run_after_the_changed_one():
    changed, base = Figures(usd={0.001393}), Figures(usd={0.001303})
    assert missing("from $0.001303 to $0.001393", [changed, base]) == []


# --- changes ----------------------------------------------------------------------------------------------------

SCENARIO = {
    "duration": "5m",
    "functions": {"api": {"memory": 512, "dead_letter_queue": "dlq", "role": {"policies": [{"Statement": [1, 2]}]}}},
    "traffic": [{"rate": "10/s"}, {"rate": "20/s", "at": "10s"}],
}


def test_a_change_sets_paths_with_list_indexes_and_several_are_joined():
    data = apply_change(SCENARIO, "traffic[1].at: 5s and functions.api.memory: 1024; duration: 3m")
    assert data["traffic"][1]["at"] == "5s" and data["functions"]["api"]["memory"] == 1024
    assert data["duration"] == "3m"
    assert SCENARIO["duration"] == "5m"  # the demo's own data is left alone


def test_a_change_creates_missing_mappings_appends_and_deletes_with_null():
    data = apply_change(
        SCENARIO,
        "functions.api.async.maximum_event_age: 60s and functions.api.dead_letter_queue: null "
        "and functions.api.role.policies[0].Statement[1]: null and traffic[2]: {rate: 5/s} (a remark)",
    )
    api = data["functions"]["api"]
    assert api["async"] == {"maximum_event_age": "60s"} and "dead_letter_queue" not in api
    assert api["role"]["policies"][0]["Statement"] == [1]
    assert data["traffic"][2] == {"rate": "5/s"}


@pytest.mark.parametrize(
    "change",
    [
        "delete functions.api.dead_letter_queue",
        "behaviour.duration of all three functions: 250ms",
        "functions.api.memory: {oops",
        "",
    ],
)
def test_a_change_outside_the_grammar_is_an_error(change):
    with pytest.raises(ChangeError):
        parse_change(change)


def test_a_change_to_a_path_the_scenario_lacks_is_an_error():
    with pytest.raises(ChangeError, match=r"traffic\[5\]"):
        apply_change(SCENARIO, "traffic[5].rate: 1/s")
    with pytest.raises(ChangeError, match="nothing"):
        apply_change(SCENARIO, "functions.api.nothing: null")


def test_a_wrong_figure_or_a_prose_change_in_a_demo_is_reported_with_its_line():
    lesson = COURSE.get("concurrency-and-throttling")
    step = lesson.step("burst")
    assert isinstance(step, DemoStep)
    wrong = step.watch[1].replace("1,228", "1,229")
    prose = dataclasses.replace(step.try_[0], change="delete functions.checkout.reserved_concurrency")
    tampered = dataclasses.replace(step, watch=(step.watch[0], wrong), try_=(prose,))
    mismatches = check_demo(lesson, tampered)
    assert [(m.where, m.line) for m in mismatches] == [("watch[1]", wrong), ("try[0].change", prose.change)]
    assert mismatches[0].problem == "not in the run: 1,229"
