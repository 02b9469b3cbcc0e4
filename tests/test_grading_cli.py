"""The learner's and the instructor's loops, end to end as a user types them: start a workspace, fail,
fix with the reference solution, pass; bulk-grade a class with good, bad, broken and tampering
submissions, each export parsed back by a validator for its format."""

from __future__ import annotations

import csv
import io
import json
import queue
import shutil
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest
from conftest import REPO, run_cli
from test_grading_exports import EXERCISM_V3, GRADESCOPE_SCHEMA, JUNIT_XSD, decoded, reporter

from lambdalab.grading.exports import EXERCISM_HIDDEN

EXERCISE = "01-proxy-response"
SOLUTION = REPO / "exercises" / EXERCISE / "solution" / "app.py"


def workspace(tmp_path: Path, name: str = "ws") -> Path:
    result = run_cli("start", str(tmp_path / name))
    assert result.returncode == 0, result.stderr
    return tmp_path / name


def test_start_fail_fix_pass(tmp_path):
    ws = workspace(tmp_path)
    assert (ws / "lambdalab-workspace.json").is_file() and (ws / "README.md").is_file()
    assert (ws / EXERCISE / "app.py").read_text() == (REPO / "exercises" / EXERCISE / "starter" / "app.py").read_text()
    assert not (ws / EXERCISE / "solution").exists()  # the reference never reaches the workspace

    failing = run_cli("check", "proxy-response", cwd=ws)
    assert failing.returncode == 1
    assert "response $.statusCode is missing" in failing.stdout and "Why it matters" in failing.stdout
    assert "a hidden check" in failing.stdout
    refused = run_cli("hint", "proxy-response", "--solution", cwd=ws)
    assert refused.returncode == 2 and "opens once your checks pass" in refused.stderr

    shutil.copyfile(SOLUTION, ws / EXERCISE / "app.py")
    passing = run_cli("check", "proxy-response", cwd=ws / EXERCISE)  # from inside the exercise folder too
    assert passing.returncode == 0, passing.stdout
    assert "All checks pass" in passing.stdout
    solution = run_cli("hint", "proxy-response", "--solution", cwd=ws)
    assert solution.returncode == 0 and "def handler" in solution.stdout


def test_start_again_keeps_the_learners_files(tmp_path):
    ws = workspace(tmp_path)
    (ws / EXERCISE / "app.py").write_text("# mine\n")
    again = run_cli("start", str(ws))
    assert again.returncode == 0 and "kept" in again.stdout
    assert (ws / EXERCISE / "app.py").read_text() == "# mine\n"


def test_check_json_has_the_cli_shape_and_keeps_hidden_details_out(tmp_path):
    ws = workspace(tmp_path)
    result = run_cli("check", "proxy-response", "--json", cwd=ws)
    assert result.returncode == 1
    data = json.loads(result.stdout)
    exercise = data["exercises"][0]
    assert {"id", "score", "max_score", "status", "tests"} <= exercise.keys()
    assert exercise["status"] == "failed" and exercise["score"] == 0 and exercise["max_score"] == 8
    assert all({"name", "status", "message"} <= t.keys() for t in exercise["tests"])
    hidden = [t for t in exercise["tests"] if t["hidden"]]
    assert hidden and all(t["message"] == "" and t["status"] == "failed" for t in hidden)
    assert exercise["seed"] and len(exercise["files_sha256"]["app.py"]) == 64


def test_hints_are_a_ladder_and_each_reveal_is_recorded(tmp_path):
    first = run_cli("hint", "proxy-response")
    second = run_cli("hint", "proxy-response")
    assert "Hint 1 of 3" in first.stdout and "Hint 2" not in first.stdout
    assert "Hint 2 of 3" in second.stdout


def test_run_shows_what_happened_without_judging(tmp_path):
    ws = workspace(tmp_path)
    result = run_cli("run", "proxy-response", cwd=ws)
    assert result.returncode == 0
    assert "invocation 1 (cold start)" in result.stdout and '"photo": "p-1001"' in result.stdout
    assert "✗" not in result.stdout


def test_outside_a_workspace_check_says_how_to_make_one(tmp_path):
    result = run_cli("check", cwd=tmp_path)
    assert result.returncode == 2 and "lambdalab start" in result.stderr


# --- the instructor's loop --------------------------------------------------------------------------

TAMPERING = """import json, os, sys
print("All checks passed! 8/8")
for where in (".", "..", os.environ.get("HOME", ".")):
    try:
        open(os.path.join(where, "results.json"), "w").write(json.dumps({"score": 8, "tests": []}))
    except OSError:
        pass
try:
    import lambdalab.grading.assertions as a
    a.evaluate = lambda *args: None   # patch the grader: in this process only
except ImportError:
    pass

def handler(event, context):
    return {"photo": "p-1001"}
"""


