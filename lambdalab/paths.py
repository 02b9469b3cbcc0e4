"""Where lambdalab keeps a learner's data: the platform's user data folder, or LAMBDALAB_HOME.

Classrooms and tests point LAMBDALAB_HOME at a folder of their own; everyone
else gets platformdirs' answer (~/.local/share/lambdalab on Linux).
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

HOME_VARIABLE = "LAMBDALAB_HOME"
ENVIRONMENTS_VARIABLE = "LAMBDALAB_ENVIRONMENTS"  # set by the grader: each submission's environments in a folder of its own


def data_dir() -> Path:
    override = os.environ.get(HOME_VARIABLE)
    return Path(override).expanduser() if override else Path(platformdirs.user_data_dir("lambdalab", appauthor=False))


def environments_dir() -> Path:
    """Where execution environments keep their code copy and /tmp while they live: the user cache,
    not /tmp itself, so that an environment's folder can be mounted over /tmp for its code."""
    override = os.environ.get(ENVIRONMENTS_VARIABLE)
    return Path(override) if override else Path(platformdirs.user_cache_dir("lambdalab", appauthor=False)) / "environments"
