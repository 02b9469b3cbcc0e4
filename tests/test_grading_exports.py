"""Each grade export against the real specification it claims, on results built from the result model: Jenkins'
junit-10.xsd, Exercism's results.json v3 (a JSON Schema written from its documented interface), Gradescope's
documented keys, and GitHub Classroom's reporter, its arithmetic re-implemented as its source does it."""

from __future__ import annotations

import argparse
import base64
import copy
import csv
import io
import json
import shutil
import xml.etree.ElementTree as ET
from dataclasses import replace

import jsonschema
import pytest
import xmlschema
import yaml
from conftest import REPO

from lambdalab.commands.grade import _render
from lambdalab.grading import exports
from lambdalab.grading.exercises import load_catalogue
from lambdalab.grading.results import ERROR, FAIL, PASS, SKIP, CheckResult, ExerciseResult, WorkspaceResult
from lambdalab.grading.validation import check_exercises

# Jenkins' xUnit plugin's schema (see the comment at its top for where it comes from).
JUNIT_XSD = xmlschema.XMLSchema(REPO / "tests" / "data" / "junit-10.xsd")

# Exercism's results.json, version 3, from exercism/docs building/tooling/test-runners/interface.md: `error` only when
# no test ran and then a message; otherwise tests, `pass` only if every test passed, `fail` if one failed or
# errored; a failing or erroring test carries a message; output at most 500 characters; task_id an integer.
EXERCISM_V3 = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "additionalProperties": False,
    "required": ["version", "status"],
    "properties": {
        "version": {"const": 3},
        "status": {"enum": ["pass", "fail", "error"]},
        "message": {"type": ["string", "null"], "maxLength": 65_535},
        "tests": {"type": "array", "items": {"$ref": "#/$defs/test"}},
    },
    "allOf": [
        {
            "if": {"properties": {"status": {"const": "error"}}},
            "then": {
                "required": ["message"],
                "properties": {
                    "message": {"type": "string", "minLength": 1},
                    "tests": {"items": {"properties": {"status": {"const": "error"}}}},
                },
            },
            "else": {"required": ["tests"], "properties": {"message": {"type": "null"}}},
        },
        {
            "if": {"properties": {"status": {"const": "pass"}}},
            "then": {"properties": {"tests": {"items": {"properties": {"status": {"const": "pass"}}}}}},
        },
        {
            "if": {"properties": {"status": {"const": "fail"}}},
            "then": {"properties": {"tests": {"contains": {"properties": {"status": {"enum": ["fail", "error"]}}}}}},
        },
    ],
    "$defs": {
        "test": {
            "type": "object",
            "additionalProperties": False,
            "required": ["name", "status"],
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "status": {"enum": ["pass", "fail", "error"]},
                "message": {"type": ["string", "null"]},
                "output": {"type": "string", "maxLength": 500},
                "test_code": {"type": "string"},
                "task_id": {"type": "integer", "minimum": 1},
            },
            "if": {"properties": {"status": {"enum": ["fail", "error"]}}},
            "then": {"required": ["message"], "properties": {"message": {"type": "string", "minLength": 1}}},
        }
    },
}

# Gradescope's documented results.json keys (gradescope-autograders.readthedocs.io/en/latest/specs/), nothing else.
_FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
_VISIBILITY = {"enum": ["visible", "hidden", "after_due_date", "after_published"]}
GRADESCOPE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["score", "tests"],
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": _FORMAT,
        "test_output_format": _FORMAT,
        "test_name_format": _FORMAT,
        "visibility": _VISIBILITY,
        "stdout_visibility": _VISIBILITY,
        "extra_data": {"type": "object"},
        "leaderboard": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["name", "value"],
                "properties": {
                    "name": {"type": "string"},
                    "value": {"type": ["number", "string"]},
                    "order": {"enum": ["asc", "desc"]},
                },
            },
        },
        "tests": {
            "type": "array",
            "items": {
                "type": "object",
                "additionalProperties": False,
                "required": ["score", "max_score", "status", "name"],
                "properties": {
                    "score": {"type": "number"},
                    "max_score": {"type": "number"},
                    "status": {"enum": ["passed", "failed"]},
                    "name": {"type": "string"},
                    "name_format": _FORMAT,
                    "number": {"type": "string"},
                    "output": {"type": "string"},
                    "output_format": _FORMAT,
                    "tags": {"type": "array", "items": {"type": "string"}},
                    "visibility": _VISIBILITY,
                    "extra_data": {"type": "object"},
                },
            },
        },
    },
}


