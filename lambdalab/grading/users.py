"""Users for student code when lambdalab grades as root: one per submission being graded, never shared by
two submissions at once, even by two `lambdalab grade` runs on one machine (each claims its user with a
lock), because ending a submission's processes ends every process of its user."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from lambdalab.grading import processes

FIRST_UID = 1_900_000_000  # far above any real account
USERS = 100_000
LOCKS = Path("/var/tmp/lambdalab-users")


@contextmanager
def claimed_user() -> Iterator[int]:
    """A user id no other grading uses while this lasts; no process of it is left when it ends."""
    LOCKS.mkdir(mode=0o700, exist_ok=True)
    for uid in range(FIRST_UID, FIRST_UID + USERS):
        lock = os.open(LOCKS / str(uid), os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock)
            continue
        try:
            processes.end_user(uid)  # whatever a run killed outright left behind
            yield uid
        finally:
            processes.end_user(uid)
            os.close(lock)
        return
    raise RuntimeError(f"all {USERS:,} grading users are in use")


def end_unclaimed() -> None:
    """End the processes of every user that no run claims now: those a run killed outright (SIGKILL: no time
    to end its user's processes) left behind. `lambdalab serve` does this when it stops its sessions."""
    if not LOCKS.is_dir():
        return
    for entry in LOCKS.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            lock = os.open(entry, os.O_RDWR)
        except OSError:
            continue
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:  # claimed: its run ends its own processes
            os.close(lock)
            continue
        try:
            processes.end_user(int(entry.name))
        finally:
            os.close(lock)
