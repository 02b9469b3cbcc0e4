"""`lambdalab classroom report`: class analytics from grades.json and learners' collected progress files.
The figures come from a class built with the result model (fast); one test grades a tiny class for real
and runs the command as an instructor types it."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
from collections import Counter
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import pytest
from conftest import REPO, run_cli

from lambdalab import cli
from lambdalab.course.loader import load_course
from lambdalab.grading import class_report, exports
from lambdalab.grading.class_report_html import render_html
from lambdalab.grading.class_report_text import render_text
from lambdalab.grading.results import ERROR, FAIL, PASS, SKIP, CheckResult, ExerciseResult, WorkspaceResult

POINTS = {"answers-200": 4, "content-type": 2, "bad-request": 2, "cached": 5, "fresh": 5}
MISSING = "response $.statusCode is missing (the response is {})\nWhy it matters: API Gateway answers 502."
SCRIPT = "<script>alert(1)</script> was printed\nWhy it matters: headers."
SYNTAX = "SyntaxError: invalid syntax (app.py, line 3)"
STOPPED = "grading stopped after the 2 s time limit for a submission"


def check(check_id: str, status: str, message: str = "") -> CheckResult:
    points = POINTS[check_id]
    return CheckResult(
        id=check_id,
        name=check_id.replace("-", " "),
        order=list(POINTS).index(check_id) + 1,
        status=status,
        score=points if status == PASS else 0.0,
        max_score=points,
        hidden=check_id == "bad-request",
        message=message,
    )


def exercise(exercise_id: str, *checks: CheckResult) -> ExerciseResult:
    return ExerciseResult(
        exercise_id=exercise_id,
        title=exercise_id,
        lesson="lesson",
        tool_version="0.1.0",
        content_sha256="0" * 64,
        seed=1,
        started_at="2025-01-01T00:00:00Z",
        duration_s=0.1,
        files_sha256={},
        checks=list(checks),
    )


def proxy(answers=PASS, content=PASS, bad=PASS, why=("", "", "")) -> ExerciseResult:
    return exercise(
        "proxy-response",
        check("answers-200", answers, why[0]),
        check("content-type", content, why[1]),
        check("bad-request", bad, why[2]),
    )


def cache(cached=PASS, fresh=PASS, why=("", "")) -> ExerciseResult:
    return exercise("tmp-cache", check("cached", cached, why[0]), check("fresh", fresh, why[1]))


# ana 18/18, ben 12/18, cleo 0/18, dev 8/18 (stopped before tmp-cache), eve 9/18
CLASS = [
    WorkspaceResult("submissions/ana", [proxy(), cache()]),
    WorkspaceResult("submissions/ben", [proxy(answers=FAIL, bad=FAIL, why=(MISSING, "", "expected 400")), cache()]),
    WorkspaceResult(
        "submissions/cleo",
        [proxy(FAIL, FAIL, FAIL, why=(MISSING, SCRIPT, "")), cache(ERROR, ERROR, why=(SYNTAX, SYNTAX))],
    ),
    WorkspaceResult("submissions/dev", [proxy(), cache(SKIP, SKIP, why=(STOPPED, STOPPED))], STOPPED),
    WorkspaceResult(
        "submissions/eve/",
        [
            proxy(answers=FAIL, why=(MISSING.replace("\n", " \x1b[2J\n"), "", "")),
            cache(cached=FAIL, why=("read S3 again on the second call", "")),
        ],
    ),
]
FLAGS = {
    ("cleo", "proxy-response"): {"kind": "classmate-copy", "file": "app.py", "how": "same program", "with": "eve"},
    ("eve", "proxy-response"): {
        "kind": "classmate-copy",
        "file": "app.py",
        "how": "same program",
        "with": 'cleo" onmouseover="x',
    },
    ("ben", "tmp-cache"): {"kind": "reference-copy", "file": "app.py", "how": "identical", "with": "the reference"},
}
QUIZ = {"best": 9, "total": 10, "passed": True, "attempts": 1, "last": 9}
PROGRESS = {
    "ana": {
        "format": 2,
        "last_lesson": None,
        "lessons": {
            "the-lambda-model": {
                "read": [],
                "quizzes": {
                    "check": {
                        **QUIZ,
                        "missed": ["which-arn"],
                        "missed_ever": {"which-arn": 2, "module-level-client": 1},
                    }
                },
            },
            "concurrency-and-throttling": {
                "quizzes": {
                    "check": {
                        **QUIZ,
                        "best": 6,
                        "total": 12,
                        "passed": False,
                        "attempts": 3,
                        "last": 10,
                        "missed": ["region-burst", "sizing-rate-times-duration"],
                        "missed_ever": {"region-burst": 2, "sizing-rate-times-duration": 2, "retired-question": 3},
                    }
                }
            },
        },
        "exercises": {"proxy-response": {"hints": 1, "best": 8, "max": 8, "passed": True}},
    },
    "ben": {
        "format": 2,
        "lessons": {
            "the-lambda-model": {
                "quizzes": {
                    "check": {
                        **QUIZ,
                        "best": 10,
                        "attempts": 2,
                        "last": 10,
                        "missed": [],
                        "missed_ever": {"which-arn": 1},
                    }
                }
            },
            # taken before lambdalab recorded missed questions: not counted in the questions' figures
            "concurrency-and-throttling": {"quizzes": {"check": {**QUIZ, "best": 5, "total": 12, "passed": False}}},
        },
        "exercises": {"proxy-response": {"hints": 3}, "tmp-cache": {"hints": 2}},
    },
}
SCORES_ONLY = {
    name: {
        **data,
        "format": 1,
        "lessons": {
            lesson_id: {
                **lesson,
                "quizzes": {
                    quiz_id: {k: v for k, v in quiz.items() if not k.startswith("missed")}
                    for quiz_id, quiz in lesson["quizzes"].items()
                },
            }
            for lesson_id, lesson in data["lessons"].items()
        },
    }
    for name, data in PROGRESS.items()
}
LONG = "A checkout API receives a steady 250 requests per second, and each request takes 400 ms: " * 3
PROMPTS = {  # in course order, as class_report.course_prompts gives them
    ("the-lambda-model", "check", "module-level-client"): "Where should the database client be created?",
    (
        "the-lambda-model",
        "check",
        "which-arn",
    ): 'Which member tells a call through <code>live</code> from a "plain" one?',
    ("concurrency-and-throttling", "check", "sizing-rate-times-duration"): LONG,
    ("concurrency-and-throttling", "check", "region-burst"): "Myth or fact: functions in a Region share a burst.",
}
LADDERS = {"proxy-response": 3}


def grades(flags: bool = True) -> list[dict]:
    data = exports.grade_json(CLASS)
    for w in data:
        for e in w["exercises"]:
            if flags:
                found = FLAGS.get((class_report.learner_name(w["workspace"]), e["id"]))
                e["flags"] = [found] if found else []
            else:  # grades.json from a lambdalab that did not look for copies
                del e["flags"]
    return data


def write_class(folder: Path, flags: bool = True, progress: dict | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "grades.json").write_text(json.dumps(grades(flags), indent=2))
    for name, data in (progress or {}).items():
        (folder / "progress").mkdir(exist_ok=True)
        (folder / "progress" / f"{name}.json").write_text(data if isinstance(data, str) else json.dumps(data))
    return folder


@pytest.fixture
def report() -> class_report.ClassReport:
    return class_report.build("grades", grades(), PROGRESS, LADDERS, PROMPTS)


# --- the figures ---------------------------------------------------------------------------------------


def test_pass_rates_per_exercise_and_per_check(report):
    proxy_stats, cache_stats = report.exercises
    assert (proxy_stats.id, proxy_stats.graded, proxy_stats.passed, proxy_stats.rate) == ("proxy-response", 5, 2, 0.4)
    assert (cache_stats.graded, cache_stats.passed, cache_stats.not_graded, cache_stats.rate) == (4, 2, 1, 0.5)
    assert proxy_stats.mean_score == pytest.approx((8 + 2 + 0 + 8 + 4) / 5)
    rates = {c.id: (c.passed, c.failed, c.errors, c.not_run) for e in report.exercises for c in e.checks}
    assert rates == {
        "answers-200": (2, 3, 0, 0),
        "content-type": (4, 1, 0, 0),
        "bad-request": (3, 2, 0, 0),
        "cached": (2, 1, 1, 1),
        "fresh": (3, 0, 1, 1),
    }


def test_the_most_failed_checks_group_their_messages_by_first_line(report):
    first, second, third = report.most_failed[:3]
    assert (first.id, first.missed, first.ran) == ("answers-200", 3, 5)
    # eve's first line ends in a terminal escape: a line of its own
    assert first.reasons == (
        ("response $.statusCode is missing (the response is {})", 2),
        ("response $.statusCode is missing (the response is {}) \x1b[2J", 1),
    )
    assert (second.id, second.missed, second.ran) == ("cached", 2, 4)  # 2 of 4 before 2 of 5
    assert dict(second.reasons) == {SYNTAX: 1, "read S3 again on the second call": 1}
    assert third.id == "bad-request" and dict(third.reasons) == {"expected 400": 1, class_report.NO_MESSAGE: 1}


def test_score_histogram_has_a_bucket_for_full_marks(report):
    buckets = dict(report.histogram)
    assert list(buckets)[0] == "0–9%" and list(buckets)[-1] == "100%" and len(buckets) == 11
    assert {k: v for k, v in buckets.items() if v} == {"0–9%": 1, "40–49%": 1, "50–59%": 1, "60–69%": 1, "100%": 1}
    assert report.mean_percent == pytest.approx(100 * (18 + 12 + 0 + 8 + 9) / 90)
    assert report.median_percent == pytest.approx(50)


def test_copy_flags_are_listed_and_their_absence_is_said(report):
    assert [(f.learner, f.exercise, f.kind, f.with_) for f in report.flags] == [
        ("cleo", "proxy-response", "classmate-copy", "eve"),
        ("eve", "proxy-response", "classmate-copy", 'cleo" onmouseover="x'),
        ("ben", "tmp-cache", "reference-copy", "the reference"),
    ]
    unchecked = class_report.build("grades", grades(flags=False), {}, {}, {})
    assert not unchecked.flags_checked and "grades.json carries no copy checks" in render_text(unchecked)
    assert "Copied solutions (3 flag(s))" in render_text(report)


def test_learners_who_could_not_be_graded(report):
    assert report.ungraded == (("dev", STOPPED),)
    assert f"  dev: {STOPPED}" in render_text(report)


def test_quizzes_most_missed_and_hints_most_revealed(report):
    concurrency, model = report.quizzes
    assert (
        concurrency.lesson,
        concurrency.learners,
        concurrency.passed,
        concurrency.missed,
        concurrency.asked,
        concurrency.attempts,
    ) == ("concurrency-and-throttling", 2, 0, 13, 24, 4)
    assert (model.missed, model.asked, model.passed) == (1, 20, 2)
    proxy_hints, cache_hints = report.hints
    assert (proxy_hints.exercise, proxy_hints.learners, proxy_hints.revealed, proxy_hints.whole_ladder) == (
        "proxy-response",
        2,
        4,
        1,
    )
    assert (cache_hints.revealed, cache_hints.whole_ladder) == (2, None)  # the course does not know tmp-cache
    rows = [line.split() for line in render_text(report).splitlines()]
    assert ["concurrency-and-throttling", "check", "2", "0", "13", "24", "54%", "2.00"] in rows
    assert ["proxy-response", "2", "4", "3", "1"] in rows and ["tmp-cache", "1", "2", "-", "-"] in rows


def test_questions_most_missed_on_the_last_attempt_then_in_all_then_in_course_order(report):
    assert [(q.lesson, q.id, q.prompt, q.missed, q.learners, q.missed_ever) for q in report.questions] == [
        ("the-lambda-model", "which-arn", PROMPTS["the-lambda-model", "check", "which-arn"], 1, 2, 3),
        # a tie: course order, not the ids' order
        ("concurrency-and-throttling", "sizing-rate-times-duration", LONG, 1, 1, 2),
        (
            "concurrency-and-throttling",
            "region-burst",
            PROMPTS["concurrency-and-throttling", "check", "region-burst"],
            1,
            1,
            2,
        ),
        ("concurrency-and-throttling", "retired-question", None, 0, 1, 3),
        (
            "the-lambda-model",
            "module-level-client",
            PROMPTS["the-lambda-model", "check", "module-level-client"],
            0,
            2,
            1,
        ),
    ]
    assert report.missed_recorded


@pytest.mark.parametrize("width", [80, 100])
def test_questions_most_missed_in_the_terminal_fit_its_width(report, width):
    lines = render_text(report, width).splitlines()
    table = lines[lines.index("Questions most missed") + 1 :]
    rows = [line for line in table[: table.index("")] if "  check  " in line]
    assert all(len(line) <= width for line in lines)
    assert [line.split()[-3:] for line in rows] == [
        ["1", "2", "3"],
        ["1", "1", "2"],
        ["1", "1", "2"],
        ["0", "1", "3"],
        ["0", "2", "1"],
    ]  # the counts are never cut off
    assert "Which member tells" in rows[0] and "A checkout API rec" in rows[1] and "…" in rows[1]
    assert "retired-question" in rows[3]


def test_questions_most_missed_in_a_wide_terminal(report):
    wide = render_text(report, 140)
    assert "retired-question (not in the course)" in wide
    assert 'Which member tells a call through <code>live</code> from a "plain" one?' in wide and LONG not in wide


def test_the_terminal_lists_the_first_ten_questions_and_the_page_all():
    quiz = {**QUIZ, "missed": [], "missed_ever": {f"q{n:02d}": 20 - n for n in range(12)}}
    many = class_report.build(
        "grades", grades(), {"ana": {"format": 2, "lessons": {"x": {"quizzes": {"check": quiz}}}}}, LADDERS, PROMPTS
    )
    assert [q.id for q in many.questions] == [f"q{n:02d}" for n in range(12)]
    text = render_text(many, 100)
    assert "Questions most missed (the first 10 of 12; report.html lists all)" in text
    assert "q09 (not in the course)" in text and "q10" not in text
    assert "q11 (not in the course) 0 1 9" in " ".join(" ".join(parse(render_html(many)).text).split())


def test_questions_most_missed_in_the_page_are_escaped(report):
    html = render_html(report)
    text = " ".join(" ".join(parse(html).text).split())
    assert (
        'the-lambda-model check Which member tells a call through <code>live</code> from a "plain" one? 1 2 3' in text
    )
    assert "concurrency-and-throttling check retired-question (not in the course) 0 1 3" in text
    assert "&lt;code&gt;live&lt;/code&gt; from a &quot;plain&quot; one?" in html and "<code>live" not in html
    assert "(not which questions)" not in html and "best score per quiz" not in html


def test_progress_files_from_before_missed_questions_say_so(report):
    old = class_report.build("grades", grades(), SCORES_ONLY, LADDERS, PROMPTS)
    assert not old.missed_recorded and old.questions == ()
    assert old.quizzes == report.quizzes  # the per-quiz table is the same
    assert class_report.NOT_RECORDED in " ".join(render_text(old).split())
    html = render_html(old)
    assert f"<p>{class_report.NOT_RECORDED}</p>" in html and "Most missed first" not in html
    assert "Most missed first" in render_html(report)


# --- reading files -------------------------------------------------------------------------------------


def test_progress_files_are_read_and_a_damaged_one_is_skipped_with_a_note(tmp_path):
    newer = class_report.PROGRESS_FORMAT + 1
    folder = write_class(
        tmp_path / "grades",
        progress={
            **PROGRESS,
            "cleo": '{"format": 1,\n "lessons": {',
            "dev": {"format": 1, "lessons": {"x": {"quizzes": {"check": {"best": "nine", "total": 10}}}}},
            "fay": {"format": newer, "lessons": {}},
            "gus": {
                "format": 2,
                "lessons": {"x": {"quizzes": {"check": {"best": 1, "total": 2, "missed": "which-arn"}}}},
            },
        },
    )
    report = class_report.load(folder, LADDERS)
    assert report.progress_files == 2 and report.quizzes[0].missed == 13
    assert report.notes == (
        f"skipped {folder}/progress/cleo.json: line 2, column 14: not valid JSON "
        "(Expecting property name enclosed in double quotes)",
        f'skipped {folder}/progress/dev.json: $.lessons.x.quizzes.check.best: expected a whole number, found "nine"',
        f"skipped {folder}/progress/fay.json: a newer lambdalab wrote it (format {newer})",
        f'skipped {folder}/progress/gus.json: $.lessons.x.quizzes.check.missed: expected a list, found "which-arn"',
    )
    # The prompts are the installed course's; a question it does not have is kept, by id.
    prompts = class_report.course_prompts(load_course())
    assert report.questions[0].prompt == prompts["the-lambda-model", "check", "which-arn"]
    assert report.questions[3].id == "retired-question" and report.questions[3].prompt is None


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "grades.json: no such file (grades.json is written by `lambdalab grade"),
        ('[{"workspace": "a",\n  "score": 1,,', "grades.json: line 2, column 14: not valid JSON"),
        ('{"workspace": "a"}', "grades.json: $: expected a list, found an object"),
        ("[]", "grades.json: lists no learners"),
        (
            '[{"workspace": "a", "score": 1, "max_score": 2, "exercises": [{"id": "x", "status": "passed", "score": 1, '
            '"max_score": 2, "tests": [{"name": "n", "status": "pass", "message": ""}]}]}]',
            'grades.json: $[0].exercises[0].tests[0].status: expected one of "passed", "failed", "error", "skip", '
            'found "pass"',
        ),
        (
            '[{"workspace": "a", "score": NaN, "max_score": 2, "exercises": []}]',
            "grades.json: $[0].score: expected a number, found NaN",
        ),
        (
            '[{"workspace": "a", "score": 1, "max_score": 2, "exercises": [{"id": "x", "status": "passed", "score": 1, '
            '"max_score": 2, "tests": [], '
            '"flags": [{"kind": "classmate-copy", "file": "app.py", "how": "identical"}]}]}]',
            'grades.json: $[0].exercises[0].flags[0]: the "with" key is missing',
        ),
    ],
)
def test_bad_grades_are_one_line_naming_the_file_and_key(tmp_path, capsys, content, said):
    folder = tmp_path / "grades"
    folder.mkdir()
    if content is not None:
        (folder / "grades.json").write_text(content)
    assert cli.main(["classroom", "report", str(folder)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"lambdalab classroom: {folder}/") and said in err
    assert not (folder / "report.html").exists()


def test_a_missing_folder_is_bad_input(tmp_path, capsys):
    assert cli.main(["classroom", "report", str(tmp_path / "nowhere")]) == 2
    assert capsys.readouterr().err == (
        f"lambdalab classroom: {tmp_path}/nowhere: no such folder (give the --out "
        "folder of `lambdalab grade --format json`)\n"
    )


# --- the HTML page -------------------------------------------------------------------------------------

VOID = {"meta", "br", "img", "input", "link", "hr", "wbr", "source", "col", "area", "base", "embed", "track"}


class Page(HTMLParser):
    """Well-formedness (every element closed, in order) and what the page would fetch."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[str] = []
        self.tags: Counter = Counter()
        self.refs: list[str] = []
        self.attrs: list[dict] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self._seen(tag, attrs)
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        self._seen(tag, attrs)

    def handle_endtag(self, tag):
        assert self.open and self.open[-1] == tag, f"</{tag}> closes {self.open[-1:]}"
        self.open.pop()

    def handle_data(self, data):
        self.text.append(data)

    def _seen(self, tag, attrs):
        self.tags[tag] += 1
        self.attrs.append(dict(attrs))
        self.refs += [v for k, v in attrs if k in ("src", "href", "xlink:href", "action")]


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    assert page.open == []
    return page


