"""Grade one exercise folder: run every check (hidden ones too), each isolated from the others, and build
the result model with the checks in authored order. `lambdalab check` and `lambdalab grade` both come here.

The checks of an exercise run at once, in threads: most of a check's time is spent waiting on the
learner's code in its worker processes (sleeps, timeouts), so an exercise takes as long as its slowest
check rather than the sum of them."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import yaml

from lambdalab import __version__
from lambdalab.grading import assertions, processes
from lambdalab.grading.exercises import Check, Exercise
from lambdalab.grading.handler_check import CheckCannotRun, observe
from lambdalab.grading.policy_check import decide_requests
from lambdalab.grading.results import ERROR, FAIL, PASS, SKIP, CheckResult, ExerciseResult, capped
from lambdalab.grading.scenario_check import run_scenario
from lambdalab.grading.workspace import files_sha256

Progress = Callable[[Check, CheckResult], None]

CHECKS_AT_ONCE = 8
UNEARNED = (
    "This check passes on the untouched starter too: it counts once one of this exercise's own checks "
    "passes (no credit without solving)."
)


def exercise_seed(exercise: Exercise) -> int:
    """The same for every learner and every run, so the same submission always gets the same grade."""
    return int(hashlib.sha256(exercise.id.encode()).hexdigest()[:8], 16)


def grade_exercise(
    exercise: Exercise, folder: Path, progress: Progress | None = None, earned_only: bool = True
) -> ExerciseResult:
    """`earned_only` off shows what each check says alone (validate proves which checks the starter passes)."""
    started = time.monotonic()
    result = blank_result(exercise, folder)
    if not folder.is_dir():
        not_run(result, exercise, f"{folder.name}/ is missing from the workspace: `lambdalab start` creates it")
    else:
        result.checks = _run_checks(exercise.checks, folder, result.seed, progress)
        if earned_only:
            _withhold_unearned(exercise.checks, result.checks)
        processes.end_strays()
    result.duration_s = round(time.monotonic() - started, 3)
    return result


def _withhold_unearned(checks: tuple[Check, ...], outcomes: list[CheckResult]) -> None:
    """Guard checks pass on the untouched starter: a blank submission would score them. They count once
    one of the exercise's own checks passes."""
    if any(o.status == PASS for c, o in zip(checks, outcomes) if not c.guard):
        return
    for check, outcome in zip(checks, outcomes):
        if check.guard and outcome.status == PASS:
            outcome.status, outcome.score, outcome.message = FAIL, 0.0, UNEARNED


def _run_checks(checks: tuple[Check, ...], folder: Path, seed: int, progress: Progress | None) -> list[CheckResult]:
    """Every check at once; `progress` hears of each as it finishes, one at a time."""
    lock = threading.Lock()

    def one(check: Check) -> CheckResult:
        outcome = run_check(check, folder, seed)
        if progress:
            with lock:
                progress(check, outcome)
        return outcome

    with ThreadPoolExecutor(max_workers=max(1, min(len(checks), CHECKS_AT_ONCE))) as pool:
        return list(pool.map(one, checks))


def not_run(result: ExerciseResult, exercise: Exercise, why: str) -> ExerciseResult:
    """An exercise none of whose checks could run still counts for its full points (scoring zero)."""
    result.message = why
    result.checks = [
        CheckResult(
            id=c.id,
            name=c.name,
            order=c.order,
            status=SKIP,
            score=0.0,
            max_score=c.points,
            hidden=c.hidden,
            message=why,
            tags=(c.kind,),
        )
        for c in exercise.checks
    ]
    return result


def blank_result(exercise: Exercise, folder: Path) -> ExerciseResult:
    return ExerciseResult(
        exercise_id=exercise.id,
        title=exercise.title,
        lesson=exercise.lesson,
        tool_version=__version__,
        content_sha256=exercise.content_sha256,
        seed=exercise_seed(exercise),
        started_at=datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z"),
        duration_s=0.0,
        files_sha256=files_sha256(folder),
    )


def run_check(check: Check, folder: Path, seed: int) -> CheckResult:
    started = time.monotonic()
    outcome = CheckResult(
        id=check.id,
        name=check.name,
        order=check.order,
        status=PASS,
        score=check.points,
        max_score=check.points,
        hidden=check.hidden,
        tags=(check.kind,),
        test_code=yaml.safe_dump(list(check.expect), sort_keys=False, width=100).strip(),
    )
    try:
        failures, output = _failures(check, folder, seed)
    except CheckCannotRun as exc:
        outcome.status, outcome.score, outcome.message = ERROR, 0.0, str(exc)
    except Exception as exc:  # noqa: BLE001 - a bug or a broken setup stays this check's alone
        outcome.status, outcome.score = ERROR, 0.0
        outcome.message = f"lambdalab could not run this check ({type(exc).__name__}: {exc})"
    else:
        outcome.output = capped(output)
        if failures:
            outcome.status, outcome.score = FAIL, 0.0
            outcome.message = "\n".join(failures) + f"\nWhy it matters: {check.why}"
    outcome.duration_s = round(time.monotonic() - started, 3)
    return outcome


def _failures(check: Check, folder: Path, seed: int) -> tuple[list[str], str]:
    """What went wrong (nothing when the check passes) and what the learner's code printed."""
    if check.kind in ("handler", "edge"):
        seen, invocations = observe(check.setup, folder, seed, check.setup.get("trigger"))
        failures = list(dict.fromkeys(f for f in (assertions.evaluate(item, seen) for item in check.expect) if f))
        return failures, "".join(i.log for i in invocations)
    if check.kind == "scenario":
        failures, _, _ = run_scenario(check.setup, check.expect, folder, seed)
        return failures, ""
    return decide_requests(check.setup, check.expect, folder), ""
