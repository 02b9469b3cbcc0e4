"""`python -I -m lambdalab.grading.one`: grade one submission in a process of its own, started by
`lambdalab grade` (lambdalab.grading.submission), which sends the settings as JSON on stdin: never in argv
or the environment, which other processes of the same user can read.

Each exercise's result goes back as soon as it is done, signed, on a channel of its own (not stdout), so
a submission stopped by its time limit keeps what it finished and student code cannot forge a result.
Where Linux allows, this process first moves into a PID namespace of its own, so that every process the
submission starts ends with it; it is a subreaper and not dumpable either way (see processes.py)."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path

from lambdalab.grading import channel, processes
from lambdalab.grading.answer_key import exercises_for
from lambdalab.grading.exercises import Exercise
from lambdalab.grading.grader import blank_result, grade_exercise, not_run
from lambdalab.grading.results import ExerciseResult
from lambdalab.paths import ENVIRONMENTS_VARIABLE
from lambdalab.runtime import linux
from lambdalab.runtime.confinement import Confinement, set_confinement


def main() -> int:
    settings = json.loads(sys.stdin.read())
    sys.stdin.close()
    secret = bytes.fromhex(settings["secret"])
    results = os.fdopen(settings["channel"], "w", encoding="utf-8")
    if linux.available():
        linux.become_subreaper()
    if settings["pid_namespace"]:
        linux.die_with_parent()  # the thread of `lambdalab grade` that started this one waits for it to end
        enter_pid_namespace()
    else:
        _end_with_parent()
    if linux.available():  # only now: a process that is not dumpable cannot write its own user namespace's maps
        linux.set_dumpable(False)
    os.environ[ENVIRONMENTS_VARIABLE] = settings["environments"]
    shut_in = settings["confinement"]
    set_confinement(
        Confinement(
            view=shut_in["view"], uid=shut_in["uid"], gid=shut_in["gid"], hidden=tuple(shut_in["hidden"]), graded=True
        )
    )
    workspace = Path(settings["workspace"])
    for exercise in exercises_for(settings["exercises"], settings["key"]):
        result = _graded(exercise, workspace)
        results.write(channel.sign(secret, json.dumps(result.to_dict())))
        results.flush()
    if linux.available():
        processes.end_descendants()
    return 0


def _graded(exercise: Exercise, workspace: Path) -> ExerciseResult:
    """One exercise's result; an exercise that breaks the grader scores zero alone, with the cause."""
    try:
        return grade_exercise(exercise, workspace / exercise.folder.name)
    except Exception as exc:  # noqa: BLE001 - whatever it was, the other exercises still get graded
        return not_run(
            blank_result(exercise, workspace / exercise.folder.name),
            exercise,
            f"lambdalab could not grade this exercise ({type(exc).__name__}: {exc}); the other exercises were graded",
        )


def enter_pid_namespace() -> None:
    """Become PID 1 of a new PID namespace (with a /proc that shows only it): when it ends, the kernel ends
    every process in it. The process outside only waits and passes the exit status on."""
    linux.enter_namespaces(linux.CLONE_NEWPID | linux.CLONE_NEWNS)
    child = os.fork()
    if child:  # (it cannot start threads any more: they would not share its children's PID namespace)
        linux.set_dumpable(False)
        _, status = os.waitpid(child, 0)
        os._exit(os.waitstatus_to_exitcode(status) if os.WIFEXITED(status) else 128 + os.WTERMSIG(status))
    linux.die_with_parent()
    linux.make_private()
    linux.mount_proc()


def _end_with_parent() -> None:
    """If `lambdalab grade` dies (killed by an instructor, say), this submission's grading ends too, with
    every process it started."""
    parent = os.getppid()

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(0.5)
        if linux.available():
            processes.end_descendants()
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()


if __name__ == "__main__":
    sys.exit(main())
