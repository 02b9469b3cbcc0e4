"""One submission, graded in a process of its own: a private copy of the learner's files, a grading
process (`lambdalab.grading.one`) with a time limit, its results read from a signed channel, and every
process the submission started ended, and its scratch folder removed, before its grade is returned."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from lambdalab.grading import channel, copies, processes
from lambdalab.grading.exercises import Exercise
from lambdalab.grading.grader import blank_result, not_run
from lambdalab.grading.isolation import Isolation
from lambdalab.grading.results import ExerciseResult, WorkspaceResult
from lambdalab.grading.staging import stage
from lambdalab.grading.users import claimed_user
from lambdalab.runtime import linux

KEPT_VARIABLES = ("PATH", "LANG", "LC_ALL", "TZ", "HOME", "TMPDIR", "LAMBDALAB_HOME")
LOG_TAIL = 4096  # bytes of the grading process's own error output kept to explain a failure
READER_GRACE_S = 10.0


@dataclass
class Run:
    """What every submission of one `lambdalab grade` shares."""

    exercises: list[Exercise]
    limit_s: float
    isolation: Isolation
    work: Path  # this run's scratch folder
    key: Path | None = None
    hidden: tuple[str, ...] = ()  # folders student code must never see: the key, the submissions, the outputs
    stopping: threading.Event = field(default_factory=threading.Event)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _grading: set[int] = field(default_factory=set)  # grading processes alive now

    @contextmanager
    def starting(self) -> Iterator[set[int]]:
        """Start a grading process with no sweep in between: a sweep ends every descendant it is not told of."""
        with self._lock:
            yield self._grading

    def sweep(self, ended: int) -> None:
        """After a grading process ends: processes re-parented to `lambdalab grade` (a subreaper) came from
        a grading process that is gone, since a live one adopts its own orphans, and are ended."""
        with self._lock:
            self._grading.discard(ended)
            if linux.available():
                processes.end_descendants(keep=frozenset(self._grading))

    def stop(self) -> None:
        """Interrupted: end every grading process now (their submissions are not recorded as graded)."""
        self.stopping.set()
        with self._lock:
            for pid in self._grading:
                linux.kill_group(pid)


def grade_submission(folder: Path, run: Run) -> WorkspaceResult:
    scratch = Path(tempfile.mkdtemp(prefix="submission-", dir=run.work))
    try:
        if run.isolation.user:
            with claimed_user() as uid:
                return _grade(folder, run, uid, scratch)
        return _grade(folder, run, None, scratch)
    finally:
        _remove(scratch)


def _grade(folder: Path, run: Run, uid: int | None, scratch: Path) -> WorkspaceResult:
    staged = scratch / "submission"
    copied = stage(folder, [e.folder.name for e in run.exercises], staged)
    prints = {e.id: copies.fingerprints(staged / e.folder.name, e) for e in run.exercises}  # before any code runs
    to_grade = [e.id for e in run.exercises if e.folder.name not in copied.problems]
    confinement = run.isolation.confinement(uid, run.hidden)
    (scratch / "environments").mkdir()
    if confinement.uid is not None:  # the submission's user must reach its environments' folders
        os.chmod(scratch, 0o711)
        os.chmod(run.work, 0o711)
    finished, forged, why = _grading_process(
        run,
        scratch,
        {
            "workspace": str(staged),
            "exercises": to_grade,
            "environments": str(scratch / "environments"),
            "pid_namespace": run.isolation.pid_namespace,
            "key": str(run.key) if run.key else None,
            "confinement": {
                "view": confinement.view,
                "uid": confinement.uid,
                "gid": confinement.gid,
                "hidden": list(confinement.hidden),
            },
        },
    )
    results = []
    for exercise in run.exercises:
        name = exercise.folder.name
        result = finished.get(exercise.id) or not_run(
            blank_result(exercise, staged / name), exercise, copied.problems.get(name, why)
        )
        result.fingerprints = prints[exercise.id]
        results.append(result)
    alerts = (
        [
            f"{forged} line(s) on the results channel were not written by the grader (student code tried to "
            f"report results of its own): ignored"
        ]
        if forged
        else []
    )
    submitted = (
        datetime.fromtimestamp(copied.newest, timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
        if copied.newest
        else ""
    )
    return WorkspaceResult(
        str(folder),
        results,
        why if len(finished) < len(to_grade) else "",
        isolation=run.isolation.layers,
        alerts=alerts,
        submitted_at=submitted,
    )


def _grading_process(run: Run, scratch: Path, settings: dict[str, Any]) -> tuple[dict[str, ExerciseResult], int, str]:
    """Run `lambdalab.grading.one` on `settings` until it ends or its time is up; the results it signed, how
    many lines were forged, and why it did not finish, if it did not."""
    finished: dict[str, ExerciseResult] = {}
    forged = 0
    secret = os.urandom(32)
    read_end, write_end = os.pipe()
    settings = {**settings, "secret": secret.hex(), "channel": write_end}  # the descriptor keeps its number

    def read() -> None:
        nonlocal forged
        with os.fdopen(read_end, "r", encoding="utf-8", errors="replace") as lines:
            for line in lines:
                body = channel.verify(secret, line)
                if body is None:
                    forged += 1
                else:
                    result = ExerciseResult.from_dict(json.loads(body))
                    finished[result.exercise_id] = result

    started = time.monotonic()
    limit_reached = threading.Event()
    with open(scratch / "grader.log", "w+b") as log:
        with run.starting() as grading:
            process = subprocess.Popen(
                [sys.executable, "-I", "-m", "lambdalab.grading.one"],
                stdin=subprocess.PIPE,
                stdout=log,
                stderr=log,
                pass_fds=(write_end,),
                start_new_session=True,
                cwd=scratch,
                env=_environment(),
            )
            grading.add(process.pid)
        os.close(write_end)
        assert process.stdin is not None  # stdin=PIPE above
        try:
            process.stdin.write(json.dumps(settings).encode())
            process.stdin.close()
        except BrokenPipeError:
            pass
        reader = threading.Thread(target=read, daemon=True)
        reader.start()

        def stop() -> None:
            limit_reached.set()
            linux.kill_group(process.pid)

        timer = threading.Timer(run.limit_s, stop)
        timer.start()
        try:
            process.wait()
        finally:
            timer.cancel()
        elapsed = time.monotonic() - started
        run.sweep(process.pid)
        reader.join(READER_GRACE_S)  # every writer is gone by now; the grace is for the unforeseen
        log.seek(max(0, log.seek(0, os.SEEK_END) - LOG_TAIL))
        tail = log.read().decode("utf-8", "replace").strip().splitlines()
    return dict(finished), forged, _why_unfinished(process.returncode, limit_reached.is_set(), run, elapsed, tail)


def _environment() -> dict[str, str]:
    """What the grading process inherits: never the instructor's whole environment (LAMBDALAB_KEY may hold a
    packed key, and a process's first environment stays readable in /proc/PID/environ)."""
    return {name: os.environ[name] for name in KEPT_VARIABLES if name in os.environ}


def _why_unfinished(returncode: int, limit_reached: bool, run: Run, elapsed: float, tail: list[str]) -> str:
    if limit_reached:
        return f"grading stopped after the {run.limit_s:g} s time limit for a submission"
    if run.stopping.is_set():
        return "grading was interrupted before this submission was done"
    if returncode < 0:
        name = signal.Signals(-returncode).name
        return (
            f"the grading process was killed by {name} after {elapsed:.1f} s, before its time limit "
            f"(out of memory, or stopped from outside lambdalab)"
        )
    if returncode != 0:
        return f"the grader failed on this submission: {(tail or ['no message'])[-1]}"
    return "not graded"


def _remove(path: Path) -> None:
    """rmtree, after opening every folder up again: student code may have made one unreadable or unwritable."""

    def open_up(folder: str) -> None:
        try:
            os.chmod(folder, stat.S_IRWXU)
            entries = list(os.scandir(folder))
        except OSError:
            return
        for entry in entries:
            if entry.is_dir(follow_symlinks=False):
                open_up(entry.path)

    if os.path.lexists(path):
        open_up(str(path))
        shutil.rmtree(path, ignore_errors=True)
