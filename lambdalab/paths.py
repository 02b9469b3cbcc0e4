"""Where lambdalab keeps a learner's data: the platform's user data folder, or LAMBDALAB_HOME.

Classrooms and tests point LAMBDALAB_HOME at a folder of their own; everyone
else gets platformdirs' answer (~/.local/share/lambdalab on Linux).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import platformdirs

HOME_VARIABLE = "LAMBDALAB_HOME"
ENVIRONMENTS_VARIABLE = (
    "LAMBDALAB_ENVIRONMENTS"  # set by the grader: each submission's environments in a folder of its own
)


def data_dir() -> Path:
    override = os.environ.get(HOME_VARIABLE)
    return Path(override).expanduser() if override else Path(platformdirs.user_data_dir("lambdalab", appauthor=False))


def environments_dir() -> Path:
    """Where execution environments keep their code copy and /tmp while they live: the user cache,
    not /tmp itself, so that an environment's folder can be mounted over /tmp for its code."""
    override = os.environ.get(ENVIRONMENTS_VARIABLE)
    return (
        Path(override) if override else Path(platformdirs.user_cache_dir("lambdalab", appauthor=False)) / "environments"
    )


def process_folder(parent: Path, label: str) -> Path:
    """A new folder `parent/label-PID-random`, named after this process: a process killed outright (SIGKILL)
    cannot remove its own, so the next one to make a folder with this label removes those of processes that
    are gone."""
    parent.mkdir(parents=True, exist_ok=True)
    for old in parent.glob(f"{label}-*-*"):
        owner = old.name.removeprefix(f"{label}-").split("-")[0]
        if owner.isdigit() and not _running(int(owner)):
            shutil.rmtree(old, ignore_errors=True)
    return Path(tempfile.mkdtemp(prefix=f"{label}-{os.getpid()}-", dir=parent))


def _running(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass
    return True
