"""How tightly an execution environment's process is shut in, decided once per process.

A learner running their own code (`invoke`, `check`, the app) gets the light confinement every
environment has: a copy of the code, a private /tmp, limits. The grader asks for more, because it runs
code it does not trust beside things the code must not reach (answer keys, classmates' work, the
grader's own files): a filesystem *view* holding only what the code needs, and, when lambdalab runs as
root, an unprivileged user of the submission's own.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdalab import content


@dataclass(frozen=True)
class Confinement:
    view: bool = False  # a mount namespace showing only the interpreter, the system and the code's folders
    uid: int | None = None  # run the code as this user (lambdalab must be root to switch)
    gid: int | None = None
    hidden: tuple[str, ...] = ()  # folders that stay out of reach even inside something the view shows
    graded: bool = False  # the grader's: whatever else is on, the code never keeps a capability or gains one


_current = Confinement()


def set_confinement(confinement: Confinement) -> None:
    """For the rest of this process's life (the grader sets it once, at its start)."""
    global _current
    _current = confinement


def current() -> Confinement:
    return _current


def view_plan(confinement: Confinement, task: Path, tmp: Path, writable: list[Path]) -> dict[str, Any]:
    """What the worker mounts: the interpreter and the system read-only, the code's folders writable, /tmp
    as the environment's own folder, lambdalab's course content and `hidden` covered."""
    readable = {"/usr", "/etc", "/dev", *_python_paths()}
    links = {}
    for top in ("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"):
        if os.path.islink(top):
            links[top] = os.readlink(top)
        elif os.path.isdir(top):
            readable.add(top)
    package = Path(__file__).resolve().parent.parent  # lambdalab itself: the code may import lambdalab.services
    readable.add(str(package))
    hidden = {str(package / "_content"), str(content.content_root() / "exercises"), *confinement.hidden}
    for entry in sys.path:  # a wheel leaves a copy of the course beside an editable install
        hidden.add(os.path.join(entry, "lambdalab", "_content"))
    binds = [(p, p, False) for p in sorted(_outermost(readable))]
    binds += [(str(tmp), "/tmp", True)] + [(str(p), str(p), True) for p in (task, *writable)]
    # Outer places first: lambdalab installed under /tmp (a CI checkout) is bound inside the environment's /tmp.
    binds.sort(key=lambda bind: (bind[1].count("/"), bind[1]))
    inside = [b[1] for b in binds]
    return {
        "binds": binds,
        "links": links,
        "hidden": sorted(h for h in hidden if os.path.isdir(h) and not any(p.startswith(h + "/") for p in inside)),
    }


def _python_paths() -> set[str]:
    """The interpreter and what it imports from: prefixes and the import path, minus any folder that holds
    the course itself (an editable install puts the repository on the path: only its package is needed)."""
    course = content.content_root().resolve()
    found = {
        sys.prefix,
        sys.base_prefix,
        sys.exec_prefix,
        sys.base_exec_prefix,
        os.path.dirname(os.path.realpath(sys.executable)),
    }
    found.update(p for p in sys.path if p and os.path.exists(p))
    return {os.path.realpath(p) for p in found if not course.is_relative_to(os.path.realpath(p))}


def _outermost(paths: set[str]) -> set[str]:
    """Drop paths inside another one of the set: its bind brings them."""
    ordered = sorted(paths)
    return {p for p in ordered if not any(p != q and p.startswith(q.rstrip("/") + "/") for q in ordered)}
