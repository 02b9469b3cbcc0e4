"""Ending every process student code started, daemons included, before a grade is written.

A process that calls setsid() leaves its process group, so killing the group misses it. Three ways find
it anyway, used by whichever isolation the machine allows: a PID namespace (its processes end with it:
nothing to do here), a user of the submission's own (every process of that user), and, everywhere on
Linux, being a child subreaper (a daemon that double-forks is re-parented to the nearest subreaper above
it, never to init: the subreaper's descendants are all that is left to end)."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterable
from pathlib import Path

PROC = Path("/proc")
ROUNDS = 200  # a fork bomb forks while it is killed: kill again until nothing is left
PAUSE_S = 0.005
Table = dict[int, tuple[int, int, str]]  # pid -> (parent pid, real uid, state)


def _table() -> Table:
    """pid -> (parent pid, real uid, state) of every process now."""
    found: Table = {}
    for entry in PROC.iterdir() if PROC.is_dir() else ():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            uid = entry.stat().st_uid
        except (OSError, IndexError):
            continue
        found[int(entry.name)] = (int(fields[1]), uid, fields[0])
    return found


def descendants(of: int, table: Table | None = None) -> set[int]:
    table = _table() if table is None else table
    children: dict[int, list[int]] = {}
    for pid, (parent, _, _) in table.items():
        children.setdefault(parent, []).append(pid)
    found, todo = set(), [of]
    while todo:
        for child in children.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def end_descendants(keep: frozenset[int] = frozenset()) -> None:
    """Kill every descendant of this process except `keep` (and theirs), until none is left; reap those
    that became this process's children (it is a subreaper), so no zombie stays."""
    for _ in range(ROUNDS):
        table = _table()
        doomed = descendants(os.getpid(), table) - _with_descendants(keep, table)
        living = [pid for pid in doomed if table.get(pid, (0, 0, "Z"))[2] not in "ZX"]
        for pid in living:
            _kill(pid)
        _reap(pid for pid in doomed if table.get(pid, (0,))[0] == os.getpid())
        if not living:
            return
        time.sleep(PAUSE_S)


def end_user(uid: int, spare_groups: frozenset[int] = frozenset()) -> None:
    """Kill every process running as `uid` (a user made for one submission, or one `serve` session), but those
    in `spare_groups` (execution environments still in use), until none is left."""
    for _ in range(ROUNDS):
        table = _table_of(uid)
        living = [pid for pid, (_, _, state, group) in table.items() if state not in "ZX" and group not in spare_groups]
        for pid in living:
            _kill(pid)
        _reap(pid for pid, (parent, _, _, _) in table.items() if parent == os.getpid())
        if not living:
            return
        time.sleep(PAUSE_S)


def end_strays() -> None:
    """Where learners' code runs as a user of its own (a graded submission's, or a `lambdalab serve` session's),
    end whatever processes of that user are left but the workers of execution environments still in use (a
    daemon escapes its environment's process group, which ends with the environment). After each exercise's
    checks, and after a simulator's run of real code."""
    from lambdalab.runtime import confinement
    from lambdalab.runtime.environment import live_groups

    uid = confinement.current().uid
    if uid is not None and PROC.is_dir():
        end_user(uid, live_groups())


def _table_of(uid: int) -> dict[int, tuple[int, int, str, int]]:
    """pid -> (parent pid, uid, state, process group) of every process of `uid` now. Only their stat files are
    read (a machine runs a thousand processes: all of them cost a check ~70 ms)."""
    found: dict[int, tuple[int, int, str, int]] = {}
    try:
        entries = list(os.scandir(PROC))
    except OSError:
        return found
    for entry in entries:
        if not entry.name.isdigit():
            continue
        try:
            if entry.stat().st_uid != uid:
                continue
            fields = (PROC / entry.name / "stat").read_text().rsplit(")", 1)[1].split()
            found[int(entry.name)] = (int(fields[1]), uid, fields[0], int(fields[2]))
        except (OSError, IndexError, ValueError):
            continue
    return found


def _with_descendants(pids: frozenset[int], table: Table) -> set[int]:
    found = set(pids)
    for pid in pids:
        found |= descendants(pid, table)
    return found


def _kill(pid: int) -> None:
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(pids: Iterable[int]) -> None:
    for pid in pids:
        try:
            os.waitpid(pid, os.WNOHANG)
        except ChildProcessError:
            pass
