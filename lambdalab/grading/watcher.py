"""Watching a workspace for saves: a poll of file modification times, debounced. Polling works wherever
the workspace lives (network drives, containers, editors that write by renaming) and costs little for a
few dozen small files."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

POLL_S = 0.3
QUIET_S = 0.4  # a save is done when nothing changed for this long (editors write in several steps)


def snapshot(folder: Path) -> dict[str, tuple[int, int]]:
    found = {}
    for path in folder.rglob("*"):
        if "__pycache__" in path.parts or path.name.startswith(".") or not path.is_file():
            continue
        try:
            stat = path.stat()
        except OSError:  # removed between listing and reading
            continue
        found[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return found


def changed_files(before: dict[str, tuple[int, int]], after: dict[str, tuple[int, int]]) -> list[str]:
    return sorted(p for p in before.keys() | after.keys() if before.get(p) != after.get(p))


def watch(
    folder: Path,
    on_change: Callable[[list[str]], None],
    stop: Callable[[], bool] = lambda: False,
    sleep: Callable[[float], None] = time.sleep,
    since: dict[str, tuple[int, int]] | None = None,
) -> None:
    """Call `on_change` with the changed paths once a burst of saves has settled; until `stop()`. Changes are
    counted from `since` (a snapshot taken earlier, so that a save during a first check is not missed)."""
    seen = snapshot(folder) if since is None else since
    pending: list[str] = []
    settled_at = 0.0
    while not stop():
        sleep(POLL_S)
        now = snapshot(folder)
        changes = changed_files(seen, now)
        seen = now
        if changes:
            pending = sorted(set(pending) | set(changes))
            settled_at = time.monotonic() + QUIET_S
        elif pending and time.monotonic() >= settled_at:
            on_change(pending)
            pending = []