def valid_junit(text: str) -> ET.Element:
    """The report, parsed from its UTF-8 bytes as a consumer reads it, after the XSD has accepted it."""
    data = text.encode("utf-8")  # a lone surrogate would fail here
    JUNIT_XSD.validate(text)
    return ET.fromstring(data)


def valid_exercism(data: dict) -> dict:
    jsonschema.Draft202012Validator(EXERCISM_V3).validate(data)
    return data


def reporter(runner_results: list[dict]) -> tuple[float, float, float]:
    """classroom-resources/autograding-grading-reporter (43c2d9f), as its source computes:
    the table (aggregate-results.js with helpers/test-helpers.js getTestScore: passing tests / all tests x max_score
    per runner, summed from 0) and the points posted (notify-classroom.js: the tests' `score` fields summed, for
    runners with a max_score). Returns (table total, posted points, posted max)."""
    table = 0
    for results in runner_results:
        passed = 0
        for test in results["tests"]:
            passed = passed + 1 if test["status"] == "pass" else passed
        table = table + (passed / len(results["tests"])) * (results["max_score"] or 0)
    total_points = max_points = 0
    for results in runner_results:
        if not results["max_score"]:
            continue
        max_points += results["max_score"]
        for test in results["tests"]:
            total_points += test["score"]
    return table, total_points, max_points


def decoded(line: str) -> dict:
    """What the reporter reads from `<RUNNER>_RESULTS`: base64 of the grader's JSON."""
    return json.loads(base64.b64decode(line.strip().removeprefix("result=")).decode("utf-8"))


def check(
    check_id: str,
    status: str = PASS,
    points: float = 2,
    hidden: bool = False,
    message: str = "",
    output: str = "",
    name: str = "",
) -> CheckResult:
    return CheckResult(
        id=check_id,
        name=name or check_id.replace("-", " "),
        order=1,
        status=status,
        score=points if status == PASS else 0.0,
        max_score=points,
        hidden=hidden,
        message=message or ("" if status == PASS else f"{check_id} went wrong\nWhy it matters: ..."),
        output=output,
        test_code="- {response: $.statusCode, equals: 200}",
        tags=("handler",),
        duration_s=0.25,
    )


def exercise(
    checks: list[CheckResult],
    exercise_id: str = "proxy-response",
    message: str = "",
    files: dict[str, str] | None = None,
    started_at: str = "2030-01-02T03:04:05Z",
) -> ExerciseResult:
    for order, c in enumerate(checks, start=1):
        c.order = order
    return ExerciseResult(
        exercise_id=exercise_id,
        title="A title",
        lesson="invocation-models",
        tool_version="0.1.0",
        content_sha256="c" * 64,
        seed=1234,
        started_at=started_at,
        duration_s=1.5,
        files_sha256={"app.py": "a" * 64} if files is None else files,
        checks=checks,
        message=message,
    )


def workspace(*exercises: ExerciseResult, path: str = "/nowhere/ada") -> WorkspaceResult:
    return WorkspaceResult(path, list(exercises))


EVERY_STATUS = workspace(
    exercise([check("answers-200"), check("content-type", FAIL), check("bad-request", FAIL, hidden=True)]),
    exercise(
        [check("writes-tmp", ERROR, message="01-tmp-cache/app.py is missing"), check("warm-hit", SKIP)],
        exercise_id="tmp-cache",
    ),
    exercise([], exercise_id="lose-nothing", message="grading stopped after the 600 s time limit for a submission"),
)


# --- JUnit ----------------------------------------------------------------------------------------------------


def test_junit_of_every_status_is_valid_against_jenkins_xsd_and_counts_match():
    root = valid_junit(exports.junit_xml(EVERY_STATUS))
    assert "skipped" not in root.attrib  # the XSD refuses it on <testsuites>
    suites = root.findall("testsuite")
    assert [s.get("name") for s in suites] == ["proxy-response", "tmp-cache", "lose-nothing"]
    for suite in suites:
        cases = suite.findall("testcase")
        assert int(suite.get("tests")) == len(cases)
        for kind, attribute in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            assert int(suite.get(attribute)) == sum(c.find(kind) is not None for c in cases)
    assert (root.get("tests"), root.get("failures"), root.get("errors")) == ("6", "2", "2")
    hidden = suites[0].findall("testcase")[2]
    assert hidden.find("failure").text == "hidden check failed"  # its details stay out
    assert suites[2].find("testcase/error").get("message").startswith("grading stopped")


def test_the_xsd_refuses_what_the_export_used_to_write():
    with pytest.raises(xmlschema.XMLSchemaValidationError):
        JUNIT_XSD.validate('<testsuites name="ws" tests="0" failures="0" errors="0" skipped="0"/>')


