"""The course review: questions tagged with a topic and a step to re-read, scored per topic in plain mode and the app.

`topic` and `see` are checked by the schema and by `lambdalab validate` (a `see` that names no lesson or step is
an error at its file:line and key); a quiz scores per topic and lists the steps that teach what was missed; the
shipped review (lesson 15) holds 30 such questions drawn across the whole course, every teaching lesson (1 to 14).
"""

from __future__ import annotations

import json
import re

import pytest
from conftest import run_cli
from course_helpers import quiz_keys, right_answer, tagged, write_course, wrong_answer
from textual.widgets import OptionList, Static

from lambdalab.course import quiz
from lambdalab.course.loader import load_course
from lambdalab.course.model import QuizStep
from lambdalab.course.progress import ProgressStore
from lambdalab.course.rules import check_course
from lambdalab.course.topics import QUESTION_TOPICS
from lambdalab.tui.app import LambdalabApp
from lambdalab.tui.screens.lesson import LessonScreen
from lambdalab.tui.widgets.quiz_view import QuizView


def problems(tmp_path, lesson: dict) -> list[str]:
    root = tmp_path / "lessons"
    write_course(root, lesson)
    return [str(e) for e in check_course(load_course(root)).errors]


# --- the format: schema and validate ----------------------------------------------------------------------


def test_a_tagged_quiz_passes(tmp_path):
    assert problems(tmp_path, tagged()) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"topic": "networking"}, "questions[0].topic: "),
        ({"topic": "review"}, "questions[0].topic: "),  # a lesson's topic, not a question's
        ({"see": "sample-lesson"}, "LESSON-ID#STEP-ID"),
        ({"see": "Sample-Lesson#What"}, "LESSON-ID#STEP-ID"),
    ],
    ids=["unknown topic", "review is no question topic", "see without a step", "see not an id"],
)
def test_the_schema_checks_topic_and_see(tmp_path, change, expected):
    found = problems(tmp_path, tagged(cap=change))
    assert len(found) == 1 and "02-sample-lesson/lesson.yaml:" in found[0] and expected in found[0], found


def test_a_see_naming_no_lesson_is_an_error_at_its_line_and_key(tmp_path):
    found = problems(tmp_path, tagged(cap={"see": "sample-lessen#what"}))
    assert len(found) == 1, found
    match = re.fullmatch(r"(.+)/02-sample-lesson/lesson\.yaml:(\d+):(\d+): ([\w.\[\]]+): (.+)", found[0])
    assert match, found[0]
    assert match.group(4) == "steps[2].questions[0].see"
    assert match.group(5) == "'sample-lessen#what' names no lesson (did you mean 'sample-lesson'?)"


def test_a_see_naming_no_step_lists_the_steps(tmp_path):
    found = problems(tmp_path, tagged(sizing={"see": "first-steps#outro"}))
    assert len(found) == 1, found
    assert found[0].endswith(
        "steps[2].questions[2].see: 'first-steps#outro' names no step of first-steps (did you mean 'intro'?) "
        "(steps: intro)"
    )


def test_the_line_named_is_the_line_of_the_see_key(tmp_path):
    folder = write_course(tmp_path / "lessons", tagged(order={"see": "first-steps#nowhere"}))
    found = check_course(load_course(folder.parent)).errors
    assert len(found) == 1
    text = (folder / "lesson.yaml").read_text().splitlines()
    assert text[found[0].line - 1].strip() == "see: first-steps#nowhere"


def test_a_quiz_that_scores_by_topic_tags_every_question(tmp_path):
    found = problems(tmp_path, tagged(order={"topic": None}))
    assert len(found) == 1 and found[0].split(": ")[1] == "steps[2].questions[3]", found
    assert "every question needs a `topic`" in found[0]


def test_validate_command_reports_a_broken_see_and_exits_1(tmp_path):
    folder = write_course(tmp_path / "lessons", tagged(cap={"see": "sample-lesson#nope"}))
    result = run_cli("validate", str(folder))
    assert result.returncode == 1, result.stdout + result.stderr
    output = result.stdout + result.stderr
    assert "lesson.yaml:" in output and "steps[2].questions[0].see" in output and "names no step" in output


# --- scoring per topic ----------------------------------------------------------------------------------


def test_scores_per_topic_in_course_order_with_the_questions_missed(tmp_path):
    lesson = load_course(write_course(tmp_path / "lessons", tagged()).parent).get("sample-lesson")
    questions = lesson.quizzes[0].questions
    scores = quiz.topic_scores(questions, ["sizing", "init-free", "sources"])
    assert [(s.topic, s.right, s.asked) for s in scores] == [
        ("invocation", 0, 1),
        ("concurrency", 1, 2),
        ("lifecycle", 1, 2),
    ]  # QUESTION_TOPICS order, not quiz order
    assert [q.id for q in scores[1].missed] == ["sizing"]
    assert scores[0].title == "Invocation models"


