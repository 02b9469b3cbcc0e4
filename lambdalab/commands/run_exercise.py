"""`lambdalab run`: run the learner's code or configuration for an exercise and show what happened,
without judging it."""

from __future__ import annotations

import argparse
import json

from lambdalab.commands import add_workspace_argument, exercise_named, workspace_from
from lambdalab.engine.report_text import render
from lambdalab.grading.assertions import error_line
from lambdalab.grading.grader import exercise_seed
from lambdalab.grading.handler_check import CheckCannotRun, observe
from lambdalab.grading.scenario_check import run_scenario
from lambdalab.iam import load_policy

NAME = "run"
HELP = "run your code or configuration for an exercise and show what happened (no grading)"
EXAMPLES = """\
  lambdalab run proxy-response     invokes your handler on the exercise's events: logs, response or error
  lambdalab run 7                  a scenario exercise prints the simulation's report"""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("exercise", metavar="EXERCISE", help="an exercise id, folder name or number")
    add_workspace_argument(parser)


def run(args: argparse.Namespace) -> int:
    exercise = exercise_named(args.exercise)
    folder = workspace_from(args) / exercise.folder.name
    kind, setup = exercise.run
    seed = exercise_seed(exercise)
    try:
        if kind in ("handler", "edge"):
            seen, invocations = observe(setup, folder, seed, setup.get("trigger"))
            for number, invocation in enumerate(invocations):
                print(f"--- invocation {number + 1}{' (cold start)' if invocation.init_ms is not None else ''}")
                if invocation.log.strip():
                    print(invocation.log.rstrip())
                if invocation.error:
                    print(f"error: {error_line(invocation.error)}")
                else:
                    print("response: " + json.dumps(invocation.response, indent=2))
                verdict = seen.verdicts[number]
                if verdict:
                    print(f"CloudFront ({setup['trigger']}): {verdict['summary']}")
                    for problem in verdict["problems"]:
                        print(f"  - {problem}")
            for table, writes in seen.tables.items():
                print(f"table {table}: {len(writes)} write(s): " + ", ".join(json.dumps(w) for w in writes[:10]))
        elif kind == "scenario":
            _, sim, report = run_scenario(setup, None, folder, seed)
            print(render(sim, report), end="")
        else:
            _show_policy(setup, folder)
    except CheckCannotRun as exc:
        print(f"Cannot run {exercise.id}: {exc}")
        return 1
    return 0


def _show_policy(setup: dict, folder) -> None:
    policy = load_policy(folder / setup["file"], setup["kind"])
    print(f"{setup['file']}: {len(policy.statements)} statement(s)")
    for statement in policy.statements:
        actions = ("NotAction " if statement.not_action else "") + ", ".join(statement.actions)
        resources = ", ".join(statement.resources or ()) or "-"
        print(f"  {statement.name}: {statement.effect} {actions} on {resources}")
    flag = "resource-policy" if setup["kind"] == "resource" else "policy"
    print(f"Try a request: lambdalab iam eval --action ACTION --resource ARN --{flag} {folder / setup['file']}")
