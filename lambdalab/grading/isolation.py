"""What this machine lets the grader do to keep student code away from the grader and from other
students, found by trying each layer once at the start of a run (a kernel setting, a container's
seccomp profile or running as an ordinary user can each take one away).

Always, on every machine: a private copy of each submission, a grading process per submission started
with `python -I`, results on a signed channel, and every descendant process ended before a grade is
written. Where Linux allows, three layers more:
- pid-namespace: each submission's processes live in a PID namespace of their own and end with it;
- view: student code sees a filesystem view with the interpreter, the system and its own folders, read-only
  but for its own copy and /tmp (no answer key, no classmates, no course solutions, no grader files);
- user: when lambdalab runs as root, student code runs as an unprivileged user of its submission's own.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from lambdalab.grading.users import claimed_user
from lambdalab.paths import ENVIRONMENTS_VARIABLE
from lambdalab.runtime import linux
from lambdalab.runtime.confinement import Confinement

LAYERS = ("pid-namespace", "view", "user")
# It imports a module the worker has not: a user who cannot read the interpreter's standard library (a Python
# under /root, mode 0700, with no view to bind it) cannot run learners' code, and the probe must say so.
_PROBE_HANDLER = "import os\nimport fractions\ndef handler(event, context):\n    return os.getuid()\n"


@dataclass(frozen=True)
class Isolation:
    pid_namespace: bool = False
    view: bool = False
    user: bool = False

    @property
    def layers(self) -> list[str]:
        return [name for name, on in zip(LAYERS, (self.pid_namespace, self.view, self.user)) if on]

    def confinement(self, uid: int | None, hidden: tuple[str, ...]) -> Confinement:
        """`uid`: the submission's own user (users.claimed_user), when this isolation has that layer."""
        uid = uid if self.user else None
        return Confinement(view=self.view, uid=uid, gid=uid, hidden=hidden, graded=True)

    def missing(self) -> list[str]:
        """What student code could still do here, and how an instructor closes it."""
        gaps = []
        if not self.pid_namespace and not self.user:
            gaps.append(
                "a process that escapes its parents entirely (started through at, cron or a user service) "
                "could outlive grading: grade as root, or where user namespaces are allowed"
            )
        if not self.view:
            gaps.append(
                "student code can read (and, as the same user, write) files outside its submission, answer "
                "keys and classmates' work included: grade as root or where user namespaces are allowed, "
                "and keep keys readable by the grading user only"
            )
        if not self.user and os.geteuid() != 0:
            gaps.append(
                "student code runs as the grading user: grade as root (sudo, a container) for a user of its own"
            )
        if not self.user and os.geteuid() == 0:
            gaps.append(
                "student code runs as root, without capabilities but able to signal (and so stop or kill) "
                "every root process of this machine: leave the user layer on"
            )
        return gaps


def probe(allowed: tuple[str, ...] = LAYERS, work: Path | None = None) -> Isolation:
    """The layers in `allowed` that work here: a PID namespace entered in a throwaway process, then a real
    execution environment started with the view and with a user of its own."""
    if not linux.available():
        return Isolation()
    pid_namespace = "pid-namespace" in allowed and _pid_namespace_works()
    view = "view" in allowed and _environment_works(Confinement(view=True), work) is not None
    user = False
    if "user" in allowed and os.geteuid() == 0:
        with claimed_user() as uid:
            user = _environment_works(Isolation(view=view, user=True).confinement(uid, ()), work) == uid
    return Isolation(pid_namespace, view, user)


def _pid_namespace_works() -> bool:
    probe_code = (
        "from lambdalab.grading.one import enter_pid_namespace; enter_pid_namespace(); "
        "import os; os._exit(0 if os.getpid() == 1 else 3)"
    )
    try:
        return subprocess.run([sys.executable, "-I", "-c", probe_code], capture_output=True, timeout=30).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


def _environment_works(shut_in: Confinement, work: Path | None) -> object:
    """What a trivial handler returns in an environment shut in this way (None when it cannot run)."""
    from lambdalab.runtime import ConfinementFailed, ExecutionEnvironment, FunctionCode

    with tempfile.TemporaryDirectory(prefix="probe-", dir=work) as folder:
        code_dir = Path(folder) / "code"
        code_dir.mkdir()
        (code_dir / "app.py").write_text(_PROBE_HANDLER)
        before = os.environ.get(ENVIRONMENTS_VARIABLE)
        os.environ[ENVIRONMENTS_VARIABLE] = str(Path(folder) / "environments")  # where the grader's will be
        try:
            with ExecutionEnvironment(FunctionCode("probe", code_dir, "app.handler"), shut_in=shut_in) as environment:
                outcome = environment.invoke({}, "probe")
        except (ConfinementFailed, OSError):
            return None
        finally:
            if before is None:
                os.environ.pop(ENVIRONMENTS_VARIABLE)
            else:
                os.environ[ENVIRONMENTS_VARIABLE] = before
        return outcome.response if outcome.error is None else None
