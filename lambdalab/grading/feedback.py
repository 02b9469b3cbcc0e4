"""What a learner reads after a check: each check passed or failed, why, and what to do next. Hidden
checks show only their name and pass or fail."""

from __future__ import annotations

from lambdalab.grading.results import ERROR, PASS, CheckResult, ExerciseResult

MARKS = {"pass": "✓", "fail": "✗", "error": "!", "skip": "-"}
HIDDEN_NOTE = "a hidden check: it runs at grading, and its details stay hidden"


def check_lines(check: CheckResult) -> list[str]:
    head = f"  {MARKS[check.status]} {check.name}{' (hidden)' if check.hidden else ''}"
    lines = [f"{head:<72} {check.score:g}/{check.max_score:g}"]
    if check.status == PASS:
        return lines
    if check.hidden:
        return lines + [f"      {HIDDEN_NOTE}"]
    lines += [f"      {line}" for line in check.message.splitlines()]
    if check.status == ERROR:
        lines.append("      (the check could not run: fix the above and check again)")
    if check.output.strip():
        lines.append("      your code printed:")
        lines += [f"        {line}" for line in check.output.strip().splitlines()[-12:]]
    return lines


def exercise_lines(result: ExerciseResult) -> list[str]:
    status = {"pass": "passed", "fail": "not yet", "error": "could not be checked"}[result.status]
    lines = [f"{result.exercise_id}: {result.title} ({status}, {result.score:g}/{result.max_score:g})"]
    if result.message:
        lines.append(f"  {result.message}")
    for check in result.checks:
        lines += check_lines(check)
    if result.status == PASS:
        lines.append(
            f"  All checks pass. Compare with the reference solution: lambdalab hint {result.exercise_id} --solution"
        )
    return lines


def first_failure_lines(result: ExerciseResult) -> list[str]:
    """Rustlings-style: only the first check that does not pass (for `watch`)."""
    failing = next((c for c in result.checks if c.status != PASS), None)
    head = f"{result.exercise_id}: {result.title} ({result.score:g}/{result.max_score:g})"
    if failing is None:
        return exercise_lines(result) if not result.message else [head, f"  {result.message}"]
    return [head, *check_lines(failing)]
