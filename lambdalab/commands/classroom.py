"""`lambdalab classroom`: an instructor's tools around a graded class. Each action is a subcommand
(`report` now; `init`, `gradescope` and `github` can join it), with its own --help and examples."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from lambdalab.commands import UsageError

NAME = "classroom"
HELP = "an instructor's tools for a graded class: `report` writes class analytics (HTML and a summary)"
EXAMPLES = """\
  lambdalab grade submissions/ --format json --out grades/
  lambdalab classroom report grades/          grades/report.html, and a summary here

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


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", title="actions", required=True)
    report = actions.add_parser("report", help=REPORT_HELP, description=REPORT_HELP,
                                epilog="examples:\n" + REPORT_EXAMPLES, formatter_class=argparse.RawDescriptionHelpFormatter)
    report.add_argument("grades", metavar="GRADES", help="the folder holding grades.json")
    report.set_defaults(action_run=_report)


def run(args: argparse.Namespace) -> int:
    return args.action_run(args)


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