def test_a_quiz_without_topics_has_no_topic_scores(tmp_path):
    lesson = load_course(write_course(tmp_path / "lessons").parent).get("sample-lesson")
    assert quiz.topic_scores(lesson.quizzes[0].questions, ["cap"]) == []


def test_see_resolves_to_the_lesson_and_the_step_a_learner_finds():
    course = load_course()
    ref = quiz.resolve_see(course, "concurrency-and-throttling#reserved-concurrency")
    assert ref is not None and (ref.lesson_number, ref.step_number) == (3, 3)
    assert ref.words == "lesson 3 (Concurrency and throttling), step 3: Reserved concurrency: a guarantee and a cap"
    assert quiz.resolve_see(course, "concurrency-and-throttling#nowhere") is None


# --- the shipped review ---------------------------------------------------------------------------------

COURSE = load_course()
REVIEW = COURSE.get("course-review")
QUESTIONS = REVIEW.quizzes[0].questions


def test_the_review_is_the_last_lesson_and_builds_on_every_lesson_before_it():
    assert COURSE.lessons[-1].id == "course-review" and REVIEW.topic == "review"
    before = [lesson for lesson in COURSE.lessons if lesson is not REVIEW]
    assert [lesson.number for lesson in before] == list(range(1, 15))  # the teaching lessons 1 to 14
    assert all(lesson.topic != "review" for lesson in before)
    assert set(REVIEW.prerequisites) == {lesson.id for lesson in before}
    assert check_course(COURSE, only=REVIEW.folder).errors == []


def test_the_review_has_30_new_exam_style_questions_across_every_topic():
    assert len(QUESTIONS) == 30
    assert {q.topic for q in QUESTIONS} == set(QUESTION_TOPICS)
    others = {q.id for lesson in COURSE.lessons if lesson is not REVIEW for s in lesson.quizzes for q in s.questions}
    others_prompts = {
        q.prompt for lesson in COURSE.lessons if lesson is not REVIEW for s in lesson.quizzes for q in s.questions
    }
    assert not {q.id for q in QUESTIONS} & others and not {q.prompt for q in QUESTIONS} & others_prompts
    for q in QUESTIONS:
        assert q.type in ("single", "multiple") and len(q.options) == 4, q.id
        assert all("https://" in o.explanation for o in q.options if o.correct), f"{q.id}: the answer cites its source"
    assert sum(q.type == "single" for q in QUESTIONS) >= 25
    assert len({[o.correct for o in q.options].index(True) for q in QUESTIONS if q.type == "single"}) == 4


def test_every_review_question_links_a_step_of_a_teaching_lesson_including_13_and_14():
    linked = set()
    for q in QUESTIONS:
        ref = quiz.resolve_see(COURSE, q.see)
        assert ref is not None and 1 <= ref.lesson_number < REVIEW.number, q.id
        linked.add(ref.lesson_number)
    assert {13, 14} <= linked  # the review is drawn across the whole course, the last lessons included


def test_plain_mode_scores_the_review_per_topic_and_names_the_steps_to_reread():
    missed = {"cap-for-the-database", "short-event-age", "tail-the-log"}
    answers = "".join(
        (wrong_answer(q, REVIEW) if q.id in missed else right_answer(q, REVIEW)) + "\n" for q in QUESTIONS
    )
    result = run_cli("quiz", "course-review", input=answers)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    out = result.stdout
    assert "Score: 27/30 (90%): passed" in out
    topics = out.split("By topic (right/asked):\n", 1)[1].split("\n\n", 1)[0].splitlines()
    assert [line.split()[-1] for line in topics] == ["5/5", "5/6", "2/3", "3/3", "3/3", "3/3", "2/2", "4/5"]
    assert topics[1].split() == ["Invocation", "models", "5/6"]
    reread = out.split("To re-read, for the 3 question(s) you missed:\n", 1)[1].splitlines()
    assert reread[0] == (
        "  - Question 2 (cap-for-the-database): lesson 3 (Concurrency and throttling), step 3: "
        "Reserved concurrency: a guarantee and a cap (lambdalab read concurrency-and-throttling)"
    )
    assert [line.split(":")[0] for line in reread] == [
        "  - Question 2 (cap-for-the-database)",
        "  - Question 5 (short-event-age)",
        "  - Question 29 (tail-the-log)",
    ]


