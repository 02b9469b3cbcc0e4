"""Assertions are type-strict and say what the code did; every shipped exercise is proved: its reference
solution passes every check (hidden ones too) and its starter fails at least one."""

from __future__ import annotations

import pytest

from lambdalab.grading.assertions import Observed, evaluate, problems, same
from lambdalab.grading.exercises import load_catalogue
from lambdalab.grading.validation import check_exercises


def seen(*responses, logs=None, tables=None, errors=None) -> Observed:
    count = len(responses)
    return Observed(list(responses), errors or [None] * count, logs or [""] * count, {}, tables or {}, [None] * count)


@pytest.mark.parametrize(
    "got, expected", [(1, True), ("200", 200), (0, False), (None, 0), ([1], [True]), ({"a": 1}, {"a": "1"})]
)
def test_equality_keeps_json_types_apart(got, expected):
    assert not same(got, expected)
    assert evaluate({"response": "$", "equals": expected}, seen(got)) is not None


def test_numbers_compare_as_numbers():
    assert same(1, 1.0) and same({"a": [1, 2.0]}, {"a": [1.0, 2]})


def test_a_path_descends_into_a_json_body():
    response = {"statusCode": 200, "body": '{"photo": "p-1"}'}
    assert evaluate({"response": "$.body.photo", "equals": "p-1"}, seen(response)) is None
    failure = evaluate({"response": "$.body.photo", "equals": "p-2"}, seen(response))
    assert failure == 'response $.body.photo is "p-1" (string); expected "p-2" (string)'


def test_each_invocation_must_hold_unless_one_is_named():
    check = {"response": "$.n", "equals": 1}
    assert (
        evaluate(check, seen({"n": 1}, {"n": 2})) == "invocation 2: response $.n is 2 (integer); expected 1 (integer)"
    )
    assert evaluate({**check, "invocation": 1}, seen({"n": 1}, {"n": 2})) is None


def test_a_failed_invocation_is_named_when_a_response_was_expected():
    failure = evaluate(
        {"response": "$.n", "equals": 1}, seen(None, errors=[{"errorType": "KeyError", "errorMessage": "'id'"}])
    )
    assert failure == "expected a response, but it failed: KeyError: 'id'"


def test_counting_log_lines_and_table_writes():
    observed = seen({}, {}, logs=["creating client\n", "creating client\n"], tables={"charges": [{"id": 1}, {"id": 1}]})
    assert (
        evaluate({"logs": True, "count": "creating client", "equals": 1}, observed)
        == "matches of /creating client/ in logs is 2 (integer); expected 1 (integer)"
    )
    assert evaluate({"table": "charges", "length": 1}, observed).startswith("table charges is [")


def test_authoring_mistakes_are_found():
    assert problems({"response": "$", "equals": 1}) == []
    assert problems({"response": "$", "logs": True, "equals": 1})
    assert problems({"response": "$", "equal": 1})
    assert problems({"logs": True, "matches": "("})


SHIPPED = [e.folder.name for e in load_catalogue().exercises]


def test_the_course_ships_at_least_twenty_exercises_over_every_topic():
    catalogue = load_catalogue()
    assert not catalogue.errors
    assert len(catalogue.exercises) >= 20
    from lambdalab.course.loader import load_course

    topics = {lesson.id: lesson.topic for lesson in load_course().lessons}
    covered = {topics[e.lesson] for e in catalogue.exercises}
    assert covered >= {"invocation", "concurrency", "lifecycle", "permissions", "versions", "edge"}
    assert all(any(c.hidden for c in e.checks) for e in catalogue.exercises)


@pytest.mark.parametrize("folder", SHIPPED)
def test_each_shipped_exercise_is_proved(folder):
    from lambdalab.grading.exercises import exercises_dir

    count, errors = check_exercises(exercises_dir(), exercises_dir() / folder)
    assert count == 1
    assert not errors, "\n".join(str(e) for e in errors)


def test_a_check_override_replaces_and_removes_what_the_learner_wrote():
    from lambdalab.grading.scenario_check import merged

    learner = {"functions": {"f": {"code": ".", "handler": "app.handler", "memory": 128}}, "traffic": [{"rate": "1/s"}]}
    override = {"functions": {"f": {"code": None, "handler": None, "timeout": "3s"}}, "traffic": [{"rate": "9/s"}]}
    assert merged(learner, override) == {
        "functions": {"f": {"memory": 128, "timeout": "3s"}},
        "traffic": [{"rate": "9/s"}],
    }