def test_the_page_is_well_formed_self_contained_and_accessible(report):
    html = render_html(report)
    page = parse(html)
    assert page.tags["html"] == page.tags["head"] == page.tags["body"] == page.tags["main"] == 1
    assert page.tags["link"] == page.tags["script"] == page.tags["img"] == page.tags["iframe"] == 0
    assert all(ref.startswith("#") for ref in page.refs) and "url(" not in html and "@import" not in html
    assert page.tags["svg"] >= 2 and page.tags["title"] == 1 + sum(a.get("role") == "img" for a in page.attrs)
    assert all("aria-labelledby" in a or a.get("aria-hidden") == "true" for a in page.attrs if "viewbox" in a)
    assert page.tags["table"] == page.tags["caption"] and page.tags["th"] > page.tags["table"]
    assert all(a.get("scope") in ("col", "row") for a in page.attrs if "scope" in a)


def test_learner_output_is_escaped_in_the_page(report):
    html = render_html(report)
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; was printed" in html
    assert "cleo&quot; onmouseover=&quot;x" in html and "\x1b" not in html and "\\x1b[2J" in html
    assert "onmouseover" not in {k for a in parse(html).attrs for k in a}


def test_the_page_shows_the_figures(report):
    html = render_html(report)
    assert f"<li><strong>dev</strong>: {STOPPED}</li>" in html
    text = " ".join(" ".join(parse(html).text).split())
    assert "proxy-response 5 2 40% 0 4.4 of 8" in text
    assert "tmp-cache 4 2 50% 1 6.2 of 10" in text
    assert "proxy-response: answers 200 Failed by 3 of 5 learner(s) (3 failed, 0 could not run)." in text
    assert "100% 1" in text and "0–9%: 1 learner(s); 10–19%: 0 learner(s)" in text
    assert "ben tmp-cache app.py reference-copy identical the reference" in text
    assert "concurrency-and-throttling check 2 0 13 24 54% 2.00" in text
    assert "proxy-response 2 4 3 1" in text


