"""A submission's private copy: only its exercise folders, with symbolic links resolved inside the
workspace. The grader never runs anything in the learner's own folder, so code cannot change what the
learner handed in, and a link cannot bring in a file from elsewhere (the course's reference solution, a
classmate's work). A folder that cannot be copied is that exercise's problem alone, said in words."""

from __future__ import annotations

import os
import shutil
import stat
from dataclasses import dataclass, field
from pathlib import Path

from lambdalab.runtime.environment import CODE_SIZE_LIMIT, NOT_CODE

FILES_LIMIT = 5000  # files in one exercise folder
DEPTH_LIMIT = 64  # folders within folders


class CannotStage(Exception):
    """Why one exercise folder cannot be graded (a link out of the workspace, a loop, too much)."""


@dataclass
class Staged:
    problems: dict[str, str] = field(default_factory=dict)  # folder name -> why it cannot be graded
    newest: float | None = None  # the newest modification time of the files copied: when the learner handed in


def stage(workspace: Path, folder_names: list[str], target: Path) -> Staged:
    """Copy each exercise folder of `workspace` that exists into `target`; nothing is left in `target` of a
    folder that cannot be copied."""
    root = workspace.resolve()
    target.mkdir(parents=True, exist_ok=True)
    staged = Staged()
    for name in folder_names:
        source = workspace / name
        if not os.path.lexists(source):
            continue
        copier = _Copier(root, name)
        try:
            copier.copy(source, target / name, set())
        except (CannotStage, OSError) as exc:  # OSError: a name too long, a file unreadable, ...
            staged.problems[name] = (
                str(exc)
                if isinstance(exc, CannotStage)
                else f"{name}/ could not be copied: {exc.strerror or exc} ({exc.filename or name})"
            )
            shutil.rmtree(target / name, ignore_errors=True)
        else:
            staged.newest = max(filter(None, (staged.newest, copier.newest)), default=None)
    return staged


class _Copier:
    def __init__(self, root: Path, name: str):
        self.root, self.name = root, name
        self.files = self.size = 0
        self.newest: float | None = None

    def copy(self, source: Path, destination: Path, open_folders: set[str]) -> None:
        """`source` (a file or folder, perhaps a link) into `destination`; `open_folders` holds the real
        folders being copied above this one, so a link back to one of them is seen as the loop it is."""
        real = self._resolve(source)
        info = os.stat(real)
        if stat.S_ISDIR(info.st_mode):
            if real in open_folders:
                raise CannotStage(f"{self._shown(source)} links back to a folder that contains it (a loop)")
            if len(open_folders) >= DEPTH_LIMIT:
                raise CannotStage(f"{self.name}/ has folders more than {DEPTH_LIMIT} deep")
            destination.mkdir(exist_ok=True)
            for entry in sorted(os.listdir(real)):
                if entry not in NOT_CODE:
                    self.copy(source / entry, destination / entry, open_folders | {real})
        elif stat.S_ISREG(info.st_mode):
            self.files += 1
            self.size += info.st_size
            if self.files > FILES_LIMIT:
                raise CannotStage(f"{self.name}/ holds more than {FILES_LIMIT:,} files")
            if self.size > CODE_SIZE_LIMIT:
                raise CannotStage(
                    f"{self.name}/ holds more than {CODE_SIZE_LIMIT // 2**20} MB (Lambda's limit for "
                    f"code, unzipped: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)"
                )
            self.newest = max(self.newest or 0.0, info.st_mtime)
            shutil.copyfile(real, destination)
        # anything else (a pipe, a socket, a device) is not code: left out

    def _resolve(self, path: Path) -> str:
        try:
            real = os.path.realpath(path, strict=True)
        except OSError as exc:
            if exc.errno == 40:  # ELOOP
                raise CannotStage(f"{self._shown(path)} is a symbolic link loop") from None
            raise CannotStage(f"{self._shown(path)} is a link to {os.readlink(path)}, which does not exist") from None
        if real != str(self.root) and not real.startswith(str(self.root) + os.sep):
            raise CannotStage(
                f"{self._shown(path)} is a link to {real}, outside the workspace: hand in the file itself"
            )
        return real

    def _shown(self, path: Path) -> str:
        parts = path.parts
        return "/".join(parts[parts.index(self.name) :]) if self.name in parts else str(path)
