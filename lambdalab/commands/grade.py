"""`lambdalab grade`: an instructor's bulk grading of a folder of workspaces, in the formats graders read."""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from lambdalab.commands import UsageError, exercise_named
from lambdalab.engine.units import parse_duration
from lambdalab.grading import exports
from lambdalab.grading.bulk import grade_submissions
from lambdalab.grading.exercises import load_catalogue
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

SUBMISSIONS is one workspace (it holds lambdalab-workspace.json) or a folder of them, one per learner.
Checks come from the installed course, never from the workspaces. With --out, each format is written
there (results.json, junit.xml, grades.csv, ... per learner); without it, one format goes to stdout.
exit status: 0 when graded (whatever the scores), 2 for bad input"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("submissions", metavar="SUBMISSIONS", help="a workspace, or a folder of workspaces")
    parser.add_argument("--format", default="text", help=f"comma-separated: {', '.join(FORMATS)} (default text)")
    parser.add_argument("--out", metavar="DIR", help="write every format here instead of printing one")
    parser.add_argument("--exercise", action="append", default=[], metavar="ID", help="grade only these (repeatable)")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1, metavar="N", help="submissions at once (default: cores)")
    parser.add_argument("--time-limit", default="10m", metavar="DURATION", help="per submission (default 10m)")
    parser.add_argument("--assignment", default="lambdalab", help="the assignment name in the CSV")


def run(args: argparse.Namespace) -> int:
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
    root = Path(args.submissions)
    if not root.is_dir():
        raise UsageError(f"{root}: no such folder")
    single = (root / MARKER).is_file()
    folders = [root] if single else sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))
    if not folders:
        raise UsageError(f"{root}: no workspaces in it")
    exercises = [exercise_named(e) for e in args.exercise] or load_catalogue().exercises
    if args.out:
        print(f"Grading {len(folders)} submission(s) x {len(exercises)} exercise(s), {args.jobs} at once...", file=sys.stderr)
    results = grade_submissions(folders, exercises, args.jobs, limit,
                                done=(lambda r: print(f"  {Path(r.workspace).name}: {r.score:g}/{r.max_score:g}",
                                                      file=sys.stderr)) if args.out else None)
    max_score = sum(e.points for e in exercises)
    rendered = {fmt: _render(fmt, results, exercises, args.assignment, max_score) for fmt in formats}
    if not args.out:
        files = next(iter(rendered.values()))
        if len(files) > 1:
            raise UsageError(f"--format {formats[0]} writes a file per learner: give --out DIR")
        sys.stdout.write(files[0][1])
        return 0
    out = Path(args.out)
    for files in rendered.values():
        for name, text in files:
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, "utf-8")
            print(f"wrote {path}", file=sys.stderr)
    return 0


def _render(fmt: str, results, exercises, assignment: str, max_score: float) -> list[tuple[str, str]]:
    """(file name under --out, text) for one format; several files when the format is per learner."""
    if fmt == "text":
        return [("grades.txt", exports.text_table(results, [e.id for e in exercises]))]
    if fmt == "json":
        return [("grades.json", json.dumps(exports.grade_json(results), indent=2) + "\n")]
    if fmt == "csv":
        return [("grades.csv", exports.roll_up_csv(results, assignment, max_score))]
    per_learner = {
        "junit": ("junit.xml", exports.junit_xml),
        "gradescope": ("results.json", lambda r: json.dumps(exports.gradescope(r), indent=2) + "\n"),
        "github": ("github-output.txt", exports.classroom_output),
        "exercism": ("results.json", lambda r: json.dumps(exports.exercism(r), indent=2) + "\n"),
    }
    name, render = per_learner[fmt]
    if len(results) == 1 and (Path(results[0].workspace) / MARKER).is_file():
        return [(name, render(results[0]))]
    return [(f"{fmt}/{Path(r.workspace).name}/{name}", render(r)) for r in results]
