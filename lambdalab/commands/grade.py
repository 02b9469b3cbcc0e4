"""`lambdalab grade`: an instructor's bulk grading of a folder of workspaces, in the formats graders read."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import tempfile
from pathlib import Path

from lambdalab import __version__
from lambdalab.commands import UsageError, exercise_named
from lambdalab.engine.units import parse_duration
from lambdalab.grading import exports
from lambdalab.grading.answer_key import PACKED, load_key, unpack_key
from lambdalab.grading.bulk import grade_submissions
from lambdalab.grading.exercises import load_catalogue
from lambdalab.grading.isolation import LAYERS, Isolation
from lambdalab.grading.journal import Journal, write_atomically
from lambdalab.grading.workspace import MARKER

NAME = "grade"
HELP = "bulk-grade a folder of learners' workspaces (text, JSON, JUnit, Gradescope, GitHub Classroom, Exercism, CSV)"
FORMATS = ("text", "json", "junit", "gradescope", "github", "exercism", "csv")
EXAMPLES = """\
  lambdalab grade submissions/                                a text table, one row per workspace
  lambdalab grade submissions/ --format junit,gradescope,csv --out grades/
  lambdalab grade /autograder/submission --format gradescope --out /autograder/results    inside Gradescope
  lambdalab grade . --format github >> "$GITHUB_OUTPUT"          a GitHub Classroom grader step
  lambdalab grade submissions/ --exercise proxy-response --jobs 4 --time-limit 5m
  lambdalab grade submissions/ --key ~/class-key --format json,csv --out grades/ --resume

SUBMISSIONS is one workspace (it holds lambdalab-workspace.json or exercise folders) or a folder of them,
one per learner. Checks come from the installed course, or from the answer key (--key), never from the
workspaces. Each submission is graded from a private copy, in a process of its own, with student code
shut in as far as this machine allows (the first line says how: see the README's "Grading a class").
With --out, each format is written there (results.json, junit.xml, grades.csv, ... per learner), once
every submission is graded; each graded submission is also kept in DIR/.lambdalab-graded/ as it finishes,
so an interrupted run continues with --resume. Without --out, one format goes to stdout.
exit status: 0 when graded (whatever the scores), 2 for bad input, 130 when interrupted"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submissions", metavar="SUBMISSIONS", help="a workspace, or a folder of workspaces")
    parser.add_argument("--format", default="text", help=f"comma-separated: {', '.join(FORMATS)} (default text)")
    parser.add_argument("--out", metavar="DIR", help="write every format here instead of printing one")
    parser.add_argument("--exercise", action="append", default=[], metavar="ID", help="grade only these (repeatable)")
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, metavar="N", help="submissions at once (default: cores)"
    )
    parser.add_argument("--time-limit", default="10m", metavar="DURATION", help="per submission (default 10m)")
    parser.add_argument("--assignment", default="lambdalab", help="the assignment name in the CSV")
    parser.add_argument(
        "--key",
        metavar="KEYDIR",
        default=os.environ.get("LAMBDALAB_KEY"),
        help="the answer key to grade with: its folder (`lambdalab classroom init`), or the packed key a CI "
        "secret holds (`lambdalab classroom github`); default $LAMBDALAB_KEY",
    )
    parser.add_argument(
        "--hidden-checks",
        choices=exports.HIDDEN_VISIBILITY,
        default="after_due_date",
        help="how Gradescope shows hidden checks to students: after the due date (default; the total "
        "too), after grades are published, or never (with the total visible)",
    )
    parser.add_argument("--resume", action="store_true", help="keep what an interrupted run with the same --out graded")
    parser.add_argument(
        "--isolation",
        default=",".join(LAYERS),
        metavar="LAYERS",
        help=f"the isolation layers to use where the machine allows them (default all: {','.join(LAYERS)})",
    )


def run(args: argparse.Namespace) -> int:
    with contextlib.ExitStack() as stack:
        return _run(args, stack)


def _answer_key(given: str, stack: contextlib.ExitStack):
    """A key folder, or a packed key (a CI secret's text), unpacked for this run only."""
    if not given.startswith(PACKED):
        return load_key(Path(given).resolve())
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="lambdalab-key-")))
    try:
        return load_key(unpack_key(given, folder))
    except ValueError as exc:
        raise UsageError(f"--key: {exc}") from None


