"""Grade a class: each submission in its own process, several at once, each with a time limit. A
submission that runs past it keeps the exercises it finished; the rest score zero, with the reason."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from lambdalab.grading.exercises import Exercise
from lambdalab.grading.grader import blank_result, not_run
from lambdalab.grading.results import ExerciseResult, WorkspaceResult


def grade_submissions(folders: list[Path], exercises: list[Exercise], jobs: int, limit_s: float,
                      done: Callable[[WorkspaceResult], None] | None = None) -> list[WorkspaceResult]:
    lock = threading.Lock()

    def one(folder: Path) -> WorkspaceResult:
        result = grade_submission(folder, exercises, limit_s)
        if done:
            with lock:
                done(result)
        return result

    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        return list(pool.map(one, folders))


def grade_submission(folder: Path, exercises: list[Exercise], limit_s: float) -> WorkspaceResult:
    command = [sys.executable, "-m", "lambdalab.grading.one", str(folder), *(e.id for e in exercises)]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
    timer = threading.Timer(limit_s, _kill_group, (process,))
    timer.start()
    try:
        out, err = process.communicate()
    finally:
        timer.cancel()
    finished: dict[str, ExerciseResult] = {}
    for line in out.splitlines():
        try:
            result = ExerciseResult.from_dict(json.loads(line))
        except (ValueError, TypeError, KeyError):
            continue
        finished[result.exercise_id] = result
    if process.returncode < 0:  # killed: by the time limit
        why = f"grading stopped after the {limit_s:g} s time limit for a submission"
    elif process.returncode != 0:
        why = f"the grader failed on this submission: {(err.strip().splitlines() or ['no message'])[-1]}"
    else:
        why = "not graded"
    results = [finished.get(e.id) or not_run(blank_result(e, folder / e.folder.name), e, why) for e in exercises]
    message = why if len(finished) < len(exercises) else ""
    return WorkspaceResult(str(folder), results, message)


def _kill_group(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
