"""`python -I -m lambdalab.grading.kits.autograder /autograder`: Gradescope's run_autograder, in Python.

Students upload in many shapes: their whole workspace, the folder holding it, a zip of one exercise folder,
or a lone app.py. This finds the workspace in what was uploaded, grades it with the kit's answer key, and
always writes results/results.json, with what it did (or what went wrong) in its `output`."""

from __future__ import annotations

import json
import shutil
import sys
import tempfile
import traceback
from pathlib import Path
from typing import Any

from lambdalab.engine.units import parse_duration
from lambdalab.grading import exports
from lambdalab.grading.answer_key import load_key
from lambdalab.grading.bulk import grade_submissions
from lambdalab.grading.exercises import Exercise, load_catalogue
from lambdalab.grading.journal import write_atomically

DEPTH = 3  # folders deep to look for the workspace in an upload
IGNORED = {"__MACOSX", ".git", ".venv", "__pycache__"}


def main(root: Path) -> int:
    results = root / "results" / "results.json"
    try:
        data = _graded(root)
    except Exception as exc:  # noqa: BLE001 - Gradescope must get a results.json, whatever went wrong
        data = {
            "score": 0,
            "tests": [],
            "output": "The autograder failed before it could grade this submission "
            f"(not your code's fault: please tell your instructor).\n\n{type(exc).__name__}: {exc}",
            "extra_data": {"traceback": traceback.format_exc()},
        }
    write_atomically(results, json.dumps(data, indent=2) + "\n")
    return 0


def _graded(root: Path) -> dict[str, Any]:
    source = root / "source"
    kit = json.loads((source / "kit.json").read_text("utf-8"))
    catalogue = load_catalogue()
    exercises = [catalogue.get(i) for i in kit["exercises"]] or catalogue.exercises
    key = load_key(source / "key")
    with tempfile.TemporaryDirectory(prefix="lambdalab-upload-") as scratch:
        workspace, said = find_workspace(root / "submission", exercises, Path(scratch))
        if workspace is None:
            return {"score": 0, "tests": [], "output": said}
        graded = grade_submissions(
            [workspace],
            exercises,
            1,
            parse_duration(kit["time_limit"]),
            key=key,
            hidden=(str(source), str(root / "results")),
        )[0]
    data = exports.gradescope(graded, kit["hidden_checks"])
    data["output"] = f"{said}\n\n{data['output']}"
    return data


def find_workspace(upload: Path, exercises: list[Exercise], scratch: Path) -> tuple[Path | None, str]:
    """The folder to grade in an upload, and a sentence saying what was graded (or why nothing was)."""
    folders = {e.folder.name for e in exercises}
    for depth in range(DEPTH + 1):
        for candidate in _folders_at(upload, depth):
            if any((candidate / name).is_dir() for name in folders):
                shown = candidate.relative_to(upload).as_posix()
                return candidate, f"Graded the exercise folders in {'your upload' if shown == '.' else shown + '/'}."
    files = (
        [
            p
            for p in upload.rglob("*")
            if (p.is_file() or p.is_symlink()) and not IGNORED & set(p.relative_to(upload).parts)
        ]
        if upload.is_dir()
        else []
    )
    if not files:
        return None, (
            "Your submission is empty. Upload your workspace folder (the one holding "
            f"{', '.join(sorted(folders)[:2])}, ...), or the files of an exercise."
        )
    workspace = scratch / "workspace"
    placed, unplaced = [], []
    for path in files:
        owners = [e for e in exercises if path.name in e.starter]
        if path.is_symlink():  # never followed: it could lead anywhere on this machine, the key included
            unplaced.append(f"{path.name} (a link: upload the file itself)")
        elif len(owners) == 1:
            (workspace / owners[0].folder.name).mkdir(parents=True, exist_ok=True)
            shutil.copyfile(path, workspace / owners[0].folder.name / path.name)
            placed.append(f"{path.name} as {owners[0].folder.name}/{path.name}")
        else:
            reason = (
                "belongs to no exercise here" if not owners else "could be any of " + ", ".join(e.id for e in owners)
            )
            unplaced.append(f"{path.name} ({reason})")
    if not placed:
        return None, (
            "None of the uploaded files could be placed in an exercise: "
            + "; ".join(unplaced)
            + ". Upload your workspace folder, with its exercise folders (01-proxy-response/, ...)."
        )
    note = "; ".join(unplaced)
    return workspace, f"Graded {', '.join(placed)}." + (f" Left out: {note}." if note else "")


def _folders_at(upload: Path, depth: int) -> list[Path]:
    level = [upload] if upload.is_dir() else []
    for _ in range(depth):
        level = [
            c
            for folder in level
            for c in sorted(folder.iterdir())
            if c.is_dir() and not c.is_symlink() and c.name not in IGNORED
        ]
    return level


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
