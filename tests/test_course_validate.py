"""`lambdalab validate` on lessons: a good lesson passes, and each broken rule gets its own message and place."""

from __future__ import annotations

import copy
import json

import pytest
import yaml
from conftest import run_cli
from course_helpers import GOOD_LESSON, GOOD_PAGE, broken, write_course

from lambdalab.course.loader import load_course
from lambdalab.course.myths import CLAIMS, outdated_claims
from lambdalab.course.rules import check_course


def findings(tmp_path, lesson=None, page=GOOD_PAGE, folder="02-sample-lesson"):
    root = tmp_path / "lessons"
    write_course(root, lesson, page, folder)
    return check_course(load_course(root))


def messages(found) -> list[str]:
    return [str(e) for e in found.errors]


def test_the_good_lesson_passes(tmp_path):
    found = findings(tmp_path)
    assert messages(found) == []


def test_validate_command_passes_a_good_lesson_folder(tmp_path):
    folder = write_course(tmp_path / "lessons")
    result = run_cli("validate", str(folder))
    assert result.returncode == 0, result.stdout + result.stderr
    assert "checked 1 lessons: no problems" in result.stdout


def _question(lesson: dict, question_id: str) -> dict:
    quiz = next(s for s in lesson["steps"] if s["kind"] == "quiz")
    return next(q for q in quiz["questions"] if q["id"] == question_id)


def _lesson_with(edit) -> dict:
    lesson = copy.deepcopy(GOOD_LESSON)
    edit(lesson)
    return lesson


