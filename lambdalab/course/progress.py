"""The learner's progress: one JSON file, written so that nothing is ever half-written or lost.

Every change is read-modify-write under an exclusive lock (two processes
recording at once both land), written to a temporary file, fsynced and renamed
over the old one (a process killed mid-write leaves the previous file whole).
A file that cannot be read, or that a newer lambdalab wrote, is moved aside
with a one-line note, never overwritten and never a crash.

FORMAT goes up whenever an older lambdalab would lose something by rewriting a
newer file: that older lambdalab then keeps the file aside instead. Older files
load as they are and are saved in the current format. Format 2 added each
quiz's missed questions ("missed", "missed_ever").
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lambdalab.paths import data_dir

if TYPE_CHECKING:
    from lambdalab.course.model import Lesson

FORMAT = 2
FILE_NAME = "progress.json"

Data = dict[str, Any]  # {"format": 2, "last_lesson": id, "last_step": id, "lessons": {id: {"read": [...], "quizzes":
#                        {id: {"last", "best", "total", "passed", "attempts", "at", "missed": [ids],
#                        "missed_ever": {id: times}}}}}, "exercises": {id: {"best", "max", "passed", "attempts",
#                        "hints", "stuck_on", ...}}}
# last_step and stuck_on (the check the last attempt failed first) are what an instructor's view of the room shows;
# an older lambdalab keeps them as they are, so they need no new format.


@dataclass(frozen=True)
class LessonProgress:
    """What a learner has done in one lesson, for `lambdalab lessons` and the course map."""

    pages: int
    pages_read: int
    quiz_questions: int
    quiz_best: int | None  # None until a quiz is taken
    quiz_passed: bool

    @property
    def started(self) -> bool:
        return self.pages_read > 0 or self.quiz_best is not None

    @property
    def done(self) -> bool:
        return self.pages_read == self.pages and self.quiz_passed


def lesson_progress(data: Data, lesson: Lesson) -> LessonProgress:
    done = data["lessons"].get(lesson.id, {})
    quizzes = done.get("quizzes", {})
    return LessonProgress(
        pages=len(lesson.pages),
        pages_read=len(set(done.get("read", ())) & {p.id for p in lesson.pages}),
        quiz_questions=sum(len(q.questions) for q in lesson.quizzes),
        quiz_best=sum(q.get("best", 0) for q in quizzes.values()) if quizzes else None,
        quiz_passed=bool(quizzes)
        and len(quizzes) == len(lesson.quizzes)
        and all(q.get("passed") for q in quizzes.values()),
    )


class ProgressStore:
    def __init__(self, folder: Path | None = None):
        self.path = (folder or data_dir()) / FILE_NAME
        self.notes: list[str] = []  # one line per file moved aside, for the caller to show

    def load(self) -> Data:
        with self._locked():
            return self._read()

    def update(self, change: Callable[[Data], None]) -> Data:
        """Apply `change` to the freshest data and save it atomically; returns what was saved."""
        with self._locked():
            data = self._read()
            change(data)
            data["format"] = FORMAT  # an older file may now hold what only this format has
            self._write(data)
            return data

    # --- what the course records ----------------------------------------------------------------

    def mark_read(self, lesson_id: str, step_ids: list[str]) -> Data:
        def change(data: Data) -> None:
            lesson = _lesson(data, lesson_id)
            lesson["read"] = sorted(set(lesson["read"]) | set(step_ids))
            data["last_lesson"] = lesson_id
            if len(step_ids) == 1:  # one step opened (`lambdalab read` marks a whole lesson: no step to be on)
                data["last_step"] = step_ids[0]

        return self.update(change)

    def mark_on(self, lesson_id: str, step_id: str) -> Data:
        """A step opened that reading does not complete (a demo, a quiz, an exercise's step): where the learner
        is, which an instructor's view of the room shows, without marking it done."""

        def change(data: Data) -> None:
            data["last_lesson"], data["last_step"] = lesson_id, step_id

        return self.update(change)

    def record_quiz(
        self, lesson_id: str, quiz_id: str, score: int, total: int, passed: bool, missed: Sequence[str]
    ) -> Data:
        """One attempt; `missed` (the ids of the questions answered wrongly) shows instructors what to reteach."""

        def change(data: Data) -> None:
            quizzes = _lesson(data, lesson_id)["quizzes"]
            old = quizzes.get(quiz_id, {})
            quizzes[quiz_id] = {
                "last": score,
                "best": max(score, old.get("best", 0)),
                "total": total,
                "passed": passed or bool(old.get("passed")),
                "attempts": old.get("attempts", 0) + 1,
                "at": _now(),
                "missed": list(missed),
                "missed_ever": dict(_counts(old.get("missed_ever")) + Counter(missed)),
            }
            data["last_lesson"], data["last_step"] = lesson_id, quiz_id

        return self.update(change)

    def record_check(
        self, exercise_id: str, score: float, max_score: float, passed: bool, stuck_on: str | None = None
    ) -> Data:
        """One check of an exercise; `stuck_on` names the check this attempt failed first (None when it passed)."""

        def change(data: Data) -> None:
            exercise = _exercise(data, exercise_id)
            exercise.update(
                last=score,
                best=max(score, exercise.get("best", 0)),
                max=max_score,
                passed=passed or bool(exercise.get("passed")),
                attempts=exercise.get("attempts", 0) + 1,
                at=_now(),
                stuck_on=stuck_on,
            )

        return self.update(change)

    def record_hint(self, exercise_id: str, shown: int) -> Data:
        """How many hints of the ladder the learner has revealed (never fewer than before)."""

        def change(data: Data) -> None:
            exercise = _exercise(data, exercise_id)
            exercise["hints"] = max(shown, exercise.get("hints", 0))

        return self.update(change)

    # --- the file -------------------------------------------------------------------------------

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with open(self.path.with_name(FILE_NAME + ".lock"), "a+b") as lock:
            _lock(lock)
            try:
                yield
            finally:
                _unlock(lock)

    def _read(self) -> Data:
        try:
            text = self.path.read_text("utf-8")
        except FileNotFoundError:
            return _empty()
        except (OSError, UnicodeDecodeError) as exc:
            return self._set_aside("corrupt", f"it could not be read ({exc.__class__.__name__})")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return self._set_aside("corrupt", f"it is not valid JSON (line {exc.lineno})")
        if (
            not isinstance(data, dict)
            or not isinstance(data.get("format"), int)
            or not isinstance(data.get("lessons"), dict)
        ):
            return self._set_aside("corrupt", "it is not a lambdalab progress file")
        if data["format"] > FORMAT:
            return self._set_aside(f"format-{data['format']}", f"a newer lambdalab wrote it (format {data['format']})")
        return data

    def _set_aside(self, label: str, why: str) -> Data:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S")
        aside = self.path.with_name(f"{FILE_NAME}.{label}-{stamp}")
        n = 1
        while aside.exists():
            n += 1
            aside = self.path.with_name(f"{FILE_NAME}.{label}-{stamp}-{n}")
        os.replace(self.path, aside)
        self.notes.append(
            f"lambdalab: progress file {self.path} was kept aside as {aside.name} because {why}; starting a new one"
        )
        return _empty()

    def _write(self, data: Data) -> None:
        temporary = self.path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
        with open(temporary, "w", encoding="utf-8") as out:
            json.dump(data, out, indent=1, sort_keys=True)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, self.path)
        _fsync_folder(self.path.parent)