def test_plain_mode_json_carries_the_scores_per_topic_and_the_transcript_goes_to_stderr():
    answers = "".join(
        (wrong_answer(q, REVIEW) if q.id == "fast-rollback" else right_answer(q, REVIEW)) + "\n" for q in QUESTIONS
    )
    result = run_cli("quiz", "course-review", "--json", input=answers)
    assert result.returncode == 0, result.stderr[-2000:]
    data = json.loads(result.stdout)
    assert "Question 1 of 30" in result.stderr
    assert data["lesson"] == "course-review" and data["finished"] and data["passed"]
    [review] = data["quizzes"]
    assert (review["id"], review["score"], review["total"], review["pass_percent"]) == ("review", 29, 30, 70)
    assert review["missed"] == [
        {"id": "fast-rollback", "topic": "versions", "see": "versions-and-aliases#aliases-and-weights"}
    ]
    versions = next(t for t in review["topics"] if t["topic"] == "versions")
    assert versions == {"topic": "versions", "title": "Versions and aliases", "right": 2, "asked": 3}
    assert [t["topic"] for t in review["topics"]] == list(QUESTION_TOPICS)


def test_plain_mode_json_of_a_quiz_stopped_early():
    result = run_cli("quiz", "course-review", "--json", input="a\n")
    assert result.returncode == 1
    assert json.loads(result.stdout) == {"lesson": "course-review", "finished": False, "passed": False, "quizzes": []}


def test_a_quiz_without_topics_prints_no_topic_section():
    lesson = COURSE.get("the-lambda-model")
    answers = "".join(right_answer(q, lesson) + "\n" for s in lesson.quizzes for q in s.questions)
    result = run_cli("quiz", "the-lambda-model", input=answers)
    assert result.returncode == 0 and "By topic" not in result.stdout and "To re-read" not in result.stdout


# --- the app --------------------------------------------------------------------------------------------


async def test_the_result_screen_scores_per_topic_and_opens_the_step_to_reread(tmp_path):
    store = ProgressStore(tmp_path / "home")
    root = tmp_path / "lessons"
    write_course(root, tagged())
    course = load_course(root)
    lesson = course.get("sample-lesson")
    step = lesson.quizzes[0]
    assert isinstance(step, QuizStep)
    app = LambdalabApp(course=course, store=store)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_lesson(lesson, step.id)
        await pilot.pause()
        view = app.screen.query_one(QuizView)
        assert not view.query_one("#quiz-topics").display and not view.query_one("#quiz-reread").display
        for question in step.questions:
            await pilot.press(*quiz_keys(question, lesson, question.id not in {"sizing", "init-free"}), "enter")
        await pilot.pause()
        assert view.finished
        topics = str(view.query_one("#quiz-topics", Static).content)
        assert "By topic (right/asked)" in topics
        assert "✔ Invocation models        1/1" in topics
        assert "✘ Concurrency and scaling  1/2" in topics and "✘ Execution environment    1/2" in topics
        reread = view.query_one("#quiz-reread", OptionList)
        assert reread.display and reread.has_focus
        assert [o.id for o in reread.options] == ["init-free", "sizing"]  # the questions missed, in quiz order
        assert str(reread.options[0].prompt) == (
            "Question 2 (Execution environment): lesson 1 (First steps), step 1: Introduction"
        )
        footer_actions = {b.binding.action for b in app.screen.active_bindings.values() if b.binding.show and b.enabled}
        assert "open_step" in footer_actions
        # Progress keeps what it keeps for any quiz.
        saved = store.load()["lessons"][lesson.id]["quizzes"][step.id]
        assert saved["last"] == 3 and saved["missed"] == ["init-free", "sizing"]

        await pilot.press("down", "enter")
        await pilot.pause()
        assert isinstance(app.screen, LessonScreen) and app.screen.lesson.id == "sample-lesson"
        assert app.screen.step.id == "burst"
        await pilot.press("escape")
        await pilot.pause()
        back = app.screen.query_one(QuizView)
        assert back is view and view.finished and view.query_one("#quiz-reread").display

        await pilot.press("r")  # retake: the result's lists go away until the end
        await pilot.pause()
        assert not view.query_one("#quiz-topics").display and not view.query_one("#quiz-reread").display


async def test_a_quiz_without_topics_shows_its_result_as_before(tmp_path):
    course = load_course(write_course(tmp_path / "lessons").parent)
    lesson = course.get("sample-lesson")
    app = LambdalabApp(course=course, store=ProgressStore(tmp_path / "home"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        app.open_lesson(lesson, lesson.quizzes[0].id)
        await pilot.pause()
        for question in lesson.quizzes[0].questions:
            await pilot.press(*quiz_keys(question, lesson, question.id != "cap"), "enter")
        await pilot.pause()
        view = app.screen.query_one(QuizView)
        assert view.finished and not view.query_one("#quiz-topics").display
        assert not view.query_one("#quiz-reread").display
        assert str(view.query_one("#quiz-hint", Static).content).startswith("Press n for the next step")
