"""`lambdalab lessons`: the course, in order, with the learner's progress."""

from __future__ import annotations

import argparse
import json
import sys

from lambdalab.course.loader import load_course
from lambdalab.course.progress import ProgressStore, lesson_progress
from lambdalab.tables import table

NAME = "lessons"
HELP = "list the lessons with your progress (pages read, quiz scores)"
EXAMPLES = """\
  lambdalab lessons                       the course and your progress
  lambdalab lessons --json                the same as JSON, for scripts
  LAMBDALAB_HOME=./class lambdalab lessons   progress kept in ./class instead of your user data folder"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print the lessons and progress as JSON")


def run(args: argparse.Namespace) -> int:
    course = load_course()
    store = ProgressStore()
    progress = store.load()
    rows = []
    for lesson in course.lessons:
        done = lesson_progress(progress, lesson)
        rows.append(
            {
                "number": lesson.number,
                "id": lesson.id,
                "title": lesson.title,
                "topic": lesson.topic,
                "minutes": lesson.minutes,
                "pages": done.pages,
                "pages_read": done.pages_read,
                "quiz_questions": done.quiz_questions,
                "quiz_best": done.quiz_best,
                "quiz_passed": done.quiz_passed,
            }
        )
    for note in store.notes:
        print(note, file=sys.stderr)
    for error in course.errors:
        print(
            f"lambdalab lessons: skipped a lesson that does not load: {error} (run `lambdalab validate`)",
            file=sys.stderr,
        )
    if args.json:
        print(json.dumps({"lessons": rows, "last_lesson": progress.get("last_lesson")}, indent=2))
        return 0
    print(
        "\n".join(
            table(
                ["  #  lesson", "topic", "minutes", "read", "quiz"],
                [
                    [
                        f"{r['number']:>3}  {r['title']}",
                        r["topic"],
                        r["minutes"],
                        f"{r['pages_read']}/{r['pages']}",
                        "-"
                        if r["quiz_best"] is None
                        else f"{r['quiz_best']}/{r['quiz_questions']}{' passed' if r['quiz_passed'] else ''}",
                    ]
                    for r in rows
                ],
            )
        )
    )
    resume = progress.get("last_lesson") or (course.lessons[0].id if course.lessons else None)
    if resume:
        print(f"\nNext: lambdalab read {resume}    (then: lambdalab quiz {resume})")
    return 0