def test_the_same_files_give_the_same_bytes(tmp_path):
    folder = write_class(tmp_path / "grades", progress=PROGRESS)
    first, second = class_report.load(folder, LADDERS), class_report.load(folder, LADDERS)
    assert render_html(first) == render_html(second) and render_text(first, 90) == render_text(second, 90)


def test_the_terminal_summary_fits_and_shows_no_escapes(report):
    text = render_text(report, 80)
    assert all(len(line) <= 80 for line in text.splitlines())
    assert "\x1b" not in text and "\\x1b[2J" in text
    assert "5 learner(s), mean 52%, median 50%, 1 could not be graded, 3 copy flag(s)" in text
    assert "  1. proxy-response: answers 200: failed by 3 of 5 learner(s)" in text
    assert "        2  response $.statusCode is missing (the response is {})" in text
    bars = {line.split()[0]: line.split()[-1] for line in text.splitlines() if line.startswith("  ") and "%  " in line}
    assert bars["0–9%"] == bars["100%"] == bars["60–69%"] == "1" and bars["10–19%"] == "0"


# --- as an instructor runs it ---------------------------------------------------------------------------


def test_help_has_examples():
    for args in (["classroom", "--help"], ["classroom", "report", "--help"]):
        result = run_cli(*args)
        assert result.returncode == 0 and "examples:" in result.stdout and "lambdalab classroom report" in result.stdout
    assert "GRADES/progress/<learner>.json" in run_cli("classroom", "report", "--help").stdout


