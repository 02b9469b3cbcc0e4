"""The GitHub Classroom template: a starter repository (a learner's workspace: every exercise's starter
files) with lambdalab's wheel in .lambdalab/ and a workflow that grades each push with the answer key
taken from the LAMBDALAB_KEY secret and posts the points with Classroom's own reporter
(https://github.com/classroom-resources/autograding-grading-reporter). The key itself, packed into one
line for the secret, is written beside the template, never inside it."""

from __future__ import annotations

import os
from pathlib import Path

from lambdalab.grading.answer_key import AnswerKey, pack_key
from lambdalab.grading.exercises import Exercise
from lambdalab.grading.kits.wheel import build_wheel
from lambdalab.grading.workspace import start_workspace

RUNNER = "lambdalab"  # the reporter reads its results from LAMBDALAB_RESULTS

WORKFLOW = """\
# Grades each push with lambdalab and posts the points to GitHub Classroom. The answer key comes from the
# LAMBDALAB_KEY secret (an organization secret the instructor sets; `lambdalab classroom github` wrote its
# value beside this template). Grading runs as root so that student code runs as a user of its own.
name: Autograding Tests
on: [push, repository_dispatch, workflow_dispatch]
permissions:
  checks: write
  actions: read
  contents: read
jobs:
  run-autograding-tests:
    runs-on: ubuntu-latest
    if: github.actor != 'github-classroom[bot]'
    steps:
      - name: Checkout code
        uses: actions/checkout@v4
      - name: Set up Python
        uses: actions/setup-python@v5
        with:
          python-version: "3.11"
      - name: Install lambdalab
        run: python -m pip install --quiet .lambdalab/{wheel}
      - name: Grade with lambdalab
        id: {runner}
        env:
          LAMBDALAB_KEY: ${{{{ secrets.LAMBDALAB_KEY }}}}
        run: sudo --preserve-env=LAMBDALAB_KEY "$(command -v lambdalab)" grade .{only} --format github \
>> "$GITHUB_OUTPUT"
      - name: Autograding Reporter
        uses: classroom-resources/autograding-grading-reporter@v1
        env:
          {results}: "${{{{ steps.{runner}.outputs.result }}}}"
        with:
          runners: {runner}
"""


def build(key: AnswerKey, exercises: list[Exercise], target: Path, only: bool) -> Path:
    """Write the template repository into `target` (a new folder); the path of the packed key written beside it.
    `only`: the assignment is these exercises, not the whole course."""
    start_workspace(target, exercises)
    wheel = build_wheel(_made(target / ".lambdalab"))
    workflow = _made(target / ".github" / "workflows") / "classroom.yml"
    chosen = "".join(f" --exercise {e.id}" for e in exercises) if only else ""
    workflow.write_text(
        WORKFLOW.format(wheel=wheel.name, runner=RUNNER, results=f"{RUNNER.upper()}_RESULTS", only=chosen), "utf-8"
    )
    (target / ".gitignore").write_text("__pycache__/\n", "utf-8")
    secret = target.parent / f"{target.name}.LAMBDALAB_KEY.txt"
    secret.write_text(pack_key(key.folder) + "\n", "utf-8")
    os.chmod(secret, 0o600)
    return secret


def _made(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    return folder
