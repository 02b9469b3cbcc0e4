"""`lambdalab classroom`: an instructor's tools around a graded class, one subcommand per action, each
with its own --help and examples: `init` makes an answer key, `report` writes class analytics."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from lambdalab.commands import UsageError

NAME = "classroom"
HELP = "an instructor's tools for a graded class: an answer key (init), class analytics (report)"
EXAMPLES = """\
  lambdalab classroom init ~/keys/fall-2026                   an answer key for this class: keep it private
  lambdalab grade submissions/ --key ~/keys/fall-2026 --format json,csv --out grades/
  lambdalab classroom report grades/                          grades/report.html, and a summary here

`lambdalab classroom ACTION --help` shows an action's options and examples."""

REPORT_HELP = "class analytics from a graded class: pass rates, failure reasons, scores, copy flags, quizzes, hints"
REPORT_EXAMPLES = """\
  lambdalab grade submissions/ --format json --out grades/
  mkdir grades/progress && cp collected/alice/progress.json grades/progress/alice.json    (optional)
  lambdalab classroom report grades/

GRADES is the --out folder of `lambdalab grade --format json`: it holds grades.json. The report goes to
GRADES/report.html (one file: open it offline, print it, share it) and a summary to the terminal.
Quizzes and hints come from learners' progress files, when they are collected as
GRADES/progress/<learner>.json: each learner's progress.json (in their lambdalab data folder,
~/.local/share/lambdalab or $LAMBDALAB_HOME), named after their workspace folder.
exit status: 0 when the report is written, 2 for bad input (a damaged progress file is skipped with a note)"""


INIT_HELP = "make an answer key: the class's own hidden checks (drawn from a secret) and the reference solutions"
INIT_EXAMPLES = """\
  lambdalab classroom init ~/keys/fall-2026
  lambdalab classroom init ~/keys/lab-3 --exercise proxy-response --exercise tmp-cache

Every learner's lambdalab carries the course's hidden checks as examples (and the solutions, which open
after a pass). A key draws each hidden check afresh for your class (other payloads, ids, seeds, traffic),
so a submission fitted to the examples fails, and proves the reference solution passes every draw. The
key folder is readable by you only: never put it where students can read it. Grade with
`lambdalab grade SUBMISSIONS --key KEYDIR` (or LAMBDALAB_KEY=KEYDIR).
exit status: 0 when the key is made, 2 for bad input (the folder already holds something)"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", title="actions", required=True)
    init = actions.add_parser("init", help=INIT_HELP, description=INIT_HELP, epilog="examples:\n" + INIT_EXAMPLES,
                              formatter_class=argparse.RawDescriptionHelpFormatter)
    init.add_argument("keydir", metavar="KEYDIR", help="a new, empty folder for the key")
    init.add_argument("--exercise", action="append", default=[], metavar="ID", help="only these exercises (repeatable)")
    init.add_argument("--secret", metavar="HEX", help="make the key from this 64-hex-digit secret (the same secret "
                                                     "and course make the same key); default: a new random one")
    init.set_defaults(action_run=_init)
    report = actions.add_parser("report", help=REPORT_HELP, description=REPORT_HELP,
                                epilog="examples:\n" + REPORT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    report.add_argument("grades", metavar="GRADES", help="the folder holding grades.json")
    report.set_defaults(action_run=_report)


def run(args: argparse.Namespace) -> int:
    return args.action_run(args)


def _init(args: argparse.Namespace) -> int:
    from lambdalab.commands import exercise_named
    from lambdalab.grading.answer_key import make_key
    from lambdalab.grading.exercises import load_catalogue

    folder = Path(args.keydir)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"{folder} already exists and is not an empty folder: a key goes in a new one")
    try:
        secret = bytes.fromhex(args.secret) if args.secret else None
    except ValueError:
        secret = b""
    if secret is not None and len(secret) != 32:
        raise UsageError("--secret: 64 hexadecimal digits (32 bytes)")
    exercises = [exercise_named(e) for e in args.exercise] or load_catalogue().exercises
    print(f"Drawing the hidden checks of {len(exercises)} exercise(s) for your class, and proving the reference "
          f"solution passes each draw...", file=sys.stderr)
    try:
        made = make_key(folder, exercises, lambda line: print(line, file=sys.stderr), secret)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(f"Made an answer key in {folder}: {made.drawn} hidden check(s) drawn for this class"
          f"{f' ({made.redrawn} draw(s) the reference failed were drawn again)' if made.redrawn else ''}, "
          f"{made.kept} kept as shipped (they have nothing to vary), and {len(exercises)} reference solution(s).\n"
          f"It is readable by you only; keep it out of anything students can read.\n"
          f"Next: lambdalab grade SUBMISSIONS --key {folder} --format json,csv --out grades/")
    return 0


def _report(args: argparse.Namespace) -> int:
    from lambdalab.grading import class_report
    from lambdalab.grading.class_report_html import render_html
    from lambdalab.grading.class_report_text import render_text
    from lambdalab.grading.exercises import load_catalogue

    folder = Path(args.grades)
    ladders = {e.id: len(e.hints) for e in load_catalogue().exercises}
    try:
        report = class_report.load(folder, ladders)
    except class_report.BadInput as exc:
        raise UsageError(str(exc)) from None
    for note in report.notes:
        print(f"note: {note}", file=sys.stderr)
    out = folder / class_report.REPORT_FILE
    try:
        out.write_text(render_html(report), "utf-8")
    except OSError as exc:
        raise UsageError(f"{out}: cannot be written ({exc.strerror or type(exc).__name__})") from None
    sys.stdout.write(render_text(report, shutil.get_terminal_size((100, 24)).columns))
    print(f"wrote {out}", file=sys.stderr)
    return 0