BROKEN = {
    "unknown key with a suggestion": (
        broken(minuts=5),
        "lesson.yaml:",
        "unknown key 'minuts' (did you mean 'minutes'?)",
    ),
    "missing sources": (
        {k: v for k, v in GOOD_LESSON.items() if k != "sources"},
        "lesson.yaml:1:1",
        "missing required key 'sources'",
    ),
    "source not on AWS": (
        broken(sources=[{"title": "A blog", "url": "https://example.com/lambda"}]),
        "sources",
        "list at least one AWS documentation page",
    ),
    "bad topic": (broken(topic="concurency"), "topic", "is not one of"),
    "prerequisite that does not exist": (
        broken(prerequisites=["no-such-lesson"]),
        "prerequisites[0]",
        "no lesson has the id 'no-such-lesson'",
    ),
    "single choice with two correct options": (
        _lesson_with(lambda lesson: _question(lesson, "cap")["options"][1].update(correct=True)),
        "steps[2].questions[0].options",
        "needs exactly one option with `correct: true`, this one has 2",
    ),
    "multiple choice with no correct option": (
        _lesson_with(lambda lesson: [o.pop("correct", None) for o in _question(lesson, "sources")["options"]]),
        "steps[2].questions[4].options",
        "needs at least one option with `correct: true`",
    ),
    "option without an explanation": (
        _lesson_with(lambda lesson: _question(lesson, "cap")["options"][0].pop("explanation")),
        "steps[2].questions[0].options[0]",
        "missing required key 'explanation'",
    ),
    "true/false without the explanation for one answer": (
        _lesson_with(lambda lesson: _question(lesson, "init-free")["explanations"].pop("true")),
        "steps[2].questions[1].explanations",
        "missing required key 'true'",
    ),
    "numeric wrong answer inside the tolerance": (
        _lesson_with(lambda lesson: _question(lesson, "sizing").update(tolerance=500)),
        "steps[2].questions[2].wrong_answers[0].value",
        "within the tolerance of the answer 100",
    ),
    "duplicate question id": (
        _lesson_with(lambda lesson: _question(lesson, "sizing").update(id="cap")),
        "steps[2].questions[2].id",
        "already has the id 'cap'",
    ),
    "missing page file": (
        _lesson_with(lambda lesson: lesson["steps"][0].update(page="99-missing.md")),
        "steps[0].page",
        "'99-missing.md' is not a file in 02-sample-lesson/",
    ),
    "unknown shipped scenario": (
        _lesson_with(lambda lesson: lesson["steps"][1].update(scenario="no-such-scenario")),
        "steps[1].scenario",
        "no shipped scenario named 'no-such-scenario'",
    ),
    "demo with both scenario kinds": (
        _lesson_with(lambda lesson: lesson["steps"][1].update(scenario_file="demo.yaml")),
        "steps[1]",
        "exactly one of `scenario`",
    ),
    "a try-this change outside the grammar": (
        _lesson_with(lambda lesson: lesson["steps"][1]["try"][0].update(change="delete the reservation")),
        "steps[1].try[0].change",
        "is not `path: value`",
    ),
    "a try-this change to a path the scenario lacks": (
        _lesson_with(lambda lesson: lesson["steps"][1]["try"][0].update(change="traffic[9].rate: 5/s")),
        "steps[1].try[0].change",
        "the scenario has no traffic[9]",
    ),
    "unknown exercise": (
        _lesson_with(
            lambda lesson: lesson["steps"].append(
                {"kind": "exercise", "id": "ex", "title": "Do it", "exercise": "nope"}
            )
        ),
        "steps[3].exercise",
        "no exercise with the id 'nope'",
    ),
    "outdated claim as a fact in a question": (
        _lesson_with(
            lambda lesson: _question(lesson, "cap").update(prompt="Lambda bills in 100 ms increments; what else?")
        ),
        "steps[2].questions[0].prompt",
        "outdated claim (billing-100ms)",
    ),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_each_broken_rule_is_named_with_its_place(tmp_path, case):
    lesson, where, message = BROKEN[case]
    found = messages(findings(tmp_path, lesson))
    assert any(where in m and message in m for m in found), found


def test_folder_must_match_the_id(tmp_path):
    found = messages(findings(tmp_path, folder="02-another-name"))
    assert any("the folder must be named NN-sample-lesson" in m for m in found), found


def test_page_rules_name_the_page_and_line(tmp_path):
    long_page = "# Title\n\n" + "\n\n".join(f"Paragraph {n}." for n in range(45)) + "\n"
    found = messages(findings(tmp_path, page=long_page))
    assert any("01-what.md:" in m and "has 46 Markdown blocks; keep a page to 40" in m for m in found), found
    big_page = "# Title\n\n" + ("word " * 1300) + "\n"
    found = messages(findings(tmp_path, page=big_page))
    assert any("01-what.md:1:1" in m and "keep a page under 6,000" in m for m in found), found


def test_broken_lesson_links_are_found_in_pages(tmp_path):
    page = GOOD_PAGE + "\nMore in [scaling](lesson:first-step) and [a step](lesson:first-steps#nowhere).\n"
    found = messages(findings(tmp_path, page=page))
    line = page.splitlines().index(next(lesson for lesson in page.splitlines() if "lesson:first-step)" in lesson)) + 1
    assert any(f"01-what.md:{line}:1" in m and "names no lesson (did you mean 'first-steps'?)" in m for m in found), (
        found
    )
    assert any("names no step of first-steps (steps: intro)" in m for m in found), found


def test_outdated_claim_in_a_page_outside_a_myth_quote(tmp_path):
    page = GOOD_PAGE + "\nThe maximum timeout is 5 minutes, so split long jobs.\n"
    found = messages(findings(tmp_path, page=page))
    assert any("01-what.md:" in m and "outdated claim (timeout-5min)" in m and "900 s" in m for m in found), found


def test_demo_waiting_for_a_feature_is_a_note_not_an_error(tmp_path):
    lesson = _lesson_with(
        lambda lesson: lesson["steps"][1].pop("scenario") and lesson["steps"][1].update(scenario_file="demo.yaml")
    )
    root = tmp_path / "lessons"
    folder = write_course(root, lesson)
    (folder / "demo.yaml").write_text(
        "name: snapshots\nduration: 10s\nfunctions:\n  api:\n    snap_start: {apply_on: PublishedVersions}\n"
        "    behaviour: {init: 200ms, duration: 100ms}\n"
        "traffic:\n  - {target: api, rate: 1/s, for: 5s}\n"
    )
    result = run_cli("validate", str(folder))
    assert result.returncode == 0, result.stdout
    assert (
        "note: " in result.stdout
        and "waits for SnapStart snapshots, not simulated yet (functions.api.snap_start)" in result.stdout
    )
    assert "1 demo scenario feature(s) not simulated yet" in result.stdout


def test_demo_scenario_with_a_real_error_fails(tmp_path):
    lesson = _lesson_with(
        lambda lesson: lesson["steps"][1].pop("scenario") and lesson["steps"][1].update(scenario_file="demo.yaml")
    )
    folder = write_course(tmp_path / "lessons", lesson)
    (folder / "demo.yaml").write_text(
        "name: x\nduration: 10s\nfunctions:\n  api:\n    memory: 20000\n    behaviour: {duration: 1s}\n"
    )
    result = run_cli("validate", str(folder))
    assert result.returncode == 1
    assert "demo.yaml:5:5: functions.api.memory: 20000 is above the Lambda maximum of 10240 MB" in result.stdout


def test_unreadable_lesson_yaml_is_reported_not_raised(tmp_path):
    folder = write_course(tmp_path / "lessons")
    (folder / "lesson.yaml").write_text("id: [unclosed\n")
    result = run_cli("validate", str(tmp_path / "lessons"))
    assert result.returncode == 1
    assert "lesson.yaml:2:1: invalid YAML" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr


def test_validate_json_and_missing_path(tmp_path):
    folder = write_course(tmp_path / "lessons", broken(minutes=0))
    result = run_cli("validate", str(folder), "--json")
    data = json.loads(result.stdout)
    assert result.returncode == 1 and data["checked"] == {"lessons": 1, "scenarios": 0, "exercises": 0}
    assert data["errors"][0]["path"] == "minutes" and "below the minimum of 1" in data["errors"][0]["message"]
    missing = run_cli("validate", str(tmp_path / "nowhere"))
    assert missing.returncode == 2 and "no such file or folder" in missing.stderr


# --- outdated claims -------------------------------------------------------------------------

AS_FACT = {
    "memory-3gb": "The maximum memory is 3 GB.",
    "billing-100ms": "Duration is billed in 100 ms increments.",
    "timeout-5min": "A function can run for 5 minutes at most.",
    "retries-3": "Failed async events are retried 3 times.",
    "async-256kb": "An async payload may be 256 KB.",
    "init-free": "The Init phase is free.",
    "streaming-20mb": "A streamed response may be 20 MB.",
    "tmp-512-fixed": "/tmp is fixed at 512 MB.",
    "burst-region": "The Region's burst concurrency is 3,000.",
    "sqs-60-per-minute": "SQS pollers scale by 60 per minute.",
    "edge-50ms": "Lambda@Edge is billed in 50 ms increments.",
    "edge-node-only": "Lambda@Edge only supports Node.js.",
    "vpc-cold-start": "A function in a VPC adds about 10 seconds to every cold start.",
    "snapstart-java-only": "SnapStart is Java-only.",
    "free-tier-12-months": "The free tier ends after 12 months.",
    "url-none-one-permission": "With AuthType NONE you only need lambda:InvokeFunctionUrl.",
    "unhandled-500": "An unhandled exception returns HTTP 500 to the caller.",
    "edge-500": "Lambda@Edge errors give HTTP 500.",
    "one-request-per-environment": "Each execution environment handles one request at a time.",
}

CURRENT_FACTS = [
    "Throttled async events are retried with a backoff of up to 5 minutes.",
    "Canary10Percent5Minutes shifts 10 percent of traffic, then the rest after 5 minutes.",
    "The maximum timeout is 900 seconds (15 minutes); the default is 3 seconds.",
    "Memory goes from 128 MB to 10,240 MB in 1 MB steps.",
    "Billing is rounded up to the nearest 1 ms.",
    "A function error returns HTTP 200 with the X-Amz-Function-Error header.",
    "Function errors are retried up to 2 times, 3 attempts in all.",
    "The asynchronous payload limit is 1 MB.",
    "An unhandled exception in a Lambda@Edge function makes CloudFront answer 503; an invalid result gives 502.",
    "When the origin answers 500, a Lambda@Edge viewer-response function does not run.",
    "Lambda@Edge origin-response functions also run on origin errors such as 500.",
    "A Lambda@Edge function that fails after 500 ms is billed for 500 ms.",
    "An on-demand execution environment serves one request at a time.",
    "On demand, Lambda runs one request per environment; Managed Instances run many at once.",
    "See Beyond one request per environment for Managed Instances.",
    "A VPC function's cold start is no slower: its ENIs were made when it was configured.",
    "Creating a VPC function's ENIs can take several minutes; cold starts do not wait for them.",
    "In a VPC, a call with no route waits until the 10 s timeout.",
]


def test_every_claim_has_an_example():
    assert sorted(AS_FACT) == sorted(c.id for c in CLAIMS)


@pytest.mark.parametrize("claim_id", sorted(AS_FACT))
def test_outdated_claim_stated_as_fact_is_found(claim_id):
    assert [c.id for c, _ in outdated_claims(AS_FACT[claim_id])] == [claim_id]


@pytest.mark.parametrize("sentence", CURRENT_FACTS)
def test_current_facts_are_not_mistaken_for_myths(sentence):
    assert outdated_claims(sentence) == []


def test_a_myth_quote_or_myth_question_may_name_the_claim(tmp_path):
    page = GOOD_PAGE + "\n> **Myth:** The maximum memory is 3 GB.\n> **Fact:** 10,240 MB since December 2020.\n"
    lesson = _lesson_with(
        lambda lesson: _question(lesson, "init-free").update(prompt="Myth or fact: the Init phase is free.")
    )
    assert messages(findings(tmp_path, lesson, page)) == []
    lesson = _lesson_with(
        lambda lesson: _question(lesson, "init-free").update(prompt="Myth or fact: the Init phase is free.", myth=False)
    )
    assert any("outdated claim (init-free)" in m for m in messages(findings(tmp_path, lesson, page)))


EDGE_500_AND_ONE_REQUEST = {
    "edge-500": [
        "CloudFront answers 500 when a Lambda@Edge function raises an exception.",
        "An exception in an edge function makes CloudFront return **500** to the viewer.",
        "CloudFront turns Lambda@Edge failures into status codes:\n  **500** when the function raised an error.",
    ],
    "one-request-per-environment": [
        "Lambda runs one request per environment.",
        "One request at a time per execution environment is how Lambda scales.",
        "An environment serves **one\nrequest at a time**, so scale comes from more environments.",
    ],
}


@pytest.mark.parametrize(
    ("claim_id", "sentence"), [(c, s) for c, sentences in EDGE_500_AND_ONE_REQUEST.items() for s in sentences]
)
def test_edge_500_and_one_request_per_environment_in_other_words(claim_id, sentence):
    assert [c.id for c, _ in outdated_claims(sentence)] == [claim_id]


def test_on_demand_far_from_the_claim_does_not_excuse_it():
    far = "On-demand functions bill per request. " + "Nothing else matters here, " * 6 + "and "
    assert [c.id for c, _ in outdated_claims(far + "an environment serves one request at a time.")] == [
        "one-request-per-environment"
    ]


def test_edge_500_and_one_request_are_allowed_as_marked_myths(tmp_path):
    page = (
        GOOD_PAGE
        + "\n> **Myth:** Lambda@Edge errors give HTTP 500, and each environment serves one request at a time.\n"
        + "> **Fact:** 503 for an execution error; one at a time only on demand.\n"
    )
    myth = "Myth or fact: Lambda@Edge errors give HTTP 500."
    lesson = _lesson_with(lambda lesson: _question(lesson, "init-free").update(prompt=myth))
    assert messages(findings(tmp_path, lesson, page)) == []
    unmarked = GOOD_PAGE + "\nLambda@Edge errors give HTTP 500, and each environment serves one request at a time.\n"
    lesson = _lesson_with(lambda lesson: _question(lesson, "init-free").update(prompt=myth, myth=False))
    found = messages(findings(tmp_path / "unmarked", lesson, unmarked))
    assert any("01-what.md:" in m and "outdated claim (edge-500)" in m and "503" in m for m in found), found
    assert any("01-what.md:" in m and "outdated claim (one-request-per-environment)" in m for m in found), found
    assert any("lesson.yaml:" in m and "outdated claim (edge-500)" in m for m in found), found


def test_shipped_lessons_teach_no_outdated_claim_as_fact():
    found = check_course(load_course())
    assert [str(e) for e in found.errors if "outdated claim" in e.message] == []


def test_lesson_yaml_bombs_are_refused(tmp_path):
    folder = write_course(tmp_path / "lessons")
    (folder / "lesson.yaml").write_bytes(b"\x00\x01binary")
    result = run_cli("validate", str(folder))
    assert result.returncode == 1 and "this is a binary file, not YAML text" in result.stdout
    (folder / "lesson.yaml").write_text(yaml.safe_dump(GOOD_LESSON) + "# " + "x" * (2 * 1024 * 1024) + "\n")
    result = run_cli("validate", str(folder))
    assert result.returncode == 1 and "YAML input is limited to 1024 KB" in result.stdout


def test_numbers_that_merely_contain_an_old_limit_are_not_claims():
    assert outdated_claims("Each gets a burst of 1,500 requests at 0 s.") == []
    assert outdated_claims("Raise it by 2,500 per minute.") == []
