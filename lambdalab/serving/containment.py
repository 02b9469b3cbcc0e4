"""Learners' code under `lambdalab serve`, shut in as `lambdalab grade` shuts in a submission's (issue 19, item 4).

The choice is the grader's own (lambdalab.grading.isolation): the server probes, once at its start, which
layers this machine allows, and says so; each learner's session (a process of its own: zygote.py) then sets
the process-wide confinement (lambdalab.runtime.confinement) before its app starts, so every check and run
the learner starts from the browser gets it, as every check `lambdalab grade` runs does:

- view: their code sees a filesystem view holding the interpreter, the system and its own private copy of
  the exercise's files, nothing else; the room's data folder (every learner's progress and workspace) and the
  instructor's home are covered besides, should the interpreter's folders lie inside them. The view binds what
  is on the session's import path: the folder `python -m` put there (where the server started) goes first.
- user: when the server runs as root, the session claims an unprivileged user of its own for its whole life
  (lambdalab.grading.users: never shared with another session or a grading run) and its code runs as that
  user, without capabilities and with no way to gain one. A learner's folder is the server's, mode 0700: code
  running as another learner's user cannot open it even without a view.
- nothing left running: after each exercise's checks and each simulator run, every process of the session's
  user that is not an execution environment still in use ends (a daemon included: processes.end_strays); at
  the session's end, every process of that user, and every descendant of the session (it is a subreaper),
  ends; a session killed outright leaves its user's processes to the zygote, which ends them as it stops.

The grader's third layer, a PID namespace per submission, is not used: the session is the app, which keeps
starting workers for as long as the learner stays, and a PID namespace ends with its first process. The
user layer finds what a PID namespace would have (every process of that user), where the server is root.

The server hands the choice to sessions in LAMBDALAB_ISOLATION (the same for every session, so the zygote's
environment matches theirs); a session without it (the app outside `serve`) is left as it was.
"""

from __future__ import annotations

import atexit
import os
import sys
from contextlib import ExitStack
from pathlib import Path

ISOLATION_VARIABLE = "LAMBDALAB_ISOLATION"
SESSION_LAYERS = ("view", "user")  # of lambdalab.grading.isolation.LAYERS: see above for pid-namespace


def choose() -> tuple[str, ...]:
    """The server's side: the layers this machine allows, probed as `lambdalab grade` probes them; set for
    every session the server starts from now on. Returns them."""
    from lambdalab.grading.isolation import probe

    layers = tuple(probe(SESSION_LAYERS).layers)
    os.environ[ISOLATION_VARIABLE] = ",".join(layers) or "none"
    return layers


def said(layers: tuple[str, ...]) -> str:
    """What the instructor reads at the server's start."""
    on = {
        "view": "a filesystem view with only their own copy of the exercise (no other learner, not your home)",
        "user": "an unprivileged user of each session's own",
    }
    parts = [on[layer] for layer in layers] or ["no isolation layer this machine allows"]
    gaps = []
    if "view" not in layers:
        readable = ", apart from other learners' folders (0700)" if "user" in layers else ""
        gaps.append(
            "no filesystem view (it needs root, or Linux with user namespaces allowed): learners' code can read "
            f"what the server's user can read{readable}"
        )
    if "user" not in layers:
        gaps.append(
            "learners' code runs as the server's user (run as root for a user per learner): it can signal the "
            "server's processes, and a daemon it leaves ends only with its session"
        )
    return "each learner's checks and runs: " + "; ".join(parts) + "".join(f"; not closed here: {g}" for g in gaps)


def contain(learner_folder: Path) -> None:
    """The session's side, before its app starts: the confinement the server chose, for the rest of this
    process's life. Nothing when the server chose none (or this is not a session of `serve`)."""
    layers = set(filter(None, os.environ.get(ISOLATION_VARIABLE, "").split(",")))
    if not layers & set(SESSION_LAYERS):
        return
    from lambdalab.grading import processes
    from lambdalab.grading.isolation import Isolation
    from lambdalab.grading.users import claimed_user
    from lambdalab.paths import ENVIRONMENTS_VARIABLE
    from lambdalab.runtime import linux
    from lambdalab.runtime.confinement import set_confinement

    isolation = Isolation(view="view" in layers, user="user" in layers and os.geteuid() == 0)
    stack = ExitStack()
    uid = stack.enter_context(claimed_user()) if isolation.user else None
    if uid is not None and not isolation.view:
        # The code's user must reach its environments' folders; root's cache (/root/.cache) is closed to it.
        from lambdalab.paths import process_folder

        folder = process_folder(Path("/var/tmp"), "lambdalab-session")
        os.chmod(folder, 0o711)
        os.environ[ENVIRONMENTS_VARIABLE] = str(folder)
        stack.callback(_remove, folder)
    _forget_start_folder()
    data = learner_folder.resolve().parent.parent  # DATA/learners/NAME: every learner's folder is under DATA
    hidden = tuple(str(p) for p in (data, Path.home()) if p.is_dir())
    set_confinement(isolation.confinement(uid, hidden))
    if linux.available():
        linux.become_subreaper()  # a daemon that double-forks comes back here, where the end of the session finds it
        stack.callback(processes.end_descendants)
    atexit.register(stack.close)  # the claimed user's processes end, and it is released, with the session


def _forget_start_folder() -> None:
    """`python -m` puts the folder it started in first on the import path: for a session, the server's current
    folder (the instructor's home, after `cd && lambdalab serve`) or the learner's own. The view shows the code
    every folder on that path, read-only: so that folder leaves the path, unless lambdalab is imported from it
    (a checkout, which the view leaves out anyway: it holds the course)."""
    import lambdalab

    if sys.flags.isolated or getattr(sys.flags, "safe_path", False) or not sys.path or not sys.path[0]:
        return
    if os.path.realpath(sys.path[0]) != str(Path(lambdalab.__file__).resolve().parent.parent):
        del sys.path[0]


def _remove(folder: Path) -> None:
    import shutil

    shutil.rmtree(folder, ignore_errors=True)
