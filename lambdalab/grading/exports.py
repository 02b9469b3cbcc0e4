"""Every report format, derived from the one result model (shared/spec/grade-exports.md): JSON for
scripts, a text table, JUnit XML, Gradescope's results.json, GitHub Classroom's grader output, Exercism's
results.json and a class roll-up CSV. Learner-facing formats keep hidden checks' details out."""

from __future__ import annotations

import base64
import csv
import io
import json
import re
from xml.sax.saxutils import escape, quoteattr

from lambdalab.grading.results import ERROR, FAIL, PASS, SKIP, CheckResult, ExerciseResult, WorkspaceResult

_STATUS_WORDS = {PASS: "passed", FAIL: "failed", ERROR: "error"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
EXERCISM_OUTPUT_LIMIT = 500
EXERCISM_MESSAGE_LIMIT = 65_535


def _learner_message(check: CheckResult) -> str:
    return "" if check.hidden or check.status == PASS else check.message


# --- lambdalab's own JSON (shared/spec/cli.md) ------------------------------------------------------

def learner_json(result: WorkspaceResult) -> dict:
    """`lambdalab check --json`: the cli.md shape, hidden checks without details."""
    return {
        "workspace": result.workspace, "score": result.score, "max_score": result.max_score,
        "exercises": [{
            "id": e.exercise_id, "score": e.score, "max_score": e.max_score, "status": _STATUS_WORDS[e.status],
            "message": e.message, "seed": e.seed, "lambdalab": e.tool_version, "content_sha256": e.content_sha256,
            "files_sha256": e.files_sha256,
            "tests": [{"name": c.name, "status": _STATUS_WORDS.get(c.status, c.status), "message": _learner_message(c),
                       "score": c.score, "max_score": c.max_score, "hidden": c.hidden} for c in e.checks],
        } for e in result.exercises],
    }


def grade_json(results: list[WorkspaceResult]) -> list[dict]:
    """`lambdalab grade --format json`: everything, hidden details included (the instructor's view)."""
    out = []
    for result in results:
        data = learner_json(result)
        data["message"] = result.message
        for exercise, shaped in zip(result.exercises, data["exercises"]):
            for check, test in zip(exercise.checks, shaped["tests"]):
                test.update(message=check.message, output=check.output, id=check.id)
        out.append(data)
    return out


# --- text ---------------------------------------------------------------------------------------------

def text_table(results: list[WorkspaceResult], exercise_ids: list[str]) -> str:
    """One row per submission, a column per exercise (points), then the total."""
    short = [e[:14] for e in exercise_ids]
    head = f"{'submission':<24}" + "".join(f"{s:>16}" for s in short) + f"{'total':>12}"
    lines = [head, "-" * len(head)]
    for result in results:
        by_id = {e.exercise_id: e for e in result.exercises}
        cells = []
        for exercise_id in exercise_ids:
            e = by_id.get(exercise_id)
            cells.append(f"{'-' if e is None else f'{e.score:g}/{e.max_score:g}':>16}")
        name = result.workspace.rstrip("/").rsplit("/", 1)[-1][:23]
        lines.append(f"{name:<24}" + "".join(cells) + f"{result.score:>7g}/{result.max_score:g}")
        if result.message:
            lines.append(f"  {result.message}")
    return "\n".join(lines) + "\n"


# --- JUnit XML (Ant/Surefire XSD) ---------------------------------------------------------------------

def junit_xml(result: WorkspaceResult) -> str:
    suites = []
    for e in result.exercises:
        counts = {s: sum(c.status == s for c in e.checks) for s in (FAIL, ERROR, SKIP)}
        properties = "".join(f'<property name={quoteattr(k)} value={quoteattr(str(v))}/>' for k, v in (
            ("score", f"{e.score:g}"), ("max_score", f"{e.max_score:g}"), ("seed", e.seed), ("lambdalab", e.tool_version),
            ("content_sha256", e.content_sha256), *((f"sha256:{p}", h) for p, h in e.files_sha256.items())))
        cases = [_junit_case(e, c) for c in e.checks]
        if not e.checks:  # no check ran: a synthetic testcase carries the error
            counts[ERROR] = 1
            cases.append(f'<testcase name="exercise could not be checked" classname="lambdalab.{e.lesson}.{e.exercise_id}" '
                         f'time="0"><error message={quoteattr(_clean(e.message))} type="error"/></testcase>')
        suites.append(
            f'<testsuite name={quoteattr(e.exercise_id)} tests="{len(cases)}" failures="{counts[FAIL]}" '
            f'errors="{counts[ERROR]}" skipped="{counts[SKIP]}" time="{e.duration_s:.3f}" '
            f'timestamp={quoteattr(e.started_at.rstrip("Z"))} hostname="lambdalab" id="{len(suites)}" '
            f'package={quoteattr(f"lambdalab.{e.lesson}")}><properties>{properties}</properties>{"".join(cases)}</testsuite>')
    total = sum(max(len(e.checks), 1) for e in result.exercises)
    failures = sum(c.status == FAIL for e in result.exercises for c in e.checks)
    errors = sum(c.status == ERROR for e in result.exercises for c in e.checks) + sum(not e.checks for e in result.exercises)
    skipped = sum(c.status == SKIP for e in result.exercises for c in e.checks)
    time = sum(e.duration_s for e in result.exercises)
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<testsuites name={quoteattr(result.workspace)} tests="{total}" failures="{failures}" errors="{errors}" '
            f'skipped="{skipped}" time="{time:.3f}">' + "".join(suites) + "</testsuites>\n")


