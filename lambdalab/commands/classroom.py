"""`lambdalab classroom`: an instructor's tools around a graded class, one subcommand per action, each
with its own --help and examples: `init` makes an answer key, `gradescope` and `github` the deployment
kits built on it, `report` writes class analytics."""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from lambdalab.commands import UsageError
from lambdalab.grading.exports import HIDDEN_VISIBILITY

NAME = "classroom"
HELP = "an instructor's tools for a graded class: answer key, Gradescope and GitHub Classroom kits, analytics"
EXAMPLES = """\
  lambdalab classroom init ~/keys/fall-2026                   an answer key for this class: keep it private
  lambdalab grade submissions/ --key ~/keys/fall-2026 --format json,csv --out grades/
  lambdalab classroom gradescope ~/keys/fall-2026 --out autograder.zip
  lambdalab classroom github ~/keys/fall-2026 --out lambdalab-template/
  lambdalab classroom report grades/                          grades/report.html, and a summary here

`lambdalab classroom ACTION --help` shows an action's options and examples."""

REPORT_HELP = (
    "class analytics from a graded class (pass rates, failure reasons, scores, copy flags, quiz questions "
    "most missed, hints), or a workshop's room afterwards"
)
ROOM_REPORT_FILE = "room-report.html"
REPORT_EXAMPLES = """\
  lambdalab grade submissions/ --format json --out grades/
  mkdir grades/progress && cp collected/alice/progress.json grades/progress/alice.json    (optional)
  lambdalab classroom report grades/
  lambdalab classroom report ~/workshop                       a `lambdalab serve --data ~/workshop` room

GRADES is the --out folder of `lambdalab grade --format json`: it holds grades.json. The report goes to
GRADES/report.html (one file: open it offline, print it, share it) and a summary to the terminal.
Quizzes and hints come from learners' progress files, when they are collected as
GRADES/progress/<learner>.json: each learner's progress.json (in their lambdalab data folder,
~/.local/share/lambdalab or $LAMBDALAB_HOME), named after their workspace folder.
GRADES may instead be the --data folder of `lambdalab serve`: the report is then what its instructor page
showed (each learner's lesson and step, quiz scores, exercises passed, the check they are stuck on, the pass
rates), written to DATA/room-report.html, with a summary to the terminal.
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


GRADESCOPE_HELP = "write a Gradescope autograder zip that grades with the answer key"
GRADESCOPE_EXAMPLES = """\
  lambdalab classroom gradescope ~/keys/fall-2026 --out autograder.zip
  lambdalab classroom gradescope ~/keys/lab-3 --exercise proxy-response --hidden-checks hidden --out lab-3.zip

Upload the zip on the assignment's "Configure Autograder" page (Ubuntu base image). It holds setup.sh
(installs lambdalab from the wheel in the zip), run_autograder (grades /autograder/submission, whatever
its layout: a workspace, a folder holding one, an exercise's files, and always writes
/autograder/results/results.json), and the key, readable by root only in the image.
exit status: 0 when the zip is written, 2 for bad input"""

GITHUB_HELP = "write a GitHub Classroom template repository that grades each push with the answer key"
GITHUB_EXAMPLES = """\
  lambdalab classroom github ~/keys/fall-2026 --out lambdalab-template/

Push the template to a repository of your Classroom organization and make it the assignment's template.
Its workflow grades each push and posts the points with Classroom's reporter; the key comes from the
organization secret LAMBDALAB_KEY, whose value is written beside the template (TEMPLATE.LAMBDALAB_KEY.txt):
  gh secret set LAMBDALAB_KEY --org YOUR-ORG --visibility all < lambdalab-template.LAMBDALAB_KEY.txt
