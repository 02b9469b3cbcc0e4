"""Bad input never gives a traceback: any shipped scenario, lesson, exercise or policy, with a few values
replaced by something of the wrong kind or out of range (or removed), either loads or is refused with
positioned messages (InputErrors); a scenario that loads also runs."""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdalab.course.loader import load_lesson
from lambdalab.engine import Simulation, parse_scenario
from lambdalab.engine.scenario import requests_sent
from lambdalab.grading.exercises import load_exercise
from lambdalab.iam.policies import load_policy
from lambdalab.inputs.errors import InputErrors

REPO = Path(__file__).resolve().parent.parent
SHIPPED = [
    *sorted((REPO / "assets" / "scenarios").glob("*.yaml")),
    *sorted((REPO / "lessons").glob("*/*.yaml")),
    *sorted((REPO / "exercises").glob("*/starter/scenario.yaml")),
]
# Scenarios (not lesson files), and only models: real code would start worker processes for every example.
DOCUMENTS = {
    str(path.relative_to(REPO)): data
    for path in SHIPPED
    if isinstance(data := yaml.safe_load(path.read_text()), dict)
    and "duration" in data
    and "code:" not in path.read_text()
}

WRONG_VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**12), 10**12),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(
        [
            "",
            "0s",
            "-5s",
            "1e400s",
            "999999999999h",
            "abc",
            "10/s",
            "$.x",
            "queue:nowhere",
            "fn:9",
            "6mb",
            "0x10",
            "\u00e9\u00e8",
            "*" * 300,
        ]
    ),
    st.lists(st.integers(0, 3), max_size=3),
    st.dictionaries(st.sampled_from(["a", "rate", "for"]), st.integers(0, 5), max_size=2),
)


def _paths(data, prefix=()):
    """Every place in a document that holds a value, the document itself excluded."""
    items = data.items() if isinstance(data, dict) else enumerate(data) if isinstance(data, list) else ()
    for key, value in items:
        yield (*prefix, key)
        yield from _paths(value, (*prefix, key))


def _replace(data, path, value):
    holder = data
    for key in path[:-1]:
        holder = holder[key]
    holder[path[-1]] = value


def mutate(draw, document):
    """A copy of `document` with one to three values replaced by a wrong one, or their keys left out."""
    data = json.loads(json.dumps(document))
    for _ in range(draw(st.integers(1, 3))):
        paths = list(_paths(data))
        if not paths:
            break
        path = draw(st.sampled_from(paths))
        if draw(st.integers(0, 4)) == 0 and isinstance(path[-1], str):
            holder = data
            for key in path[:-1]:
                holder = holder[key]
            del holder[path[-1]]  # a key left out
        else:
            _replace(data, path, draw(WRONG_VALUES))
    return data


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(sorted(DOCUMENTS)))
    return name, mutate(draw, DOCUMENTS[name])


def _refused_with_positions(refused: InputErrors, file: str) -> None:
    assert refused.errors
    for error in refused.errors:
        assert error.file.endswith(file) and error.message


def test_the_fuzz_has_scenarios_to_mutate():
    assert len(DOCUMENTS) >= 20


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(mutated())
def test_a_mutated_scenario_loads_or_is_refused_with_positions(case):
    name, data = case
    text = yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
    try:
        scenario = parse_scenario(text, name=name)
    except InputErrors as refused:
        _refused_with_positions(refused, name)
        return
    if (
        sum(requests_sent(t, scenario.duration) for t in scenario.traffic) <= 200_000
    ):  # what loads runs (its first 20,000 events; a bigger one only costs time)
        with Simulation(scenario) as sim:
            sim.step(20_000)


@pytest.mark.parametrize("text", ["", "---\n", "[]", "42", "duration: [", "\t- x", "a: b\n  c: d", "\x00\x01"])
def test_malformed_documents_are_refused_with_positions(text):
    with pytest.raises(InputErrors) as refused:
        parse_scenario(text, name="bad.yaml")
    assert all(e.file == "bad.yaml" for e in refused.value.errors)


LESSONS = sorted(p.parent for p in (REPO / "lessons").glob("*/lesson.yaml"))
EXERCISES = sorted(p.parent for p in (REPO / "exercises").glob("*/exercise.yaml"))
POLICIES = sorted((REPO / "assets").rglob("*policy*.json")) + sorted((REPO / "exercises").rglob("*policy*.json"))


@pytest.mark.parametrize(
    "folders, filename, load",
    [
        (LESSONS, "lesson.yaml", load_lesson),
        (EXERCISES, "exercise.yaml", load_exercise),
    ],
    ids=["lesson", "exercise"],
)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.function_scoped_fixture],
)
@given(data=st.data())
def test_a_mutated_lesson_or_exercise_loads_or_is_refused_with_positions(folders, filename, load, data):
    source = data.draw(st.sampled_from(folders))
    document = mutate(data.draw, yaml.safe_load((source / filename).read_text()))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / source.name
        shutil.copytree(source, folder)
        (folder / filename).write_text(yaml.safe_dump(document, sort_keys=False, allow_unicode=True))
        try:
            load(folder)
        except InputErrors as refused:
            _refused_with_positions(refused, filename)


def test_the_fuzz_has_policies_to_mutate():
    assert len(POLICIES) >= 3 and len(LESSONS) >= 10 and len(EXERCISES) >= 20


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_a_mutated_policy_loads_or_is_refused_with_positions(data):
    source = data.draw(st.sampled_from(POLICIES))
    document = mutate(data.draw, json.loads(source.read_text()))
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / source.name
        path.write_text(json.dumps(document, indent=2))
        try:
            load_policy(path, data.draw(st.sampled_from(["identity", "resource"])))
        except InputErrors as refused:
            _refused_with_positions(refused, source.name)