def test_junit_strips_every_character_xml_forbids_and_keeps_the_rest():
    forbidden = "\x00\x01\x07\x08\x0b\x0c\x1b\x1f\ud800\udfff\ufffe\uffff"
    kept = "café ✓ 名前 🐍 \U0010fffd"
    result = workspace(
        exercise(
            [
                check(
                    "unicode",
                    FAIL,
                    name=f"{kept} {forbidden}name",
                    message=f"{forbidden}first line {kept}\nsecond",
                    output=f"printed\x00 {forbidden} {kept}\n\ttabbed\r\nend",
                ),
                check("skipped", SKIP, message=f"not run{forbidden}"),
            ],
            exercise_id="proxy-response",
            files={f"app{forbidden}.py": "a" * 64},
        ),
        path=f"/subs/ada{forbidden}",
    )
    text = exports.junit_xml(result)
    assert not any(ch in text for ch in forbidden)
    root = valid_junit(text)
    case = root.find("testsuite/testcase")
    assert case.get("name") == f"{kept} name"
    assert case.find("failure").get("message") == f"first line {kept}"
    assert case.find("system-out").text == f"printed  {kept}\n\ttabbed\nend"  # XML reads CR LF as LF
    assert root.find("testsuite/testcase[2]/skipped").get("message") == "not run"
    assert root.get("name") == "/subs/ada"


# --- Exercism ----------------------------------------------------------------------------------------------------


def test_exercism_lists_hidden_checks_by_name_and_status_only_so_the_status_agrees():
    failing_hidden = exercise(
        [check("answers-200", output="hello"), check("bad-request", FAIL, hidden=True, output="secret")]
    )
    data = valid_exercism(exports.exercism(failing_hidden, {"answers-200": 1, "bad-request": 2}))
    assert data["status"] == "fail" and data["message"] is None
    visible, hidden = data["tests"]
    assert visible == {
        "name": "answers 200",
        "status": "pass",
        "test_code": check("x").test_code,
        "output": "hello",
        "task_id": 1,
    }
    assert hidden == {"name": "bad request", "status": "fail", "message": exports.EXERCISM_HIDDEN, "task_id": 2}
    passing_hidden = exercise([check("answers-200"), check("bad-request", hidden=True)])
    assert valid_exercism(exports.exercism(passing_hidden))["tests"][1] == {"name": "bad request", "status": "pass"}


def test_a_top_level_fail_with_every_listed_test_passing_is_refused_by_the_schema():
    with pytest.raises(jsonschema.ValidationError):
        valid_exercism({"version": 3, "status": "fail", "message": None, "tests": [{"name": "a", "status": "pass"}]})


def test_exercism_says_error_only_when_no_check_ran():
    not_loaded = exercise(
        [
            check("answers-200", ERROR, message="01-proxy-response/app.py is missing"),
            check("bad-request", ERROR, hidden=True, message="hidden detail"),
        ]
    )
    data = valid_exercism(exports.exercism(not_loaded))
    assert data["status"] == "error" and data["message"] == "01-proxy-response/app.py is missing"
    assert [t["status"] for t in data["tests"]] == ["error", "error"]
    assert "hidden detail" not in json.dumps(data)

    timed_out = exercise([check("answers-200", SKIP, message="time limit")], message="grading stopped: time limit")
    assert valid_exercism(exports.exercism(timed_out))["message"] == "grading stopped: time limit"

    one_ran = exercise([check("answers-200", ERROR, message="could not run"), check("content-type")])
    data = valid_exercism(exports.exercism(one_ran))
    assert data["status"] == "fail" and data["tests"][0] == {
        "name": "answers 200",
        "status": "error",
        "message": "could not run",
        "test_code": check("x").test_code,
    }


def test_exercism_caps_output_at_500_characters_and_messages_at_65535_bytes():
    long = exercise([check("answers-200", FAIL, message="é" * 40_000, output="x" * 4_000)])
    test = valid_exercism(exports.exercism(long))["tests"][0]
    assert len(test["output"]) <= 500 and test["output"].endswith(exports.EXERCISM_OUTPUT_NOTE)
    assert 60_000 < len(test["message"].encode("utf-8")) <= 65_535  # 80,000 bytes of "é" before
    assert len(valid_exercism(exports.exercism(exercise([check("a", output="y" * 500)])))["tests"][0]["output"]) == 500


