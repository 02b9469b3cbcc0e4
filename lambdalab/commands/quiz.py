"""`lambdalab quiz LESSON`: a lesson's questions one by one on stdin, each answer explained, the score recorded."""

from __future__ import annotations

import argparse
import sys

from lambdalab.commands import UsageError, add_lesson_argument, lesson_named
from lambdalab.course import quiz
from lambdalab.course.model import Lesson, Question, QuizStep
from lambdalab.course.plain_text import style, wants_style
from lambdalab.course.progress import ProgressStore

NAME = "quiz"
HELP = "take a lesson's quiz on the terminal: answer by letter or number, every answer explained"
EXAMPLES = """\
  lambdalab quiz concurrency-and-throttling     by id
  lambdalab quiz 3                              by number
  printf 'b\\na c\\n' | lambdalab quiz 3        answers from a script, one line each

answers: a letter or number for one choice ("b" or "2"), several for multiple choice ("a c"),
all of them in order for ordering questions ("c a b d"), t/f for true or false, a number for numeric ones.
exit status: 0 when the quiz is passed, 1 when it is not (or stopped before the end; nothing is recorded then)"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lesson_argument(parser)


def run(args: argparse.Namespace) -> int:
    lesson = lesson_named(args.lesson)
    if not lesson.quizzes:
        raise UsageError(f"lesson {lesson.id!r} has no quiz")
    styled = wants_style(sys.stdout)
    store = ProgressStore()
    passed_all = True
    for step in lesson.quizzes:
        missed = _ask_all(lesson, step, styled)
        if missed is None:
            print("\nQuiz stopped before the end: nothing was recorded.")
            return 1
        total = len(step.questions)
        score = total - len(missed)
        passed = score * 100 >= step.pass_percent * total
        passed_all &= passed
        data = store.record_quiz(lesson.id, step.id, score, total, passed, missed)
        saved = data["lessons"][lesson.id]["quizzes"][step.id]
        print(
            f"\nScore: {score}/{total} ({round(100 * score / total)}%): "
            f"{'passed' if passed else 'not passed yet'} ({step.pass_percent}% needed). "
            f"Best so far: {saved['best']}/{total}, in {saved['attempts']} attempt(s)."
        )
    for note in store.notes:
        print(note, file=sys.stderr)
    return 0 if passed_all else 1


def _ask_all(lesson: Lesson, step: QuizStep, styled: bool) -> list[str] | None:
    """Ask every question of one quiz; the ids of those answered wrongly, or None when stdin ends first."""
    print(f"{lesson.title}: {step.title} ({len(step.questions)} questions)")
    missed = []
    for n, question in enumerate(step.questions, 1):
        right = _ask(lesson, question, n, len(step.questions), styled)
        if right is None:
            return None
        if not right:
            missed.append(question.id)
    return missed


def _ask(lesson: Lesson, question: Question, n: int, total: int, styled: bool) -> bool | None:
    shown = quiz.shown_choices(question, lesson.id)
    kind = "myth or fact, " if question.myth else ""
    header = f"\nQuestion {n} of {total} ({kind}{quiz.TYPE_NAMES[question.type]})\n{question.prompt}"
    print(style(header).rstrip() if styled else header)
    for i, text in enumerate(shown):
        print(f"  {quiz.LETTERS[i]}) {text}")
    while True:
        try:
            text = input(f"Your answer ({quiz.hint(question, shown)}): ")
        except EOFError:
            return None
        if not sys.stdin.isatty():
            print(text)  # answers piped in: show them, so the transcript reads like a session
        answer = quiz.parse(question, shown, text)
        if not isinstance(answer, str):
            break
        print(answer)
    feedback = quiz.grade(question, shown, answer)
    print("\n".join(feedback.lines))
    return feedback.correct
