"""Each graded submission, kept in the output folder as soon as it is graded, so that a run stopped
halfway (Ctrl+C, a killed terminal, a machine that went down) keeps what it finished, and `--resume`
grades only the rest. A kept result is used again only if it was graded the same way (lambdalab version,
exercises, answer key, time limit) and the learner's files have not changed since."""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from lambdalab.grading.results import WorkspaceResult
from lambdalab.grading.workspace import files_sha256

FOLDER = ".lambdalab-graded"


class Journal:
    def __init__(self, out: Path, how: dict[str, Any], exercise_folders: dict[str, str], resume: bool):
        self.folder = out / FOLDER
        self.exercise_folders = exercise_folders  # exercise id -> its folder's name in a workspace
        self.how = hashlib.sha256(json.dumps(how, sort_keys=True).encode()).hexdigest()
        if not resume and self.folder.is_dir():
            for old in self.folder.glob("*.json"):
                old.unlink()
        self.folder.mkdir(parents=True, exist_ok=True)

    def kept(self, workspace: Path) -> WorkspaceResult | None:
        path = self._path(workspace)
        try:
            entry = json.loads(path.read_text("utf-8"))
            result = WorkspaceResult.from_dict(entry["result"])
        except (OSError, ValueError, KeyError, TypeError):
            return None
        if entry.get("how") != self.how or entry.get("files") != self._files(workspace):
            return None
        return result

    def keep(self, workspace: Path, result: WorkspaceResult) -> None:
        write_atomically(
            self._path(workspace),
            json.dumps({"how": self.how, "files": self._files(workspace), "result": result.to_dict()}) + "\n",
        )

    def count(self) -> int:
        return sum(1 for _ in self.folder.glob("*.json"))

    def _path(self, workspace: Path) -> Path:
        return self.folder / f"{workspace.name}.json"

    def _files(self, workspace: Path) -> dict[str, dict[str, str]]:
        """The learner's files now, exercise by exercise, to tell whether a kept grade still stands."""
        return {i: files_sha256(workspace / name) for i, name in self.exercise_folders.items()}


def write_atomically(path: Path, text: str) -> None:
    """Whole or not at all: a reader never sees half a file, even if lambdalab is killed mid-write."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, path)
    except BaseException:
        os.unlink(temporary)
        raise
