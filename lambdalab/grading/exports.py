"""Every report format, derived from the one result model (shared/spec/grade-exports.md): JSON for
scripts, a text table, JUnit XML, Gradescope's results.json, GitHub Classroom's grader output, Exercism's
results.json and a class roll-up CSV. Learner-facing formats keep hidden checks' details out."""

from __future__ import annotations

import base64
import csv
import io
import json
import math
import re
from fractions import Fraction
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from lambdalab.grading.results import ERROR, FAIL, PASS, SKIP, CheckResult, ExerciseResult, WorkspaceResult

_STATUS_WORDS = {PASS: "passed", FAIL: "failed", ERROR: "error"}
# Everything outside XML 1.0's Char production: C0 controls but tab, LF and CR, lone surrogates, U+FFFE, U+FFFF.
_NOT_XML = re.compile(r"[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
EXERCISM_OUTPUT_LIMIT = 500
EXERCISM_OUTPUT_NOTE = "Output was truncated. Please limit to 500 chars"  # the interface's suggested note
EXERCISM_MESSAGE_LIMIT = 65_535  # bytes of UTF-8: fewer characters when some are multibyte
EXERCISM_HIDDEN = "a hidden check: its details are not shown"
_EXERCISM_STATUS = {PASS: "pass", FAIL: "fail", ERROR: "error", SKIP: "error"}  # a skipped check did not run


def flag_words(exercise: ExerciseResult) -> list[str]:
    """Each copy flag in words, for an instructor: "app.py is identical to the reference"."""
    return [
        f"{exercise.exercise_id}/{f['file']} is {'identical to' if f['how'] == 'identical' else 'the same program as'} "
        f"{f['with'] if f['kind'] == 'reference-copy' else f['with'] + chr(39) + 's'}"
        for f in exercise.flags
    ]


def _instructor_notes(result: WorkspaceResult) -> list[str]:
    return [*result.alerts, *(words for e in result.exercises for words in flag_words(e))]


def _learner_message(check: CheckResult) -> str:
    return "" if check.hidden or check.status == PASS else check.message


# --- lambdalab's own JSON (shared/spec/cli.md) ------------------------------------------------------


def learner_json(result: WorkspaceResult) -> dict[str, Any]:
    """`lambdalab check --json`: the cli.md shape, hidden checks without details."""
    return {
        "workspace": result.workspace,
        "score": result.score,
        "max_score": result.max_score,
        "exercises": [
            {
                "id": e.exercise_id,
                "score": e.score,
                "max_score": e.max_score,
                "status": _STATUS_WORDS[e.status],
                "message": e.message,
                "seed": e.seed,
                "lambdalab": e.tool_version,
                "content_sha256": e.content_sha256,
                "files_sha256": e.files_sha256,
                "tests": [
                    {
                        "name": c.name,
                        "status": _STATUS_WORDS.get(c.status, c.status),
                        "message": _learner_message(c),
                        "score": c.score,
                        "max_score": c.max_score,
                        "hidden": c.hidden,
                    }
                    for c in e.checks
                ],
            }
            for e in result.exercises
        ],
    }


def grade_json(results: list[WorkspaceResult]) -> list[dict[str, Any]]:
    """`lambdalab grade --format json`: everything, hidden details included (the instructor's view)."""
    out = []
    for result in results:
        data = learner_json(result)
        data.update(message=result.message, isolation=result.isolation, alerts=result.alerts)
        for exercise, shaped in zip(result.exercises, data["exercises"]):
            shaped["flags"] = exercise.flags
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
        lines.append(f"{result.learner[:23]:<24}" + "".join(cells) + f"{result.score:>7g}/{result.max_score:g}")
        if result.message:
            lines.append(f"  {result.message}")
        lines += [f"  look at this: {note}" for note in _instructor_notes(result)]
    return "\n".join(lines) + "\n"


# --- JUnit XML (Jenkins xUnit's junit-10.xsd) ----------------------------------------------------------


def junit_xml(result: WorkspaceResult) -> str:
    """An exercise is a <testsuite>, a check a <testcase>. Valid against junit-10.xsd, which refuses `skipped`
    on <testsuites> (each suite still counts its own); every text goes through `_clean`, so nothing a
    handler prints can make the file unparseable."""
    suites: list[str] = []
    tests, failures, errors = 0, 0, 0
    for e in result.exercises:
        classname = f"lambdalab.{e.lesson}.{e.exercise_id}"
        counts = {s: sum(c.status == s for c in e.checks) for s in (FAIL, ERROR, SKIP)}
        properties = "".join(
            f"<property name={_attr(k)} value={_attr(v)}/>"
            for k, v in (
                ("score", f"{e.score:g}"),
                ("max_score", f"{e.max_score:g}"),
                ("seed", e.seed),
                ("lambdalab", e.tool_version),
                ("content_sha256", e.content_sha256),
                *((f"sha256:{p}", h) for p, h in e.files_sha256.items()),
                *(("flag", words) for words in flag_words(e)),
            )
        )
        cases = [_junit_case(classname, c) for c in e.checks]
        if not e.checks:  # no check ran: a synthetic testcase carries the error
            counts[ERROR] = 1
            cases.append(
                f'<testcase name="exercise could not be checked" classname={_attr(classname)} time="0">'
                f'<error message={_attr(e.message)} type="error"/></testcase>'
            )
        suites.append(
            f'<testsuite name={_attr(e.exercise_id)} tests="{len(cases)}" failures="{counts[FAIL]}" '
            f'errors="{counts[ERROR]}" skipped="{counts[SKIP]}" time="{e.duration_s:.3f}" '
            f'timestamp={_attr(e.started_at.rstrip("Z"))} hostname="lambdalab" id="{len(suites)}" '
            f"package={_attr(f'lambdalab.{e.lesson}')}><properties>{properties}</properties>{''.join(cases)}</testsuite>"
        )
        tests, failures, errors = tests + len(cases), failures + counts[FAIL], errors + counts[ERROR]
    time = sum(e.duration_s for e in result.exercises)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f'<testsuites name={_attr(result.workspace)} tests="{tests}" failures="{failures}" errors="{errors}" '
        f'time="{time:.3f}">' + "".join(suites) + "</testsuites>\n"
    )


