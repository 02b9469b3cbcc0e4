"""`lambdalab lessons`, `read` and `quiz` as a learner runs them: plain text, stdin answers, progress kept."""

from __future__ import annotations

import json

from conftest import run_cli
from course_helpers import right_answer, wrong_answer

from lambdalab.course.loader import load_course

LESSON = load_course().get("concurrency-and-throttling")
QUESTIONS = [q for quiz in LESSON.quizzes for q in quiz.questions]


def lessons_json() -> dict:
    result = run_cli("lessons", "--json")
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_lessons_lists_the_course_with_no_progress_yet():
    result = run_cli("lessons")
    assert result.returncode == 0
    assert "Concurrency and throttling" in result.stdout and "0/" in result.stdout
    assert "Next: lambdalab read the-lambda-model" in result.stdout


def test_reading_records_pages_and_resume_point(_lambdalab_home):
    assert run_cli("read", "3").returncode == 0
    row = next(r for r in lessons_json()["lessons"] if r["id"] == LESSON.id)
    assert row["pages_read"] == row["pages"] == len(LESSON.pages)
    assert lessons_json()["last_lesson"] == LESSON.id
    assert (_lambdalab_home / "progress.json").is_file()


def test_a_passed_quiz_is_scored_and_recorded():
    answers = [right_answer(q, LESSON) for q in QUESTIONS]
    answers[0] = wrong_answer(QUESTIONS[0], LESSON)
    result = run_cli("quiz", LESSON.id, input="\n".join(answers) + "\n")
    total = len(QUESTIONS)
    assert f"Score: {total - 1}/{total}" in result.stdout
    assert result.stdout.count("Not quite") == 1
    passed = (total - 1) * 100 >= LESSON.quizzes[0].pass_percent * total
    assert result.returncode == (0 if passed else 1)
    row = next(r for r in lessons_json()["lessons"] if r["id"] == LESSON.id)
    assert row["quiz_best"] == total - 1 and row["quiz_passed"] is passed


def test_the_quiz_records_which_questions_were_missed(_lambdalab_home):
    def take(wrong: set[int]) -> dict:
        """Answer the questions numbered in `wrong` wrongly and the rest rightly; what was saved of the quiz."""
        answers = [(wrong_answer if n in wrong else right_answer)(q, LESSON) for n, q in enumerate(QUESTIONS)]
        assert run_cli("quiz", LESSON.id, input="\n".join(answers) + "\n").stdout.count("Not quite") == len(wrong)
        saved = json.loads((_lambdalab_home / "progress.json").read_text())
        return saved["lessons"][LESSON.id]["quizzes"][LESSON.quizzes[0].id]

    first = take({4, 1})
    assert first["missed"] == [QUESTIONS[1].id, QUESTIONS[4].id]
    assert first["missed_ever"] == {QUESTIONS[1].id: 1, QUESTIONS[4].id: 1}
    second = take({4})
    assert second["missed"] == [QUESTIONS[4].id] and second["missed_ever"] == {QUESTIONS[1].id: 1, QUESTIONS[4].id: 2}


def test_a_failed_quiz_exits_1_and_invalid_answers_are_asked_again():
    answers = ["nonsense"] + [wrong_answer(q, LESSON) for q in QUESTIONS]
    result = run_cli("quiz", LESSON.id, input="\n".join(answers) + "\n")
    assert result.returncode == 1
    assert "'nonsense' is not" in result.stdout
    assert f"Score: 0/{len(QUESTIONS)} (0%): not passed yet" in result.stdout


def test_stopping_early_records_nothing():
    result = run_cli("quiz", LESSON.id, input=right_answer(QUESTIONS[0], LESSON) + "\n")
    assert result.returncode == 1
    assert "Quiz stopped before the end: nothing was recorded." in result.stdout
    assert next(r for r in lessons_json()["lessons"] if r["id"] == LESSON.id)["quiz_best"] is None


def test_unknown_lesson_is_a_usage_error():
    for command in ("read", "quiz"):
        result = run_cli(command, "concurency-and-throttling")
        assert result.returncode == 2
        assert "no lesson 'concurency-and-throttling' (did you mean 'concurrency-and-throttling'?)" in result.stderr


def test_corrupt_progress_is_reported_in_one_line_and_the_command_still_works(_lambdalab_home):
    (_lambdalab_home / "progress.json").write_text("{not json")
    result = run_cli("lessons")
    assert result.returncode == 0 and "Concurrency and throttling" in result.stdout
    assert result.stderr.count("\n") == 1 and "kept aside as progress.json.corrupt-" in result.stderr