def _empty() -> Data:
    return {"format": FORMAT, "last_lesson": None, "lessons": {}}


def _lesson(data: Data, lesson_id: str) -> dict[str, Any]:
    lesson = data["lessons"].setdefault(lesson_id, {})
    lesson.setdefault("read", [])
    lesson.setdefault("quizzes", {})
    return lesson


def _exercise(data: Data, exercise_id: str) -> dict[str, Any]:
    return data.setdefault("exercises", {}).setdefault(exercise_id, {})


def exercise_progress(data: Data, exercise_id: str) -> dict[str, Any]:
    """What the learner has done in one exercise: best, max, passed, attempts, hints (all optional)."""
    return data.get("exercises", {}).get(exercise_id, {})


def _counts(value: Any) -> Counter:
    """A quiz's earlier misses; whatever in them is damaged (hand-edited, say) counts as none, so recording goes on."""
    if not isinstance(value, dict):
        return Counter()
    return Counter({k: v for k, v in value.items() if isinstance(k, str) and isinstance(v, int) and v > 0})


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def _fsync_folder(folder: Path) -> None:
    """Make the rename itself durable (POSIX); Windows cannot open a folder, and needs no such step."""
    if os.name != "posix":
        return
    handle = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(handle)
    finally:
        os.close(handle)


if sys.platform != "win32":
    import fcntl

    def _lock(handle) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)

    def _unlock(handle) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
else:  # Windows
    import msvcrt

    def _lock(handle) -> None:
        handle.seek(0)
        while True:
            try:
                msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                return
            except OSError:  # LK_LOCK gives up after ten seconds; keep waiting
                continue

    def _unlock(handle) -> None:
        handle.seek(0)
        msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)