def _junit_case(e: ExerciseResult, c: CheckResult) -> str:
    head = f'<testcase name={quoteattr(c.name)} classname={quoteattr(f"lambdalab.{e.lesson}.{e.exercise_id}")} time="{c.duration_s:.3f}">'
    body = ""
    message = _clean(_learner_message(c) or ("hidden check failed" if c.hidden and c.status != PASS else ""))
    if c.status == FAIL:
        body = f'<failure message={quoteattr(message.splitlines()[0] if message else "failed")} type="AssertionError">{escape(message)}</failure>'
    elif c.status == ERROR:
        body = f'<error message={quoteattr(message.splitlines()[0] if message else "error")} type="CheckCannotRun">{escape(message)}</error>'
    elif c.status == SKIP:
        body = "<skipped/>"
    if c.output and not c.hidden:
        body += f"<system-out>{escape(_clean(c.output))}</system-out>"
    return head + body + "</testcase>"


def _clean(text: str) -> str:
    """XML 1.0 has no place for control characters."""
    return _CONTROL.sub("", text)


# --- Gradescope results.json --------------------------------------------------------------------------

def gradescope(result: WorkspaceResult) -> dict:
    """Status set on every test (a failed zero-point test would show as passed otherwise); scored hidden
    checks are `after_due_date`, never `hidden`, which would not hide the total."""
    tests = []
    for n, e in enumerate(result.exercises, start=1):
        for c in e.checks:
            test = {"number": f"{n}.{c.order}", "name": f"{e.exercise_id}: {c.name}", "score": c.score,
                    "max_score": c.max_score, "status": "passed" if c.status == PASS else "failed",
                    "visibility": "after_due_date" if c.hidden else "visible", "tags": [e.lesson, *c.tags]}
            if c.status != PASS:
                test.update(output=c.message + (f"\n\nYour code printed:\n{c.output}" if c.output else ""),
                            output_format="text")
            tests.append(test)
    header = ", ".join(f"{e.exercise_id} seed {e.seed}" for e in result.exercises)
    return {
        "score": result.score, "execution_time": round(sum(e.duration_s for e in result.exercises), 3),
        "output": f"lambdalab {result.exercises[0].tool_version if result.exercises else ''} · {header}".strip()
                  + (f"\n\n{result.message}" if result.message else "")
                  + "".join(f"\n\n{e.exercise_id}: {e.message}" for e in result.exercises if e.message),
        "output_format": "md", "stdout_visibility": "hidden", "tests": tests,
        "extra_data": {e.exercise_id: {"seed": e.seed, "lambdalab": e.tool_version, "content_sha256": e.content_sha256,
                                       "files_sha256": e.files_sha256} for e in result.exercises},
    }


