"""Answers by letter or number, graded right or wrong, and explained option by option."""

from __future__ import annotations

import pytest
from course_helpers import write_course

from lambdalab.course import quiz
from lambdalab.course.loader import load_course


@pytest.fixture()
def lesson(tmp_path):
    return load_course(write_course(tmp_path / "lessons").parent).get("sample-lesson")


def question(lesson, question_id):
    return next(q for q in lesson.quizzes[0].questions if q.id == question_id)


def ask(lesson, question_id, text):
    q = question(lesson, question_id)
    shown = quiz.shown_choices(q, lesson.id)
    answer = quiz.parse(q, shown, text)
    return answer if isinstance(answer, str) else quiz.grade(q, shown, answer)


def test_single_choice_by_letter_or_number(lesson):
    assert ask(lesson, "cap", "a").correct and ask(lesson, "cap", "1").correct
    wrong = ask(lesson, "cap", "B")
    assert not wrong.correct
    assert wrong.lines[0] == "Not quite: the right answer is (a)."
    # The chosen option's explanation and the right one's, each saying which is which.
    assert "(b) All 200 run [you chose it; wrong]: The reservation caps" in wrong.lines[2]
    assert "(a) 50 run, 150 get a 429 [you did not choose it; right]" in wrong.lines[1]


def test_multiple_choice_needs_exactly_the_right_set(lesson):
    assert ask(lesson, "sources", "a b").correct
    assert ask(lesson, "sources", "2,1").correct
    assert not ask(lesson, "sources", "a").correct
    assert not ask(lesson, "sources", "a b c").correct
    assert ask(lesson, "sources", "a a") == "you named the same choice twice"


def test_true_false_explains_both_sides_when_wrong(lesson):
    right = ask(lesson, "init-free", "f")
    assert right.correct and right.lines == ("Correct: the statement is false.", "Right: Init is billed now.")
    wrong = ask(lesson, "init-free", "true")
    assert not wrong.correct and wrong.lines[1:] == ("Init is billed since August 2025.", "Right: Init is billed now.")
    assert ask(lesson, "init-free", "b").correct  # b) False


def test_numeric_with_tolerance_and_known_wrong_answers(lesson):
    assert ask(lesson, "sizing", "100").correct
    assert ask(lesson, "sizing", "100 executions").correct
    wrong = ask(lesson, "sizing", "400")
    assert not wrong.correct and "That divides by the duration." in wrong.lines
    assert ask(lesson, "sizing", "lots").startswith("'lots' is not a number")


def test_ordering_is_shown_shuffled_the_same_way_every_time(lesson):
    q = question(lesson, "order")
    shown = quiz.shown_choices(q, lesson.id)
    assert sorted(shown) == sorted(q.items) and shown != list(q.items)
    assert shown == quiz.shown_choices(q, lesson.id)
    in_order = " ".join(quiz.LETTERS[shown.index(item)] for item in q.items)
    assert ask(lesson, "order", in_order).correct
    wrong = ask(lesson, "order", "a b c")
    assert not wrong.correct and wrong.lines[1:4] == ("  1. Init", "  2. Invoke", "  3. Shutdown")
    assert ask(lesson, "order", "a b") == "put all 3 items in order (you named 2)"


@pytest.mark.parametrize(
    "text, problem",
    [
        ("", "please answer with a letter a-b or a number 1-2"),
        ("z", "'z' is not one of the choices"),
        ("3", "'3' is not one of the choices"),
        ("a b", "this question has one answer: name one choice"),
    ],
)
def test_unusable_answers_say_how_to_answer(lesson, text, problem):
    assert problem in ask(lesson, "cap", text)
