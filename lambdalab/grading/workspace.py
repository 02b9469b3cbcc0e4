"""A learner's workspace: a folder per exercise with its starter files and instructions, marked by
lambdalab-workspace.json. Only the learner's files live here; checks and solutions stay in the course."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

from lambdalab import __version__
from lambdalab.grading.exercises import Exercise

MARKER = "lambdalab-workspace.json"
HASHED_LIMIT = 200  # files hashed per exercise folder


class NotAWorkspace(Exception):
    """No lambdalab-workspace.json here or above."""


def find_workspace(start: Path) -> Path:
    for folder in (start.resolve(), *start.resolve().parents):
        if (folder / MARKER).is_file():
            return folder
    raise NotAWorkspace(f"{start} is not inside a lambdalab workspace: create one with `lambdalab start DIR`")


def start_workspace(target: Path, exercises: list[Exercise]) -> tuple[list[Path], list[Path]]:
    """Create or complete a workspace; (files written, files kept because the learner already has them)."""
    target.mkdir(parents=True, exist_ok=True)
    written, kept = [], []
    marker = target / MARKER
    if not marker.is_file():
        marker.write_text(json.dumps({"format": 1, "lambdalab": __version__}, indent=2) + "\n", "utf-8")
        written.append(marker)
    pages = {target / "README.md": _workspace_readme(exercises)}
    for exercise in exercises:
        folder = target / exercise.folder.name
        folder.mkdir(exist_ok=True)
        pages[folder / "README.md"] = f"# {exercise.title}\n\n{exercise.instructions.strip()}\n"
        for name in exercise.starter:
            path = folder / name
            if path.exists():
                kept.append(path)
            else:
                shutil.copyfile(exercise.starter_path(name), path)
                written.append(path)
    for path, text in pages.items():
        if path.exists():
            kept.append(path)
        else:
            path.write_text(text, "utf-8")
            written.append(path)
    return written, kept


def write_file(path: Path, text: str) -> None:
    """Replace the file's text, all or nothing: written to a hidden temporary file in the same folder (the
    watcher skips dot files), flushed to disk, then renamed over the file, so an error (a full disk, a folder
    made read-only) leaves the old file whole and raises OSError for the caller to report. The file keeps
    its permissions; a new file gets 0644. Newlines are written as given."""
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as out:
            out.write(text)
            out.flush()
            os.fsync(out.fileno())
        try:
            mode = stat.S_IMODE(path.stat().st_mode)
        except FileNotFoundError:
            mode = 0o644
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp)
        raise


def files_sha256(folder: Path) -> dict[str, str]:
    """The learner's files in one exercise folder, so a result names exactly what was graded."""
    if not folder.is_dir():
        return {}
    found = sorted(p for p in folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts)[:HASHED_LIMIT]
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest() for p in found}


def _workspace_readme(exercises: list[Exercise]) -> str:
    rows = "\n".join(f"| `{e.folder.name}` | {e.title} | {e.difficulty} | {e.points:g} |" for e in exercises)
    return f"""# Your lambdalab exercises

Each folder is one exercise: its README says what to do; edit the files beside it.

    lambdalab check             check every exercise (or: lambdalab check ID)
    lambdalab run ID            run your code or configuration and see what happened, without grading
    lambdalab watch             re-check the exercise you are on each time you save
    lambdalab hint ID           the next hint (each reveal is recorded)

Some checks are hidden: you see their names and whether they pass, not what they test, so passing means
the idea is understood, not fitted to a test. The reference solution appears once an exercise passes.

| folder | exercise | level | points |
|---|---|---|---|
{rows}
"""
