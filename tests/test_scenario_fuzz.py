"""Bad input never gives a traceback: any shipped scenario, with any one value replaced by something of the
wrong kind or out of range, either loads or is refused with positioned messages (InputErrors), and what
loads runs."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lambdalab.engine import Simulation, parse_scenario
from lambdalab.inputs.errors import InputErrors

REPO = Path(__file__).resolve().parent.parent
SHIPPED = [*sorted((REPO / "assets" / "scenarios").glob("*.yaml")), *sorted((REPO / "lessons").glob("*/*.yaml")),
           *sorted((REPO / "exercises").glob("*/starter/scenario.yaml"))]
# Scenarios (not lesson files), and only models: real code would start worker processes for every example.
DOCUMENTS = {str(path.relative_to(REPO)): data for path in SHIPPED
             if isinstance(data := yaml.safe_load(path.read_text()), dict) and "duration" in data
             and "code:" not in path.read_text()}

WRONG_VALUES = st.one_of(
    st.none(), st.booleans(), st.integers(-10**12, 10**12), st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from(["", "0s", "-5s", "1e400s", "999999999999h", "abc", "10/s", "$.x", "queue:nowhere", "fn:9",
                     "6mb", "0x10", "\u00e9\u00e8", "*" * 300]),
    st.lists(st.integers(0, 3), max_size=3), st.dictionaries(st.sampled_from(["a", "rate", "for"]), st.integers(0, 5),
                                                             max_size=2),
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


@st.composite
def mutated(draw):
    name = draw(st.sampled_from(sorted(DOCUMENTS)))
    data = yaml.safe_load(yaml.safe_dump(DOCUMENTS[name]))  # a fresh copy
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
    return name, data


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
        assert refused.errors
        for error in refused.errors:
            assert error.file == name and error.message
        return
    with Simulation(scenario, until=min(scenario.duration, 5.0)) as sim:  # what loads runs (a few seconds of it)
        sim.run()


@pytest.mark.parametrize("text", ["", "---\n", "[]", "42", "duration: [", "\t- x", "a: b\n  c: d", "\x00\x01"])
def test_malformed_documents_are_refused_with_positions(text):
    with pytest.raises(InputErrors) as refused:
        parse_scenario(text, name="bad.yaml")
    assert all(e.file == "bad.yaml" for e in refused.value.errors)