def test_exercism_writes_one_results_json_per_exercise_with_the_tasks_of_the_course(tmp_path):
    catalogue = load_catalogue()
    course = [catalogue.get("proxy-response"), catalogue.get("remaining-time")]

    def graded(path):
        return workspace(
            exercise([check(c.id, hidden=c.hidden, points=c.points) for c in course[0].checks], "proxy-response"),
            exercise([check(c.id, FAIL, hidden=c.hidden, points=c.points) for c in course[1].checks], "remaining-time"),
            path=str(path),
        )

    for name in ("ada", "grace"):
        (tmp_path / "subs" / name).mkdir(parents=True)
    files = dict(
        _render("exercism", [graded(tmp_path / "subs" / n) for n in ("ada", "grace")], course, _options(), 18, False)
    )
    assert sorted(files) == [
        f"exercism/{n}/{e}/results.json" for n in ("ada", "grace") for e in ("proxy-response", "remaining-time")
    ]
    proxy = valid_exercism(json.loads(files["exercism/ada/proxy-response/results.json"]))
    assert proxy["status"] == "pass"
    assert [t.get("task_id") for t in proxy["tests"]] == [c.task for c in course[0].checks] == [1, 1, 2]
    assert valid_exercism(json.loads(files["exercism/grace/remaining-time/results.json"]))["status"] == "fail"

    single = dict(_render("exercism", [graded(tmp_path / "alone")], course, _options(), 18, True))
    assert sorted(single) == ["exercism/proxy-response/results.json", "exercism/remaining-time/results.json"]


def _options(**given) -> argparse.Namespace:
    return argparse.Namespace(**{"assignment": "a", "hidden_checks": "after_due_date", **given})


# --- GitHub Classroom --------------------------------------------------------------------------------------------


def classroom_case(statuses: list[str], points: list[float], hidden: int | None = None) -> WorkspaceResult:
    checks = [
        check(f"check-{i}", status, points=p, hidden=i == hidden) for i, (status, p) in enumerate(zip(statuses, points))
    ]
    half = len(checks) // 2
    return workspace(exercise(checks[:half]), exercise(checks[half:], exercise_id="tmp-cache"))


WEIGHTS = [4, 2, 2, 3, 1, 4]
CLASSROOM_CASES = {
    "good": classroom_case([PASS] * 6, WEIGHTS),
    "bad": classroom_case([FAIL] * 6, WEIGHTS),
    "partial": classroom_case([PASS, FAIL, FAIL, PASS, FAIL, ERROR], WEIGHTS),
    "partial-light": classroom_case([FAIL, PASS, PASS, FAIL, PASS, FAIL], WEIGHTS),
    "halves": classroom_case([PASS, FAIL, PASS, FAIL], [1.5, 2, 0.5, 3.5]),
    "one-unit-each": classroom_case([PASS, FAIL, PASS], [3, 3, 3]),
    "not-run": workspace(exercise([check("a", SKIP, points=3), check("b", ERROR, points=2)])),
}


@pytest.mark.parametrize("case", CLASSROOM_CASES)
def test_the_reporters_table_and_posted_points_both_equal_lambdalabs_score(case):
    result = CLASSROOM_CASES[case]
    table, posted, max_points = reporter([decoded(exports.classroom_output(result))])
    assert posted == result.score  # the points Classroom records, exactly
    assert table == pytest.approx(result.score, abs=1e-9)  # the console table (a float quotient)
    assert f"{table:.2f}" == f"{result.score:.2f}"  # as its per-runner line prints it (toFixed(2))
    assert max_points == result.max_score


def test_classroom_splits_a_weighted_check_into_units_that_pass_or_fail_with_it():
    data = exports.classroom(classroom_case([PASS, FAIL, ERROR], [4, 2, 1], hidden=1))
    names = [t["name"] for t in data["tests"]]
    assert names[:6] == [
        "proxy-response: check 0 (1 of 4)",
        "proxy-response: check 0 (2 of 4)",
        "proxy-response: check 0 (3 of 4)",
        "proxy-response: check 0 (4 of 4)",
        "tmp-cache: check 1 (1 of 2)",
        "tmp-cache: check 1 (2 of 2)",
    ]
    assert names[6] == "tmp-cache: check 2"
    assert [t["score"] for t in data["tests"]] == [1, 1, 1, 1, 0, 0, 0]
    assert [t["status"] for t in data["tests"]] == ["pass"] * 4 + ["fail", "fail", "error"]
    assert all(t["test_code"] == "" and t["message"] == "" for t in data["tests"][4:6])  # hidden: no details
    assert data["tests"][0]["test_code"] and not data["tests"][1]["test_code"]  # details once per check
    assert data["status"] == "fail" and data["max_score"] == 7
    assert exports.classroom(CLASSROOM_CASES["not-run"])["status"] == "error"
    assert exports.classroom(CLASSROOM_CASES["good"])["status"] == "pass"