A student can edit the workflow of their own repository: see the README's "Grading a class" for what
that allows and how to grade authoritatively.
exit status: 0 when the template is written, 2 for bad input"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", title="actions", required=True)
    init = actions.add_parser(
        "init",
        help=INIT_HELP,
        description=INIT_HELP,
        epilog="examples:\n" + INIT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    init.add_argument("keydir", metavar="KEYDIR", help="a new, empty folder for the key")
    init.add_argument("--exercise", action="append", default=[], metavar="ID", help="only these exercises (repeatable)")
    init.add_argument(
        "--secret",
        metavar="HEX",
        help="make the key from this 64-hex-digit secret (the same secret "
        "and course make the same key); default: a new random one",
    )
    init.set_defaults(action_run=_init)
    for name, help_text, examples, run_action, out_help in (
        ("gradescope", GRADESCOPE_HELP, GRADESCOPE_EXAMPLES, _gradescope, "the zip to write (autograder.zip)"),
        ("github", GITHUB_HELP, GITHUB_EXAMPLES, _github, "a new folder for the template repository"),
    ):
        kit = actions.add_parser(
            name,
            help=help_text,
            description=help_text,
            epilog="examples:\n" + examples,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        kit.add_argument("keydir", metavar="KEYDIR", help="the answer key (`lambdalab classroom init`)")
        kit.add_argument("--out", required=True, metavar="PATH", help=out_help)
        kit.add_argument(
            "--exercise", action="append", default=[], metavar="ID", help="only these exercises (repeatable)"
        )
        if name == "gradescope":
            kit.add_argument(
                "--hidden-checks",
                default="after_due_date",
                choices=HIDDEN_VISIBILITY,
                help="when students see hidden checks (default after the due date)",
            )
            kit.add_argument("--time-limit", default="10m", metavar="DURATION", help="per submission (default 10m)")
        kit.set_defaults(action_run=run_action)
    report = actions.add_parser(
        "report",
        help=REPORT_HELP,
        description=REPORT_HELP,
        epilog="examples:\n" + REPORT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    report.add_argument(
        "grades", metavar="GRADES", help="the folder holding grades.json, or a `lambdalab serve` --data folder"
    )
    report.set_defaults(action_run=_report)


def run(args: argparse.Namespace) -> int:
    return args.action_run(args)


def _kit_inputs(args: argparse.Namespace):
    """The key and the exercises a kit is built from, checked: bad input is exit status 2, before anything is
    written."""
    from lambdalab.commands import exercise_named
    from lambdalab.grading.answer_key import load_key
    from lambdalab.grading.exercises import load_catalogue

    key = load_key(Path(args.keydir))
    exercises = [exercise_named(e) for e in args.exercise] or load_catalogue().exercises
    missing = [e.id for e in exercises if e.id not in key.hidden]
    if missing:
        raise UsageError(
            f"the key {args.keydir} was made without {', '.join(missing)}: make a key for them, "
            f"or leave them out with --exercise"
        )
    return key, exercises


def _gradescope(args: argparse.Namespace) -> int:
    from lambdalab.engine.units import parse_duration
    from lambdalab.grading.kits import gradescope

    key, exercises = _kit_inputs(args)
    try:
        parse_duration(args.time_limit)
    except ValueError as exc:
        raise UsageError(f"--time-limit {args.time_limit}: {exc}") from None
    out = gradescope.build(key, [e.id for e in exercises], args.hidden_checks, args.time_limit, Path(args.out))
    print(
        f"Wrote {out}: upload it on the assignment's Configure Autograder page (base image: Ubuntu).\n"
        f"It holds the answer key: keep the zip where students cannot read it."
    )
    return 0


def _github(args: argparse.Namespace) -> int:
    from lambdalab.grading.kits import github

    key, exercises = _kit_inputs(args)
    folder = _new_folder(args.out, "the template")
    secret = github.build(key, exercises, folder, only=bool(args.exercise))
    print(
        f"Wrote the template repository {folder}/ and, beside it, the packed key {secret} (readable by you only).\n"
        f"1. Store the key as an organization secret the assignment's repositories can read:\n"
        f"     gh secret set LAMBDALAB_KEY --org YOUR-ORG --visibility all < {secret}\n"
        f"2. Push {folder}/ to a repository of the organization, mark it a template, and use it for the assignment.\n"
        f"Never commit {secret.name}."
    )
    return 0


def _new_folder(given: str, what: str) -> Path:
    folder = Path(given)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise UsageError(f"{folder} already exists and is not an empty folder: {what} goes in a new one")
    return folder


def _init(args: argparse.Namespace) -> int:
    from lambdalab.commands import exercise_named
    from lambdalab.grading.answer_key import make_key
    from lambdalab.grading.exercises import load_catalogue

    folder = _new_folder(args.keydir, "a key")
    try:
        secret = bytes.fromhex(args.secret) if args.secret else None
    except ValueError:
        secret = b""
    if secret is not None and len(secret) != 32:
        raise UsageError("--secret: 64 hexadecimal digits (32 bytes)")
    exercises = [exercise_named(e) for e in args.exercise] or load_catalogue().exercises
    print(
        f"Drawing the hidden checks of {len(exercises)} exercise(s) for your class, and proving the reference "
        f"solution passes each draw...",
        file=sys.stderr,
    )
    try:
        made = make_key(folder, exercises, lambda line: print(line, file=sys.stderr), secret)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    print(
        f"Made an answer key in {folder}: {made.drawn} hidden check(s) drawn for this class"
        f"{f' ({made.redrawn} draw(s) the reference failed were drawn again)' if made.redrawn else ''}, "
        f"{made.kept} kept as shipped (they have nothing to vary), and {len(exercises)} reference solution(s).\n"
        f"It is readable by you only; keep it out of anything students can read.\n"
        f"Next: lambdalab grade SUBMISSIONS --key {folder} --format json,csv --out grades/"
    )
    return 0


def _room_report(data: Path) -> int:
    """A `lambdalab serve` room afterwards: what its instructor's page showed, from the same files."""
    from lambdalab.serving.room import exercises
    from lambdalab.serving.room_page import render_page, render_text
    from lambdalab.serving.room_view import read_room, shared_course

    view = read_room(data, shared_course(), exercises())
    out = data / ROOM_REPORT_FILE
    try:
        out.write_text(render_page(view, f"lambdalab room: {data.name}", refresh_s=None), "utf-8")
    except OSError as exc:
        raise UsageError(f"{out}: cannot be written ({exc.strerror or type(exc).__name__})") from None
    sys.stdout.write(render_text(view, shutil.get_terminal_size((100, 24)).columns))
    print(f"wrote {out}", file=sys.stderr)
    return 0


def _report(args: argparse.Namespace) -> int:
    from lambdalab.grading import class_report
    from lambdalab.grading.class_report_html import render_html
    from lambdalab.grading.class_report_text import render_text
    from lambdalab.grading.exercises import load_catalogue

    folder = Path(args.grades)
    if (folder / "learners").is_dir() and not (folder / class_report.GRADES_FILE).exists():
        return _room_report(folder)
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
