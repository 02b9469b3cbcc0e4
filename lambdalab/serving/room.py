"""The room `lambdalab serve` keeps: who may come in (the join token), under what name, how many at once, and
where each learner's progress and exercise files live. No aiohttp or Textual here: server.py asks, this answers.

- The join token is random (`secrets`, 72 bits) unless the instructor gives one; a request without it is
  refused. It is compared in constant time. The instructor's page has a token of its own (the same rules): a
  learner who has the room's URL cannot watch the room.
- A learner's name is their key to their own folder, `DATA/learners/NAME/`: progress.json there (the session's
  LAMBDALAB_HOME) and their exercise workspace, `lambdalab-exercises/`, in it (the session's current folder,
  where the app's exercise screen looks). The same name, later or after a restart of the server, finds the
  same folder: that is how a learner resumes. A name is not a password: anyone in the room who types
  another's name gets their folder (the token keeps the room closed; item 4 of issue 19 keeps code apart).
- Names are checked before anything else uses them: letters, digits, `-` and `_`, at most MAX_NAME long,
  and not a name Windows reserves for devices. They are folded to lower case, so that `Ada` and `ada` are one
  learner on every file system (macOS and Windows ignore case in file names). Nothing else of a request ever
  reaches a path: `folder()` builds the path from a checked name only.
"""

from __future__ import annotations

import functools
import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

MAX_NAME = 32
NAME = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_NAME}}}")
TOKEN = re.compile(r"[A-Za-z0-9_-]{8,128}")
# Device names Windows reserves in every folder (with or without an extension).
RESERVED = {"con", "prn", "aux", "nul", *(f"com{n}" for n in range(1, 10)), *(f"lpt{n}" for n in range(1, 10))}
WORKSPACE = "lambdalab-exercises"  # the name the app's exercise screen looks for in its current folder
DEFAULT_MAX_LEARNERS = 30


class BadName(ValueError):
    """A name the room refuses; its message says why and what to type instead, in one line."""


def learner_name(text: str) -> str:
    """The learner's name as the room keys it (lower case), or BadName saying why not."""
    if not text:
        raise BadName("Type a name to join (letters, digits, - and _).")
    if len(text) > MAX_NAME:
        raise BadName(f"That name is {len(text)} characters long: at most {MAX_NAME}, please.")
    if not NAME.fullmatch(text):
        shown = "".join(c if c.isprintable() else "?" for c in text)[:MAX_NAME]
        suggestion = re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:MAX_NAME]
        hint = f" such as {suggestion!r}" if text.isascii() and suggestion and NAME.fullmatch(suggestion) else ""
        raise BadName(f"{shown!r} has characters a name cannot have: use letters, digits, - and _{hint}.")
    if text.lower() in RESERVED:
        raise BadName(f"{text!r} is a name Windows keeps for a device: add a letter or two.")
    return text.lower()


def _same(given: str | None, token: str) -> bool:
    """Whether a request's token is this one, compared in constant time; an empty token admits nobody."""
    return bool(token) and given is not None and hmac.compare_digest(given.encode(), token.encode())


def new_token() -> str:
    return secrets.token_urlsafe(9)  # 12 characters, 72 random bits


def check_token(text: str) -> str:
    """A token the instructor chose (--token), or ValueError saying what one looks like."""
    if not TOKEN.fullmatch(text):
        raise ValueError("a join token is 8 to 128 letters, digits, - and _ (it goes in the room's URL)")
    return text


def joined(data: Path) -> list[str]:
    """Everyone who has joined the room kept in `data` so far (a serve --data folder)."""
    root = data / "learners"
    return sorted(p.name for p in root.iterdir() if p.is_dir() and NAME.fullmatch(p.name)) if root.is_dir() else []


@dataclass(frozen=True)
class Room:
    token: str
    data: Path  # the server's data folder (serve --data)
    max_learners: int = DEFAULT_MAX_LEARNERS
    instructor_token: str = ""  # the instructor's page's own token; "" lets nobody in

    def admits(self, token: str | None) -> bool:
        return _same(token, self.token)

    def admits_instructor(self, token: str | None) -> bool:
        return _same(token, self.instructor_token)

    def folder(self, name: str) -> Path:
        """The learner's own folder. Only a name learner_name() accepted may get here."""
        if not NAME.fullmatch(name) or name != name.lower():
            raise BadName(f"not a checked name: {name!r}")
        return self.data / "learners" / name

    def workspace(self, name: str) -> Path:
        return self.folder(name) / WORKSPACE

    def learners(self) -> list[str]:
        return joined(self.data)

    def prepare(self, name: str) -> Path:
        """The learner's folder, made if new (only this user may enter it), with their workspace made or
        completed (exercises added to the course since they last came get their starter files; nothing of
        theirs is overwritten). Returns the folder."""
        from lambdalab.grading.workspace import start_workspace

        folder = self.folder(name)
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        start_workspace(self.workspace(name), exercises())
        return folder


@functools.cache
def exercises() -> list:
    """The course's exercises, loaded once per server."""
    from lambdalab.grading.exercises import load_catalogue

    return load_catalogue().exercises


def warm_up() -> None:
    """Load the exercises once, before the first learner needs their workspace made."""
    exercises()