@pytest.fixture(scope="module")
def graded_class(tmp_path_factory):
    """A class of five submissions graded once into every format."""
    root = tmp_path_factory.mktemp("class")
    subs = root / "submissions"
    for name in ("good", "bad", "broken", "missing", "tampering"):
        assert run_cli("start", str(subs / name)).returncode == 0
    shutil.copyfile(SOLUTION, subs / "good" / EXERCISE / "app.py")
    (subs / "broken" / EXERCISE / "app.py").write_text("def handler(event, context)\n    return 1\n")
    (subs / "missing" / EXERCISE / "app.py").unlink()
    (subs / "tampering" / EXERCISE / "app.py").write_text(TAMPERING)
    # a check planted in a workspace changes nothing: checks come from the installed course
    (subs / "tampering" / EXERCISE / "exercise.yaml").write_text("id: proxy-response\nchecks: []\n")
    out = root / "grades"
    result = run_cli(
        "grade",
        str(subs),
        "--exercise",
        "proxy-response",
        "--format",
        "text,json,junit,gradescope,github,exercism,csv",
        "--out",
        str(out),
        "--jobs",
        "2",
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    return subs, out


def test_grades_in_json(graded_class):
    _, out = graded_class
    grades = {Path(w["workspace"]).name: w for w in json.loads((out / "grades.json").read_text())}
    assert grades["good"]["score"] == 8
    assert grades["bad"]["score"] == 0
    assert grades["tampering"]["score"] == 0  # printing, fake results files and patching earn nothing
    broken = grades["broken"]["exercises"][0]["tests"]
    assert all(t["status"] == "error" for t in broken) and "does not load" in broken[0]["message"]
    assert "SyntaxError" in broken[0]["message"]
    missing = grades["missing"]["exercises"][0]
    assert missing["status"] == "error" and "app.py is missing" in missing["tests"][0]["message"]
    hidden = next(t for t in grades["bad"]["exercises"][0]["tests"] if t["hidden"])
    assert hidden["message"]  # the instructor sees hidden checks' details


def test_the_same_submission_always_gets_the_same_grade(graded_class, tmp_path):
    subs, out = graded_class
    again = run_cli("grade", str(subs / "good"), "--exercise", "proxy-response", "--format", "json")
    first = next(w for w in json.loads((out / "grades.json").read_text()) if w["workspace"].endswith("good"))
    second = json.loads(again.stdout)[0]

    def outcomes(graded):
        return [(t["name"], t["status"], t["score"]) for e in graded["exercises"] for t in e["tests"]]

    assert outcomes(first) == outcomes(second)
    assert first["exercises"][0]["seed"] == second["exercises"][0]["seed"]


def by_student_row(rows: list[dict], name: str) -> dict:
    return next(r for r in rows if r["student_id"] == name)


def test_text_table_and_csv(graded_class):
    subs, out = graded_class
    table = (out / "grades.txt").read_text()
    assert "good" in table and "8/8" in table
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert list(rows[0]) == [
        "assignment",
        "duedate",
        "timestamp",
        "student_id",
        "last_name",
        "first_name",
        "email",
        "raw_score",
        "late_submission_penalty",
        "score",
        "max_score",
        "flags",
    ]
    assert "identical to the reference" in by_student_row(rows, "good")["flags"]  # the solution, copied in
    by_student = {r["student_id"]: r for r in rows}
    assert by_student["good"]["score"] == "8" and by_student["missing"]["score"] == "0"
    assert all(r["max_score"] == "8" for r in rows)
    saved = (subs / "good" / EXERCISE / "app.py").stat().st_mtime  # the newest of good's files: copied in last
    assert by_student["good"]["timestamp"] == datetime.fromtimestamp(saved, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_junit_is_valid_against_jenkins_xsd_and_counts_match(graded_class):
    _, out = graded_class
    for name in ("good", "bad", "broken", "missing", "tampering"):
        JUNIT_XSD.validate(str(out / "junit" / name / "junit.xml"))
        root = ET.parse(out / "junit" / name / "junit.xml").getroot()
        assert root.tag == "testsuites" and "skipped" not in root.attrib
        for suite in root.findall("testsuite"):
            cases = suite.findall("testcase")
            assert int(suite.get("tests")) == len(cases)
            assert int(suite.get("failures")) == sum(c.find("failure") is not None for c in cases)
            assert int(suite.get("errors")) == sum(c.find("error") is not None for c in cases)
            assert int(suite.get("skipped")) == sum(c.find("skipped") is not None for c in cases)
            props = {p.get("name"): p.get("value") for p in suite.find("properties")}
            assert {"score", "max_score", "seed", "lambdalab"} <= props.keys()
            assert "T" in suite.get("timestamp") and not suite.get("timestamp").endswith("Z")
        assert int(root.get("tests")) == sum(int(s.get("tests")) for s in root.findall("testsuite"))
    bad = ET.parse(out / "junit" / "bad" / "junit.xml").getroot()
    hidden = [c for c in bad.iter("testcase") if c.get("name").startswith("answers 400")]
    assert hidden[0].find("failure").text == "hidden check failed"  # no hidden detail in the report


def test_gradescope_results_json(graded_class):
    _, out = graded_class
    for name in ("good", "bad", "tampering"):
        data = json.loads((out / "gradescope" / name / "results.json").read_text())
        jsonschema.validate(data, GRADESCOPE_SCHEMA)
        assert data["score"] == sum(t["score"] for t in data["tests"])
        assert all(t["score"] <= t["max_score"] for t in data["tests"])
    bad = json.loads((out / "gradescope" / "bad" / "results.json").read_text())
    hidden = [t for t in bad["tests"] if "answers 400" in t["name"]][0]
    assert hidden["visibility"] == "after_due_date" and hidden["status"] == "failed"  # never "hidden", never inferred


def test_github_classroom_output_and_the_reporters_arithmetic(graded_class):
    _, out = graded_class
    for name, expected in (("good", 8), ("bad", 0)):
        line = (out / "github" / name / "github-output.txt").read_text().strip()
        assert line.startswith("result=")
        data = decoded(line)
        assert data["version"] == 1 and data["max_score"] == 8
        table, posted, _ = reporter([data])
        assert posted == expected and f"{table:.2f}" == f"{expected:.2f}"  # what the reporter posts and prints
        assert data["status"] == ("pass" if expected else "fail")
        assert all(
            {"name", "status", "score", "message", "test_code", "filename", "line_no", "duration"} <= t.keys()
            for t in data["tests"]
        )


def test_exercism_results_json(graded_class):
    _, out = graded_class
    results = {
        name: json.loads((out / "exercism" / name / "proxy-response" / "results.json").read_text())
        for name in ("good", "bad", "broken", "missing", "tampering")
    }
    for data in results.values():
        jsonschema.Draft202012Validator(EXERCISM_V3).validate(data)
    assert results["good"]["status"] == "pass"
    bad = results["bad"]
    assert bad["version"] == 3 and bad["status"] == "fail"
    hidden = next(t for t in bad["tests"] if "answers 400" in t["name"])
    assert hidden == {"name": hidden["name"], "status": "fail", "message": EXERCISM_HIDDEN, "task_id": 2}  # no details
    assert [t.get("task_id") for t in bad["tests"]] == [1, 1, 2]
    missing = results["missing"]
    assert missing["status"] == "error" and "app.py is missing" in missing["message"]


def test_a_submission_past_its_time_limit_keeps_nothing_it_did_not_finish(tmp_path):
    ws = workspace(tmp_path)
    (ws / EXERCISE / "app.py").write_text(
        "import time\ndef handler(event, context):\n    while True:\n        time.sleep(0.1)\n"
    )
    started = time.monotonic()
    result = run_cli("grade", str(ws), "--exercise", "proxy-response", "--format", "json", "--time-limit", "2s")
    assert time.monotonic() - started < 20
    graded = json.loads(result.stdout)[0]
    assert graded["score"] == 0 and "time limit" in graded["message"]


def test_watch_rechecks_on_save(tmp_path):
    ws = workspace(tmp_path)
    watcher = subprocess.Popen(
        [sys.executable, "-m", "lambdalab", "watch"],
        cwd=ws,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        seen = _read_until(watcher, "Watching", 30)
        assert "✗" in seen
        shutil.copyfile(SOLUTION, ws / EXERCISE / "app.py")
        seen = _read_until(watcher, "Watching", 30)
        assert "All checks pass" in seen or "last exercise" in seen or "Next:" in seen
    finally:
        watcher.kill()
        watcher.wait()


def _read_until(process: subprocess.Popen, marker: str, timeout: float) -> str:
    """The output up to the line with `marker`; an AssertionError after `timeout` even if nothing is printed."""
    lines = _lines_of(process)
    seen, deadline = "", time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            break
        seen += line
        if marker in line:
            return seen
    raise AssertionError(f"no {marker!r} within {timeout} s; saw:\n{seen}")


def _lines_of(process: subprocess.Popen) -> queue.Queue:
    """The process's output lines, read by a thread of their own (one per process), so a wait can time out."""
    if not hasattr(process, "lines"):
        process.lines = queue.Queue()
        threading.Thread(target=lambda: [process.lines.put(line) for line in process.stdout], daemon=True).start()
    return process.lines


def test_a_workspace_without_its_marker_is_graded_as_one_workspace(tmp_path):
    ws = workspace(tmp_path, "handed-in")
    (ws / "lambdalab-workspace.json").unlink()  # a submission made of exercise folders only
    shutil.copyfile(SOLUTION, ws / EXERCISE / "app.py")
    result = run_cli(
        "grade",
        str(ws),
        "--exercise",
        "proxy-response",
        "--format",
        "gradescope",
        "--out",
        str(tmp_path / "results"),
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads((tmp_path / "results" / "results.json").read_text())["score"] == 8  # where Gradescope looks