def test_grade_a_tiny_class_then_report_on_it(tmp_path):
    subs = tmp_path / "submissions"
    for name in ("good", "bad", "loud"):
        assert run_cli("start", str(subs / name)).returncode == 0
    shutil.copyfile(
        REPO / "exercises" / "01-proxy-response" / "solution" / "app.py", subs / "good" / "01-proxy-response" / "app.py"
    )
    (subs / "loud" / "01-proxy-response" / "app.py").write_text(
        'def handler(event, context):\n    return {"statusCode": 200, "body": "<script>alert(1)</script>"}\n'
    )
    out = tmp_path / "grades"
    graded = run_cli(
        "grade",
        str(subs),
        "--exercise",
        "proxy-response",
        "--format",
        "json",
        "--out",
        str(out),
        "--jobs",
        "2",
        timeout=300,
    )
    assert graded.returncode == 0, graded.stderr
    (out / "progress").mkdir()
    (out / "progress" / "good.json").write_text(json.dumps(PROGRESS["ben"]))
    (out / "progress" / "bad.json").write_text("{not json")

    result = run_cli("classroom", "report", str(out))
    assert result.returncode == 0, result.stderr
    assert f"note: skipped {out}/progress/bad.json: line 1, column 2: not valid JSON" in result.stderr
    assert f"wrote {out}/report.html" in result.stderr
    assert "3 learner(s), mean 33%, median 0%, 0 could not be graded" in result.stdout
    assert "proxy-response       3       1        33%       2.7/8" in result.stdout
    assert "Quizzes most missed (from 1 progress file(s)" in result.stdout
    which_arn = class_report.course_prompts(load_course())["the-lambda-model", "check", "which-arn"]
    assert which_arn[:19] in result.stdout  # the command reads the prompts from the installed course
    html = (out / "report.html").read_text()
    page = parse(html)
    assert page.tags["script"] == 0 and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "proxy-response 3 1 33%" in " ".join(" ".join(page.text).split())
    assert f"<td>{escape(which_arn)}</td>" in html


@pytest.mark.skipif(not shutil.which("chromium"), reason="headless Chromium is not installed")
def test_a_browser_draws_the_page(tmp_path, report):
    page = tmp_path / "report.html"
    page.write_text(render_html(report))
    shot = tmp_path / "report.png"
    subprocess.run(
        [
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            f"--screenshot={shot}",
            "--window-size=1100,1600",
            page.as_uri(),
        ],
        capture_output=True,
        timeout=120,
        check=True,
    )
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and struct.unpack(">II", png[16:24]) == (1100, 1600)
    assert len(png) > 20_000  # drawn, not a blank page
