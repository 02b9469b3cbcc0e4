"""`lambdalab quiz LESSON`: a lesson's questions one by one on stdin, each answer explained, the score recorded.

A quiz whose questions name their topic (the course review) ends with a score per topic and, for each
question answered wrongly, the step that teaches it. `--json` prints the result as one JSON object on
stdout and the transcript on stderr, so a script can pipe answers in and parse what comes out.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from lambdalab.commands import UsageError, add_lesson_argument, lesson_named
from lambdalab.course import quiz
from lambdalab.course.loader import Course, load_course
from lambdalab.course.model import Lesson, Question, QuizStep
from lambdalab.course.plain_text import style, wants_style
from lambdalab.course.progress import ProgressStore

NAME = "quiz"
HELP = "take a lesson's quiz on the terminal: answer by letter or number, every answer explained"
EXAMPLES = """\
  lambdalab quiz concurrency-and-throttling     by id
  lambdalab quiz 3                              by number
  printf 'b\\na c\\n' | lambdalab quiz 3        answers from a script, one line each
  lambdalab quiz course-review                  the mixed review: a score per topic, and what to re-read
  lambdalab quiz 3 --json < answers.txt         the result as JSON on stdout (the questions go to stderr)

answers: a letter or number for one choice ("b" or "2"), several for multiple choice ("a c"),
all of them in order for ordering questions ("c a b d"), t/f for true or false, a number for numeric ones.
exit status: 0 when the quiz is passed, 1 when it is not (or stopped before the end; nothing is recorded then)"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lesson_argument(parser)
    parser.add_argument(
        "--json", action="store_true", help="print the result as JSON on stdout; the questions and feedback on stderr"
    )


def run(args: argparse.Namespace) -> int:
    lesson = lesson_named(args.lesson)
    if not lesson.quizzes:
        raise UsageError(f"lesson {lesson.id!r} has no quiz")
    out = sys.stderr if args.json else sys.stdout
    styled = not args.json and wants_style(sys.stdout)
    store = ProgressStore()
    course: Course | None = None  # loaded only to name the steps to re-read
    passed_all = True
    results: list[dict[str, Any]] = []
    for step in lesson.quizzes:
        missed = _ask_all(lesson, step, styled, out, plain_input=args.json)
        if missed is None:
            print("\nQuiz stopped before the end: nothing was recorded.", file=out)
            if args.json:
                print(json.dumps({"lesson": lesson.id, "finished": False, "passed": False, "quizzes": []}, indent=2))
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
            f"Best so far: {saved['best']}/{total}, in {saved['attempts']} attempt(s).",
            file=out,
        )
        wrong = [q for q in step.questions if q.id in missed]
        if course is None and any(q.see for q in wrong):
            course = load_course()
        topics = quiz.topic_scores(step.questions, missed)
        _print_topics(topics, step, wrong, course, out)
        results.append(_result(step, score, total, passed, saved, topics, wrong))
    for note in store.notes:
        print(note, file=sys.stderr)
    if args.json:
        print(json.dumps({"lesson": lesson.id, "finished": True, "passed": passed_all, "quizzes": results}, indent=2))
    return 0 if passed_all else 1


def _print_topics(
    topics: list[quiz.TopicScore], step: QuizStep, wrong: list[Question], course: Course | None, out: TextIO
) -> None:
    """The score per topic, then each question answered wrongly, by its number, with the step that teaches it."""
    numbers = {q.id: n for n, q in enumerate(step.questions, 1)}
    if topics:
        width = max(len(t.title) for t in topics)
        print("\nBy topic (right/asked):", file=out)
        for t in topics:
            print(f"  {t.title.ljust(width)}  {t.right}/{t.asked}", file=out)
    reread = [(q, quiz.resolve_see(course, q.see)) for q in wrong if q.see and course is not None]
    if reread:
        print(f"\nTo re-read, for the {len(reread)} question(s) you missed:", file=out)
        for q, ref in reread:
            where = f"{ref.words} (lambdalab read {ref.lesson_id})" if ref else q.see
            print(f"  - Question {numbers[q.id]} ({q.id}): {where}", file=out)


def _result(
    step: QuizStep,
    score: int,
    total: int,
    passed: bool,
    saved: dict[str, Any],
    topics: list[quiz.TopicScore],
    wrong: list[Question],
) -> dict[str, Any]:
    return {
        "id": step.id,
        "score": score,
        "total": total,
        "pass_percent": step.pass_percent,
        "passed": passed,
        "best": saved["best"],
        "attempts": saved["attempts"],
        "missed": [{"id": q.id, "topic": q.topic or None, "see": q.see or None} for q in wrong],
        "topics": [{"topic": t.topic, "title": t.title, "right": t.right, "asked": t.asked} for t in topics],
    }


def _ask_all(lesson: Lesson, step: QuizStep, styled: bool, out: TextIO, plain_input: bool) -> list[str] | None:
    """Ask every question of one quiz; the ids of those answered wrongly, or None when stdin ends first."""
    print(f"{lesson.title}: {step.title} ({len(step.questions)} questions)", file=out)
    missed = []
    for n, question in enumerate(step.questions, 1):
        right = _ask(lesson, question, n, len(step.questions), styled, out, plain_input)
        if right is None:
            return None
        if not right:
            missed.append(question.id)
    return missed


def _read_answer(prompt: str, out: TextIO, plain_input: bool) -> str | None:
    """One line from stdin, or None at its end; input() when the prompt goes to stdout (it edits lines)."""
    if not plain_input:
        try:
            return input(prompt)
        except EOFError:
            return None
    print(prompt, end="", file=out, flush=True)
    line = sys.stdin.readline()
    return line.rstrip("\n") if line else None


def _ask(
    lesson: Lesson, question: Question, n: int, total: int, styled: bool, out: TextIO, plain_input: bool
) -> bool | None:
    shown = quiz.shown_choices(question, lesson.id)
    kind = "myth or fact, " if question.myth else ""
    header = f"\nQuestion {n} of {total} ({kind}{quiz.TYPE_NAMES[question.type]})\n{question.prompt}"
    print(style(header).rstrip() if styled else header, file=out)
    for i, choice in enumerate(shown):
        print(f"  {quiz.LETTERS[i]}) {choice}", file=out)
    while True:
        text = _read_answer(f"Your answer ({quiz.hint(question, shown)}): ", out, plain_input)
        if text is None:
            return None
        if not sys.stdin.isatty():
            print(text, file=out)  # answers piped in: show them, so the transcript reads like a session
        answer = quiz.parse(question, shown, text)
        if not isinstance(answer, str):
            break
        print(answer, file=out)
    feedback = quiz.grade(question, shown, answer)
    print("\n".join(feedback.lines), file=out)
    return feedback.correct
