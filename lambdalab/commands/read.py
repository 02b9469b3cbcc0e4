"""`lambdalab read LESSON`: a lesson as plain, linear text, for terminals, screen readers and scripts."""

from __future__ import annotations

import argparse
import sys

from lambdalab.commands import add_lesson_argument, lesson_named
from lambdalab.course.plain_text import lesson_markdown, style, wants_style
from lambdalab.course.progress import ProgressStore

NAME = "read"
HELP = "print a lesson as plain text (styled on a terminal, Markdown when piped)"
EXAMPLES = """\
  lambdalab read concurrency-and-throttling     by id
  lambdalab read 3                              by number
  lambdalab read 3 | less -R                    page through it
  lambdalab read 3 --raw > lesson.md            the Markdown itself, with no terminal styling"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_lesson_argument(parser)
    parser.add_argument(
        "--raw", action="store_true", help="print Markdown without terminal styling (the default when piped)"
    )


def run(args: argparse.Namespace) -> int:
    lesson = lesson_named(args.lesson)
    text = lesson_markdown(lesson)
    sys.stdout.write(text if args.raw or not wants_style(sys.stdout) else style(text))
    sys.stdout.flush()
    store = ProgressStore()
    store.mark_read(lesson.id, [page.id for page in lesson.pages])
    for note in store.notes:
        print(note, file=sys.stderr)
    return 0