def _junit_case(classname: str, c: CheckResult) -> str:
    head = f'<testcase name={_attr(c.name)} classname={_attr(classname)} time="{c.duration_s:.3f}">'
    body = ""
    message = "hidden check failed" if c.hidden and c.status in (FAIL, ERROR) else _clean(_learner_message(c))
    first_line = message.splitlines()[0] if message else ""
    if c.status == FAIL:
        body = f'<failure message={_attr(first_line or "failed")} type="AssertionError">{escape(message)}</failure>'
    elif c.status == ERROR:
        body = f'<error message={_attr(first_line or "error")} type="CheckCannotRun">{escape(message)}</error>'
    elif c.status == SKIP:
        body = f"<skipped message={_attr(first_line)}/>" if first_line else "<skipped/>"
    if c.output and not c.hidden:
        body += f"<system-out>{escape(_clean(c.output))}</system-out>"
    return head + body + "</testcase>"


def _clean(text: str) -> str:
    """Only the characters XML 1.0 allows: one control character or lone surrogate would make the file unparseable."""
    return _NOT_XML.sub("", text)


def _attr(value: object) -> str:
    return quoteattr(_clean(str(value)))


# --- Gradescope results.json --------------------------------------------------------------------------

HIDDEN_VISIBILITY = ("after_due_date", "after_published", "hidden")


def gradescope(result: WorkspaceResult, hidden_visibility: str = "after_due_date") -> dict[str, Any]:
    """Status set on every test (a failed zero-point test would show as passed otherwise). Hidden checks are
    `after_due_date` by default, which also hides the total until then; `hidden` shows the total but never
    the checks (Gradescope meant it for checks worth nothing). Copy flags and forged-result alerts are tests
    worth nothing that only instructors see."""
    tests = []
    for n, e in enumerate(result.exercises, start=1):
        for c in e.checks:
            test = {
                "number": f"{n}.{c.order}",
                "name": f"{e.exercise_id}: {c.name}",
                "score": c.score,
                "max_score": c.max_score,
                "status": "passed" if c.status == PASS else "failed",
                "visibility": hidden_visibility if c.hidden else "visible",
                "tags": [e.lesson, *c.tags],
            }
            if c.status != PASS:
                test.update(
                    output=c.message + (f"\n\nYour code printed:\n{c.output}" if c.output else ""), output_format="text"
                )
            tests.append(test)
    for note in _instructor_notes(result):
        tests.append(
            {
                "name": f"for the instructor: {note}",
                "score": 0,
                "max_score": 0,
                "status": "failed",
                "visibility": "hidden",
                "tags": ["integrity"],
            }
        )
    header = ", ".join(f"{e.exercise_id} seed {e.seed}" for e in result.exercises)
    return {
        "score": result.score,
        "execution_time": round(sum(e.duration_s for e in result.exercises), 3),
        "output": f"lambdalab {result.exercises[0].tool_version if result.exercises else ''} · {header}".strip()
        + (f"\n\n{result.message}" if result.message else "")
        + "".join(f"\n\n{e.exercise_id}: {e.message}" for e in result.exercises if e.message),
        "output_format": "md",
        "stdout_visibility": "hidden",
        "tests": tests,
        "extra_data": {
            e.exercise_id: {
                "seed": e.seed,
                "lambdalab": e.tool_version,
                "content_sha256": e.content_sha256,
                "files_sha256": e.files_sha256,
                "flags": e.flags,
            }
            for e in result.exercises
        }
        | {"alerts": result.alerts, "isolation": result.isolation},
    }


# --- GitHub Classroom (grader step output) ------------------------------------------------------------


