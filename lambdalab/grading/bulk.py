"""Grade a class: each submission in a grading process of its own (submission.py), several at once, with
the isolation this machine allows (isolation.py), each graded submission kept as it finishes (journal.py)
so an interrupted run resumes where it stopped."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lambdalab.grading import copies
from lambdalab.grading.answer_key import AnswerKey
from lambdalab.grading.exercises import Exercise
from lambdalab.grading.isolation import LAYERS, Isolation, probe
from lambdalab.grading.journal import Journal
from lambdalab.grading.results import WorkspaceResult
from lambdalab.grading.submission import Run, grade_submission
from lambdalab.paths import environments_dir, process_folder
from lambdalab.runtime import linux

SCRATCH_LABEL = "lambdalab-grade"


def grade_submissions(
    folders: list[Path],
    exercises: list[Exercise],
    jobs: int,
    limit_s: float,
    *,
    key: AnswerKey | None = None,
    hidden: tuple[str, ...] = (),
    layers: tuple[str, ...] = LAYERS,
    journal: Journal | None = None,
    started: Callable[[Isolation], None] | None = None,
    done: Callable[[WorkspaceResult, bool], None] | None = None,
) -> list[WorkspaceResult]:
    """Every submission's result, in the order given. `started` hears which isolation the run has; `done`
    hears of each submission as it ends (and whether it was kept from an interrupted run). Interrupted
    (KeyboardInterrupt), it ends every grading process and lets the exception through: what was finished is
    in the journal."""
    if linux.available():
        linux.become_subreaper()  # a grading process killed at its time limit leaves its orphans to this one
        linux.set_dumpable(False)
    work = _scratch()
    try:
        run = Run(exercises, limit_s, probe(layers, work), work, key.folder if key else None, hidden)
        if started:
            started(run.isolation)

        def one(folder: Path) -> WorkspaceResult:
            kept = journal.kept(folder) if journal else None
            if kept is not None:
                result = kept
            else:
                result = grade_submission(folder, run)
                if run.stopping.is_set():
                    return result
                if journal:
                    journal.keep(folder, result)
            if done:
                done(result, kept is not None)
            return result

        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            futures = [pool.submit(one, folder) for folder in folders]
            try:
                results = [future.result() for future in futures]
            except KeyboardInterrupt:
                run.stop()
                for future in futures:
                    future.cancel()
                raise
        copies.flag(results, {e.id: copies.reference_fingerprints(_solution(e, key)) for e in exercises})
        return results
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _solution(exercise: Exercise, key: AnswerKey | None) -> dict[str, Path]:
    """The reference's files: the answer key's, else the course's (a starter file the solution leaves alone is
    no answer to flag)."""
    folder = key.solution_folder(exercise) if key else exercise.folder / "solution"
    return {name: folder / name for name in exercise.starter}


def _scratch() -> Path:
    """This run's scratch folder. As root, under /var/tmp: a submission's own user must be able to reach its
    folders, and root's cache (/root/.cache) is closed to other users; otherwise beside the environments."""
    base = Path("/var/tmp") if os.geteuid() == 0 and os.path.isdir("/var/tmp") else environments_dir().parent
    return process_folder(base, SCRATCH_LABEL)