# --- GitHub Classroom (grader step output) ------------------------------------------------------------

def classroom(result: WorkspaceResult) -> dict:
    """The reporter posts the sum of the tests' `score` fields out of the runner's `max_score`: each test
    scores its check's points, so the posted total is lambdalab's. (Its console table shows passing tests /
    all tests x max_score, which differs from the total when checks weigh differently.)"""
    tests = [{"name": f"{e.exercise_id}: {c.name}", "status": _classroom_status(c), "score": c.score,
              "message": _learner_message(c) or e.message, "test_code": "" if c.hidden else c.test_code,
              "filename": "", "line_no": 0, "duration": round(c.duration_s * 1000)}
             for e in result.exercises for c in e.checks]
    statuses = [t["status"] for t in tests]
    status = ERROR if not tests else "fail" if any(s != "pass" for s in statuses) else "pass"
    return {"version": 1, "status": status, "max_score": result.max_score, "tests": tests}


def _classroom_status(check: CheckResult) -> str:
    return {PASS: "pass", FAIL: "fail", ERROR: "error"}.get(check.status, "fail")


def classroom_output(result: WorkspaceResult) -> str:
    """The `result=<base64>` line for `>> "$GITHUB_OUTPUT"`."""
    packed = json.dumps(classroom(result), separators=(",", ":")).encode()
    return f"result={base64.b64encode(packed).decode()}\n"


# --- Exercism results.json (version 3) ----------------------------------------------------------------

def exercism(result: WorkspaceResult) -> dict:
    tests = []
    for e in result.exercises:
        for c in e.checks:
            if c.hidden:
                continue  # Exercism shows tests to students: hidden checks stay out
            test = {"name": f"{e.exercise_id}: {c.name}", "status": _classroom_status(c), "test_code": c.test_code,
                    "task_id": c.order}
            if c.status != PASS:
                test["message"] = c.message[:EXERCISM_MESSAGE_LIMIT]
            if c.output:
                test["output"] = c.output if len(c.output) <= EXERCISM_OUTPUT_LIMIT else \
                    c.output[:EXERCISM_OUTPUT_LIMIT - 60] + "\n[output cut at 500 characters: print less]"
            tests.append(test)
    if all(e.status == ERROR for e in result.exercises):
        reasons = [result.message, *(e.message or next((c.message for c in e.checks if c.message), "")
                                     for e in result.exercises)]
        message = "; ".join(dict.fromkeys(r for r in reasons if r)) or "no check ran"
        return {"version": 3, "status": "error", "message": message[:EXERCISM_MESSAGE_LIMIT], "tests": tests}
    status = "pass" if all(e.status == PASS for e in result.exercises) else "fail"
    return {"version": 3, "status": status, "message": None, "tests": tests}


# --- class roll-up CSV (nbgrader's columns) -----------------------------------------------------------

CSV_COLUMNS = ("assignment", "duedate", "timestamp", "student_id", "last_name", "first_name", "email", "raw_score",
               "late_submission_penalty", "score", "max_score")


def roll_up_csv(results: list[WorkspaceResult], assignment: str, max_score: float) -> str:
    """One row per submission; a submission that could not be graded scores zero out of the full maximum."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for result in results:
        student = result.workspace.rstrip("/").rsplit("/", 1)[-1]
        stamps = [e.started_at for e in result.exercises]
        writer.writerow([assignment, "", max(stamps) if stamps else "", student, "", "", "", f"{result.score:g}", "0",
                         f"{max(0.0, result.score):g}", f"{max_score:g}"])
    return out.getvalue()
