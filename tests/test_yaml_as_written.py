"""YAML read as people write it: YAML 1.2's booleans (only true and false), so `off`, `on`, `yes` and `no` are
the words they look like wherever a name or a value is text, with a message that says what to write where a
boolean was meant the YAML 1.1 way."""

from __future__ import annotations

import gc
import json

import pytest
import yaml
from conftest import run_cli

from lambdalab.inputs import InputErrors, load_yaml

WORDS = ("off", "on", "yes", "no", "y", "n", "Off", "NO")


@pytest.mark.parametrize("word", WORDS)
def test_yaml_1_1_booleans_are_words(word):
    doc = load_yaml("w.yaml", text=f"{word}: {word}\nlist: [{word}, true, false, True, FALSE]\nquoted: '{word}'\n")
    assert doc.data == {word: word, "list": [word, True, False, True, False], "quoted": word}
    assert doc.position((word,)) == (1, 1)


@pytest.mark.parametrize("text", ["\ufeff\n", "\ufeff# only a comment\n"])
def test_text_that_holds_no_document_is_empty(text):
    """Text given as a str keeps its byte order mark: YAML finds no document in it (it once crashed)."""
    with pytest.raises(InputErrors, match="the file is empty"):
        load_yaml("w.yaml", text=text)


def test_functions_queues_and_event_values_named_off_on_yes_no(tmp_path):
    path = tmp_path / "words.yaml"
    path.write_text("""\
name: functions named like YAML 1.1 booleans
duration: 10s
queues:
  no: {}
functions:
  off:
    behaviour: {init: 0ms, duration: 10ms}
  on:
    behaviour: {init: 0ms, duration: 10ms, errors: {when: {path: $.flag, equals: yes}}}
    async: {on_failure: no, maximum_retry_attempts: 0}
traffic:
  - {target: off, invocation: sync, rate: 1/s, for: 5s}
  - {target: on, invocation: async, rate: 1/s, for: 5s, events: [{flag: yes}, {flag: no}]}
""")
    result = run_cli("sim", str(path), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert set(report["functions"]) == {"off", "on"}
    assert report["functions"]["off"]["metrics"]["Invocations"] == 5
    # The rule matched the text "yes" in the events: the failing ones went to the queue called no.
    assert report["functions"]["on"]["outcomes"]["to_on_failure"] > 0
    assert report["queues"]["no"]["NumberOfMessagesSent"] == report["functions"]["on"]["outcomes"]["to_on_failure"]


def test_a_yaml_1_1_boolean_where_true_or_false_is_meant_says_what_to_write(tmp_path):
    path = tmp_path / "old.yaml"
    path.write_text("""\
name: true
duration: 10s
queues:
  q: {}
functions:
  f:
    behaviour: {init: 0ms, duration: 10ms}
event_source_mappings:
  - {source: queue:q, function: f, report_batch_item_failures: yes}
traffic:
  - {target: queue:q, rate: 1/s, for: 5s}
""")
    result = run_cli("sim", str(path))
    assert result.returncode == 2
    assert (
        f"{path}:9:36: event_source_mappings[0].report_batch_item_failures: expected true or false, got text "
        "('yes': lambdalab reads YAML 1.2, where only true and false are booleans; write true)"
    ) in result.stderr
    assert f'{path}:1:1: name: expected text, got true/false (to mean the word, quote it: "true")' in result.stderr
    assert "Traceback" not in result.stderr


def test_a_file_read_leaves_nothing_of_its_parse_in_memory():
    """Reading YAML keeps the data and its positions, not PyYAML's nodes: a server that reads files all day
    (every learner's scenarios and lessons) must not grow with each one (it once kept every node ever built)."""
    text = "".join(f"key{i}: [{i}, value{i}, {{nested: {i}.5}}]\n" for i in range(200))

    def live_nodes() -> int:
        gc.collect()
        return sum(isinstance(o, yaml.Node) for o in gc.get_objects())

    load_yaml("warm.yaml", text=text)
    before = live_nodes()
    for n in range(5):
        assert load_yaml(f"f{n}.yaml", text=text).data["key7"] == [7, "value7", {"nested": 7.5}]
    assert live_nodes() == before