def _run(args: argparse.Namespace, stack: contextlib.ExitStack) -> int:
    formats = [f.strip() for f in args.format.split(",") if f.strip()]
    unknown = [f for f in formats if f not in FORMATS]
    if unknown or not formats:
        raise UsageError(f"--format {args.format}: choose from {', '.join(FORMATS)}")
    if len(formats) > 1 and not args.out:
        raise UsageError("several formats need --out DIR (one format can go to stdout)")
    try:
        limit = parse_duration(args.time_limit)
    except ValueError as exc:
        raise UsageError(f"--time-limit {args.time_limit}: {exc}") from None
    layers = tuple(x.strip() for x in args.isolation.split(",") if x.strip())
    if any(x not in LAYERS for x in layers):
        raise UsageError(f"--isolation {args.isolation}: choose from {', '.join(LAYERS)}")
    root = Path(args.submissions)
    if not root.is_dir():
        raise UsageError(f"{root}: no such folder")
    catalogue = load_catalogue()
    exercises = [exercise_named(e) for e in args.exercise] or catalogue.exercises
    folders = _submissions(root, {e.folder.name for e in catalogue.exercises})
    if not folders:
        raise UsageError(f"{root}: no workspaces in it")
    key = _answer_key(args.key, stack) if args.key else None
    out = Path(args.out).resolve() if args.out else None
    graded_with = [key.applied(e) if key else e for e in exercises]
    journal = (
        Journal(
            out,
            {
                "lambdalab": __version__,
                "exercises": [(e.id, e.content_sha256) for e in graded_with],
                "time_limit": limit,
            },
            {e.id: e.folder.name for e in exercises},
            args.resume,
        )
        if out
        else None
    )
    hidden = tuple(str(p) for p in (key and key.folder, root.resolve(), out) if p)
    say = (lambda text: print(text, file=sys.stderr)) if out else (lambda text: None)
    if key is None:
        print(
            "lambdalab grade: no answer key: the hidden checks are the course's examples, which every learner can "
            "read (make a key with `lambdalab classroom init KEYDIR`)",
            file=sys.stderr,
        )
    elif key.stale(exercises):
        print(
            f"lambdalab grade: the key was made for another version of {', '.join(key.stale(exercises))}: its hidden "
            f"checks may not fit; make a new key with `lambdalab classroom init`",
            file=sys.stderr,
        )
    say(f"Grading {len(folders)} submission(s) x {len(exercises)} exercise(s), {args.jobs} at once...")
    previous = signal.signal(signal.SIGTERM, _interrupted)
    try:
        results = grade_submissions(
            folders,
            exercises,
            args.jobs,
            limit,
            key=key,
            hidden=hidden,
            layers=layers,
            journal=journal,
            started=lambda isolation: say(_isolation_said(isolation)),
            done=lambda r, kept: say(
                f"  {Path(r.workspace).name}: {r.score:g}/{r.max_score:g}" + (" (kept)" if kept else "")
            ),
        )
    except KeyboardInterrupt:
        kept = (
            f"{journal.count()} graded submission(s) are kept in {journal.folder}; run the same command with "
            f"--resume to grade the rest"
            if journal
            else "nothing was written"
        )
        print(f"lambdalab grade: interrupted: {kept}.", file=sys.stderr)
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous)
    max_score = sum(e.points for e in graded_with)
    single = folders == [root]
    rendered = {fmt: _render(fmt, results, graded_with, args, max_score, single) for fmt in formats}
    if out is None:  # no --out
        files = next(iter(rendered.values()))
        if len(files) > 1:
            raise UsageError(f"--format {formats[0]} writes a file per learner: give --out DIR")
        sys.stdout.write(files[0][1])
        return 0
    for files in rendered.values():
        for name, text in files:
            write_atomically(out / name, text)
            print(f"wrote {out / name}", file=sys.stderr)
    return 0


def _submissions(root: Path, exercise_folders: set[str]) -> list[Path]:
    """One workspace (marked, or holding exercise folders: a submission need not carry the marker), or a
    folder of them."""
    if (root / MARKER).is_file() or any((root / name).is_dir() for name in exercise_folders):
        return [root]
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _isolation_said(isolation: Isolation) -> str:
    layers = ", ".join(isolation.layers) or "none of pid-namespace, view, user"
    gaps = "".join(f"\n  not closed here: {gap}" for gap in isolation.missing())
    return f"Isolation: private copies, signed results, every process ended; with {layers}.{gaps}"


def _interrupted(signum, frame) -> None:
    raise KeyboardInterrupt


def _render(
    fmt: str, results, exercises, args: argparse.Namespace, max_score: float, single: bool
) -> list[tuple[str, str]]:
    """(file name under --out, text) for one format; several files when the format is per learner, except for
    a `single` workspace graded alone (Gradescope's /autograder/results/results.json)."""
    if fmt == "text":
        return [("grades.txt", exports.text_table(results, [e.id for e in exercises]))]
    if fmt == "json":
        return [("grades.json", json.dumps(exports.grade_json(results), indent=2) + "\n")]
    if fmt == "csv":
        return [("grades.csv", exports.roll_up_csv(results, args.assignment, max_score))]
    if fmt == "exercism":  # Exercism's runner reports one exercise: exercism/[learner/]exercise-id/results.json
        tasks = {e.id: {c.id: c.task for c in e.checks} for e in exercises}
        return [
            (
                f"exercism/{'' if single else Path(r.workspace).name + '/'}{e.exercise_id}/results.json",
                json.dumps(exports.exercism(e, tasks.get(e.exercise_id)), indent=2) + "\n",
            )
            for r in results
            for e in r.exercises
        ]
    per_learner = {
        "junit": ("junit.xml", exports.junit_xml),
        "gradescope": (
            "results.json",
            lambda r: json.dumps(exports.gradescope(r, args.hidden_checks), indent=2) + "\n",
        ),
        "github": ("github-output.txt", exports.classroom_output),
    }
    name, render = per_learner[fmt]
    if single:
        return [(name, render(results[0]))]
    return [(f"{fmt}/{Path(r.workspace).name}/{name}", render(r)) for r in results]