# --- Gradescope --------------------------------------------------------------------------------------------------


def test_gradescope_uses_only_documented_keys():
    data = exports.gradescope(EVERY_STATUS)
    jsonschema.validate(data, GRADESCOPE_SCHEMA)
    assert data["score"] == sum(t["score"] for t in data["tests"]) == EVERY_STATUS.score
    hidden = next(t for t in data["tests"] if t["name"].endswith("bad request"))
    assert hidden["visibility"] == "after_due_date" and hidden["status"] == "failed"
    # `hidden` would not hide the total: by default no scored test uses it
    assert all(t["max_score"] == 0 for t in data["tests"] if t["visibility"] == "hidden")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "tests": [{**data["tests"][0], "hidden": True}]}, GRADESCOPE_SCHEMA)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({**data, "max_score": 8}, GRADESCOPE_SCHEMA)


def test_gradescope_hidden_checks_as_the_instructor_chooses_and_flags_for_instructors_only():
    flagged = copy.deepcopy(EVERY_STATUS)
    flagged.alerts = ["2 line(s) on the results channel were not written by the grader"]
    flagged.exercises[0].flags = [
        {"kind": "reference-copy", "file": "app.py", "how": "identical", "with": "the reference"}
    ]
    for choice in exports.HIDDEN_VISIBILITY:
        data = exports.gradescope(flagged, choice)
        jsonschema.validate(data, GRADESCOPE_SCHEMA)
        assert {t["visibility"] for t in data["tests"] if t["name"].endswith("bad request")} == {choice}
    notes = [t for t in exports.gradescope(flagged)["tests"] if t["name"].startswith("for the instructor")]
    assert [t["name"] for t in notes] == [
        "for the instructor: 2 line(s) on the results channel were not written by the grader",
        f"for the instructor: {flagged.exercises[0].exercise_id}/app.py is identical to the reference",
    ]
    assert all(t["visibility"] == "hidden" and t["max_score"] == 0 and t["status"] == "failed" for t in notes)
    assert exports.gradescope(flagged)["score"] == flagged.score  # a flag never changes the score


# --- CSV ---------------------------------------------------------------------------------------------------------


def test_the_csv_timestamp_is_when_the_learner_submitted():
    graded = workspace(exercise([check("a")]), path="/class/ada")
    graded.submitted_at = "2030-03-17T17:48:20Z"
    never_submitted = workspace(
        exercise([check("a")], started_at="2030-01-02T03:04:05Z"),
        exercise([check("b")], "remaining-time", started_at="2030-01-02T03:05:00Z"),
        path="/class/nobody",
    )
    rows = list(csv.DictReader(io.StringIO(exports.roll_up_csv([graded, never_submitted], "lab", 4))))
    assert rows[0]["timestamp"] == "2030-03-17T17:48:20Z"
    assert rows[1]["timestamp"] == "2030-01-02T03:04:05Z"  # no file: when grading started


# --- the `task` of a check --------------------------------------------------------------------------------------


def test_validate_refuses_a_task_past_the_last_numbered_step(tmp_path):
    folder = tmp_path / "exercises" / "17-one-bucket-invokes"
    shutil.copytree(REPO / "exercises" / "17-one-bucket-invokes", folder)
    data = yaml.safe_load((folder / "exercise.yaml").read_text())
    data["instructions"] += "\n1. add aws:SourceArn;\n2. add aws:SourceAccount.\n\n   1. an indented item is no task\n"
    data["checks"][0]["task"], data["checks"][1]["task"] = 2, 3
    (folder / "exercise.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    _, errors = check_exercises(tmp_path / "exercises", folder)
    assert [(e.path, e.message) for e in errors] == [
        ("checks[1].task", "task 3, but the instructions number 2 step(s) (top-level `1.` items or `## 1.` headings)")
    ]


def test_tasks_are_top_level_numbered_items_or_numbered_level_two_headings():
    base = load_catalogue().get("proxy-response")
    assert base.tasks == 2
    headings = "# Instructions\n\n## 1. Define it\n\ntext\n\n## 2. Use it\n\n### 3. not a task\n"
    assert replace(base, instructions=headings).tasks == 2
    ignored = "Steps:\n\n- 1. a bullet\n\n```\n1. in code\n```\n\n  - 2. nested\n\n1. the one task\n"
    assert replace(base, instructions=ignored).tasks == 1