def classroom(result: WorkspaceResult) -> dict[str, Any]:
    """The reporter's table scores a runner as passing tests / all tests x `max_score`, while the points it posts
    are the sum of the tests' `score`: both equal lambdalab's score only when every test weighs the same. So a check
    becomes one test per unit of its points (the unit being the greatest common divisor of the checks' points),
    each passing or failing with its check; a check worth nothing adds no test, as it would skew the table."""
    weighted = [(e, c) for e in result.exercises for c in e.checks if c.max_score]
    unit = _common_unit([c.max_score for _, c in weighted])
    tests = []
    for e, c in weighted:
        units = int(Fraction(str(c.max_score)) / unit)
        for n in range(1, units + 1):
            first = n == 1  # details once, not once per unit
            tests.append(
                {
                    "name": f"{e.exercise_id}: {c.name}" + (f" ({n} of {units})" if units > 1 else ""),
                    "status": _classroom_status(c),
                    "score": float(unit) if c.status == PASS else 0,
                    "message": (_learner_message(c) or e.message) if first else "",
                    "test_code": c.test_code if first and not c.hidden else "",
                    "filename": "",
                    "line_no": 0,
                    "duration": round(c.duration_s * 1000) if first else 0,
                }
            )
    statuses = {e.status for e in result.exercises}
    status = "error" if statuses <= {ERROR} else "pass" if statuses == {PASS} else "fail"
    data = {"version": 1, "status": status, "max_score": result.max_score, "tests": tests}
    notes = _instructor_notes(result)
    return {**data, "flags": notes} if notes else data  # the reporter reads no more than it knows


def _common_unit(points: list[float]) -> Fraction:
    """The largest score that each of `points` is a whole number of: 2 for 4, 2 and 2; 0.5 for 1.5 and 2."""
    exact = [Fraction(str(p)) for p in points]
    return Fraction(math.gcd(*(f.numerator for f in exact)), math.lcm(*(f.denominator for f in exact)))


def _classroom_status(check: CheckResult) -> str:
    return {PASS: "pass", FAIL: "fail", ERROR: "error"}.get(check.status, "fail")


def classroom_output(result: WorkspaceResult) -> str:
    """The `result=<base64>` line for `>> "$GITHUB_OUTPUT"`."""
    packed = json.dumps(classroom(result), separators=(",", ":")).encode()
    return f"result={base64.b64encode(packed).decode()}\n"


# --- Exercism results.json (version 3) ----------------------------------------------------------------


def exercism(exercise: ExerciseResult, tasks: dict[str, int | None] | None = None) -> dict[str, Any]:
    """Exercism's test runner reports one exercise: its results.json, version 3. `tasks` maps a check's id to the
    instructions' step it tests (`task_id`). Hidden checks are listed by name and status only, so the overall
    status agrees with the tests a learner sees; it is `error` only when no check ran."""
    tasks, tests = tasks or {}, []
    for c in exercise.checks:
        test: dict[str, Any] = {"name": c.name, "status": _EXERCISM_STATUS[c.status]}
        if c.hidden:
            if c.status != PASS:
                test["message"] = EXERCISM_HIDDEN
        else:
            test["test_code"] = c.test_code
            if c.status != PASS:
                test["message"] = _cap_utf8(c.message or "the check did not pass", EXERCISM_MESSAGE_LIMIT)
            if c.output:
                test["output"] = (
                    c.output
                    if len(c.output) <= EXERCISM_OUTPUT_LIMIT
                    else c.output[: EXERCISM_OUTPUT_LIMIT - len(EXERCISM_OUTPUT_NOTE) - 1] + "\n" + EXERCISM_OUTPUT_NOTE
                )
        if tasks.get(c.id) is not None:
            test["task_id"] = tasks[c.id]
        tests.append(test)
    if exercise.status == ERROR:
        why = exercise.message or next((c.message for c in exercise.checks if c.message and not c.hidden), "")
        return {
            "version": 3,
            "status": "error",
            "message": _cap_utf8(why or "no check could run", EXERCISM_MESSAGE_LIMIT),
            "tests": tests,
        }
    return {"version": 3, "status": "pass" if exercise.status == PASS else "fail", "message": None, "tests": tests}


def _cap_utf8(text: str, limit: int) -> str:
    data = text.encode("utf-8", "replace")
    return text if len(data) <= limit else data[: limit - 20].decode("utf-8", "ignore") + "\n[message cut]"


# --- class roll-up CSV (nbgrader's columns) -----------------------------------------------------------

CSV_COLUMNS = (
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
)  # nbgrader's, and lambdalab's copy flags


def roll_up_csv(results: list[WorkspaceResult], assignment: str, max_score: float) -> str:
    """One row per submission; a submission that could not be graded scores zero out of the full maximum.
    `timestamp` is when the learner submitted: the newest modification time of the files graded, in ISO 8601
    UTC; the time grading started when there were none."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for result in results:
        student = result.workspace.rstrip("/").rsplit("/", 1)[-1]
        submitted = result.submitted_at or min((e.started_at for e in result.exercises), default="")
        writer.writerow(
            [
                assignment,
                "",
                submitted,
                student,
                "",
                "",
                "",
                f"{result.score:g}",
                "0",
                f"{max(0.0, result.score):g}",
                f"{max_score:g}",
                "; ".join(_instructor_notes(result)),
            ]
        )
    return out.getvalue()
