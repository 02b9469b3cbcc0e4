"""Class analytics for instructors: GRADES/grades.json (and learners' collected progress files) ->
one ClassReport, which class_report_html and class_report_text draw. Plain data, no Textual, no clock:
the same files (and installed course, for the quiz questions' prompts) always give the same report."""

from __future__ import annotations

import json
import math
import re
import statistics
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from lambdalab.course.loader import Course, load_course
from lambdalab.course.progress import FORMAT as PROGRESS_FORMAT

GRADES_FILE = "grades.json"
PROGRESS_FOLDER = "progress"  # GRADES/progress/<learner>.json
REPORT_FILE = "report.html"
STATUSES = ("passed", "failed", "error", "skip")
BUCKETS = tuple(f"{n}–{n + 9}%" for n in range(0, 100, 10)) + ("100%",)
NO_MESSAGE = "(no message)"
NOT_RECORDED = (
    "No progress file says which quiz questions were missed: they were written by a lambdalab that kept "
    "only scores. Quizzes taken from now on record them."
)
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")

QuestionKey = tuple[str, str, str]  # (lesson, quiz, question) ids


class BadInput(Exception):
    """grades.json or a progress file is not what `lambdalab grade` or `lambdalab check` writes: one line."""


@dataclass(frozen=True)
class CheckStats:
    exercise: str
    id: str
    name: str
    hidden: bool
    passed: int
    failed: int
    errors: int  # the check could not run (a missing file, a syntax error)
    not_run: int  # skipped: the grader never got to it
    reasons: tuple[tuple[str, int], ...]  # (a message's first line, how many), most common first

    @property
    def ran(self) -> int:
        return self.passed + self.failed + self.errors

    @property
    def missed(self) -> int:
        return self.failed + self.errors

    @property
    def rate(self) -> float | None:
        return self.passed / self.ran if self.ran else None


@dataclass(frozen=True)
class ExerciseStats:
    id: str
    graded: int  # learners with at least one check that ran
    passed: int
    not_graded: int
    mean_score: float | None
    max_score: float
    checks: tuple[CheckStats, ...]

    @property
    def rate(self) -> float | None:
        return self.passed / self.graded if self.graded else None


@dataclass(frozen=True)
class Flag:
    learner: str
    exercise: str
    kind: str  # reference-copy or classmate-copy
    file: str
    how: str  # identical or same program
    with_: str  # the other learner, or "the reference"


@dataclass(frozen=True)
class QuizStats:
    lesson: str
    quiz: str
    learners: int
    passed: int
    missed: int  # questions answered wrongly on each learner's best attempt, summed
    asked: int
    attempts: int

    @property
    def miss_rate(self) -> float:
        return self.missed / self.asked if self.asked else 0.0


@dataclass(frozen=True)
class QuestionStats:
    lesson: str
    quiz: str
    id: str
    prompt: str | None  # None when the installed course has no such question
    missed: int  # learners who missed it on their last attempt
    learners: int  # learners whose last attempt at the quiz records what they missed
    missed_ever: int  # times missed over every recorded attempt

    @property
    def shown(self) -> str:
        """What a table shows of the question: its prompt, or its id when the course no longer has it."""
        return self.prompt if self.prompt is not None else f"{self.id} (not in the course)"


@dataclass(frozen=True)
class HintStats:
    exercise: str
    learners: int  # who revealed at least one hint
    revealed: int
    whole_ladder: int | None  # who revealed every hint (None when the course does not know the exercise)
    ladder: int | None


@dataclass(frozen=True)
class ClassReport:
    title: str
    learners: int
    histogram: tuple[tuple[str, int], ...]  # (bucket label, learners), lowest first
    mean_percent: float | None
    median_percent: float | None
    exercises: tuple[ExerciseStats, ...]
    flags: tuple[Flag, ...]
    flags_checked: bool  # grades.json carries copy checks at all (an empty list means none was found)
    ungraded: tuple[tuple[str, str], ...]  # (learner, why)
    progress_files: int
    quizzes: tuple[QuizStats, ...]  # most missed first
    questions: tuple[QuestionStats, ...]  # most missed first
    missed_recorded: bool  # some progress file records which questions were missed (older ones do not)
    hints: tuple[HintStats, ...]  # most revealed first
    notes: tuple[str, ...]  # progress files skipped, and why

    @property
    def most_failed(self) -> tuple[CheckStats, ...]:
        checks = [c for e in self.exercises for c in e.checks if c.missed]
        return tuple(sorted(checks, key=lambda c: (-c.missed, -(c.missed / c.ran), c.exercise, c.name)))


# --- reading --------------------------------------------------------------------------------------------


def load(folder: Path, hint_ladders: Mapping[str, int]) -> ClassReport:
    """The report of a GRADES folder, with the installed course's quiz prompts; BadInput for a missing folder or a
    bad grades.json."""
    if not folder.is_dir():
        raise BadInput(f"{folder}: no such folder (give the --out folder of `lambdalab grade --format json`)")
    grades = read_grades(folder / GRADES_FILE)
    progress, notes = read_progress(folder / PROGRESS_FOLDER)
    return build(folder.resolve().name, grades, progress, hint_ladders, course_prompts(load_course()), notes)


def course_prompts(course: Course) -> dict[QuestionKey, str]:
    """Every quiz question's prompt on one line, in course order (the order ties are listed in)."""
    return {
        (lesson.id, quiz.id, question.id): " ".join(question.prompt.split())
        for lesson in course.lessons
        for quiz in lesson.quizzes
        for question in quiz.questions
    }


def read_grades(path: Path) -> list[dict[str, Any]]:
    data = _read_json(path, f"{GRADES_FILE} is written by `lambdalab grade ... --format json --out FOLDER`")
    _check(data, GRADES_SHAPE, f"{path}: $")
    if not data:
        raise BadInput(f"{path}: lists no learners")
    grades: list[dict[str, Any]] = data  # _check proved it a list of objects (GRADES_SHAPE)
    return grades


def read_progress(folder: Path) -> tuple[dict[str, dict[str, Any]], list[str]]:
    """{learner: progress data} from folder/<learner>.json; a damaged file is left out with a note."""
    progress, notes = {}, []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        try:
            progress[path.stem] = read_progress_file(path)
        except BadInput as exc:
            notes.append(f"skipped {exc}")
    if folder.is_dir() and not progress and not notes:
        notes.append(f"{folder} holds no progress files (each is named <learner>.json)")
    return progress, notes


def read_progress_file(path: Path) -> dict[str, Any]:
    """One learner's progress.json, checked for what reports read of it; BadInput, in one line, if it cannot be."""
    data = _read_json(path, "")
    stated = data.get("format") if isinstance(data, dict) else None
    newer = stated if isinstance(stated, int) else 0
    if newer > PROGRESS_FORMAT:
        raise BadInput(f"{path}: a newer lambdalab wrote it (format {newer})")
    _check(data, PROGRESS_SHAPE, f"{path}: $")
    return cast(dict[str, Any], data)  # the shape check made sure


def _read_json(path: Path, missing_hint: str) -> Any:
    try:
        text = path.read_text("utf-8")
    except FileNotFoundError:
        raise BadInput(f"{path}: no such file" + (f" ({missing_hint})" if missing_hint else "")) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path}: cannot be read ({type(exc).__name__})") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise BadInput(f"{path}: line {exc.lineno}, column {exc.colno}: not valid JSON ({exc.msg})") from None


# A shape is a type, a list [item shape], or a dict of key -> (shape, required); {"*": ...} for any key.
NUMBER, TEXT, BOOL, WHOLE = "number", "string", "true or false", "whole number"
TEST_SHAPE = {
    "name": (TEXT, True),
    "status": (STATUSES, True),
    "message": (TEXT, True),
    "hidden": (BOOL, False),
    "id": (TEXT, False),
}
COPY_SHAPE = {"kind": (TEXT, True), "file": (TEXT, True), "how": (TEXT, True), "with": (TEXT, True)}
EXERCISE_SHAPE = {
    "id": (TEXT, True),
    "status": (TEXT, True),
    "score": (NUMBER, True),
    "max_score": (NUMBER, True),
    "tests": ([TEST_SHAPE], True),
    "flags": ([COPY_SHAPE], False),
}
GRADES_SHAPE = [
    {
        "workspace": (TEXT, True),
        "score": (NUMBER, True),
        "max_score": (NUMBER, True),
        "message": (TEXT, False),
        "exercises": ([EXERCISE_SHAPE], True),
    }
]
QUIZ_SHAPE = {
    "best": (WHOLE, True),
    "total": (WHOLE, True),
    "passed": (BOOL, False),
    "attempts": (WHOLE, False),
    "missed": ([TEXT], False),
    "missed_ever": ({"*": (WHOLE, True)}, False),
}
PROGRESS_SHAPE = {
    "format": (WHOLE, True),
    "lessons": ({"*": ({"quizzes": ({"*": (QUIZ_SHAPE, True)}, False)}, True)}, True),
    "exercises": ({"*": ({"hints": (WHOLE, False)}, True)}, False),
}
_TYPES: dict[str, type | tuple[type, ...]] = {NUMBER: (int, float), TEXT: str, BOOL: bool, WHOLE: int}


def _check(value: Any, shape: Any, where: str) -> None:
    """Raise BadInput naming the first key whose value does not have the shape."""
    if isinstance(shape, list):
        _expect(isinstance(value, list), value, "a list", where)
        for n, item in enumerate(value):
            _check(item, shape[0], f"{where}[{n}]")
    elif isinstance(shape, dict):
        _expect(isinstance(value, dict), value, "an object", where)
        for key, (inner, required) in shape.items():
            if key == "*":
                for name, item in value.items():
                    _check(item, inner, f"{where}.{name}")
            elif key in value:
                _check(value[key], inner, f"{where}.{key}")
            elif required:
                raise BadInput(f'{where}: the "{key}" key is missing')
    elif isinstance(shape, tuple):
        _expect(value in shape, value, "one of " + ", ".join(map(json.dumps, shape)), where)
    else:
        ok = isinstance(value, _TYPES[shape]) and not (isinstance(value, bool) and shape != BOOL)
        _expect(ok and (shape != NUMBER or math.isfinite(value)), value, f"a {shape}", where)


def _expect(ok: bool, value: Any, wanted: str, where: str) -> None:
    if not ok:
        containers: dict[type, str] = {dict: "an object", list: "a list"}
        found = containers.get(type(value)) or json.dumps(value)[:40]
        raise BadInput(f"{where}: expected {wanted}, found {found}")


# --- figures ---------------------------------------------------------------------------------------------


def build(
    title: str,
    grades: list[dict[str, Any]],
    progress: Mapping[str, dict[str, Any]],
    hint_ladders: Mapping[str, int],
    prompts: Mapping[QuestionKey, str],
    notes: Sequence[str] = (),
) -> ClassReport:
    percents = [100 * w["score"] / w["max_score"] for w in grades if w["max_score"] > 0]
    return ClassReport(
        title=title,
        learners=len(grades),
        histogram=histogram(percents),
        mean_percent=statistics.fmean(percents) if percents else None,
        median_percent=statistics.median(percents) if percents else None,
        exercises=_exercises(grades),
        flags=tuple(
            sorted(
                (
                    Flag(learner_name(w["workspace"]), e["id"], f["kind"], f["file"], f["how"], f["with"])
                    for w in grades
                    for e in w["exercises"]
                    for f in e.get("flags", ())
                ),
                key=lambda f: (f.exercise, f.kind, f.learner, f.file, f.with_),
            )
        ),
        flags_checked=any("flags" in e for w in grades for e in w["exercises"]),
        ungraded=tuple(sorted((learner_name(w["workspace"]), w["message"]) for w in grades if w.get("message"))),
        progress_files=len(progress),
        quizzes=_quizzes(progress),
        questions=_questions(progress, prompts),
        missed_recorded=any("missed" in quiz for _, _, quiz in _quiz_records(progress)),
        hints=_hints(progress, hint_ladders),
        notes=tuple(notes),
    )


def learner_name(workspace: str) -> str:
    """A workspace's folder name: what instructors call a submission, and the name of its progress file."""
    return re.split(r"[/\\]", workspace.rstrip("/\\"))[-1] or workspace


def histogram(percents: list[float]) -> tuple[tuple[str, int], ...]:
    """Learners per tenth of the maximum; full marks have a bucket of their own."""
    counts = Counter(min(max(0, int(round(p, 6) // 10)), 10) for p in percents)
    return tuple((label, counts[n]) for n, label in enumerate(BUCKETS))


def percent(value: float | None, scale: float = 1) -> str:
    """A share (or, with scale 100, a percentage) as a whole percent; "-" when there is nothing to divide."""
    return "-" if value is None else f"{round(100 * value / scale)}%"


def printable(text: str) -> str:
    """Learner output may hold terminal escapes and other control characters: show them, never obey them."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text.replace("\t", " "))


def first_line(message: str) -> str:
    """What a failure message is grouped by: its first line says what went wrong, the rest why it matters."""
    return next((line.strip() for line in message.splitlines() if line.strip()), NO_MESSAGE)


def _exercises(grades: list[dict[str, Any]]) -> tuple[ExerciseStats, ...]:
    results: dict[str, list[dict[str, Any]]] = {}  # exercise id -> its results, in grades.json's (course) order
    for w in grades:
        for e in w["exercises"]:
            results.setdefault(e["id"], []).append(e)
    out = []
    for exercise_id, shown in results.items():
        graded = [e for e in shown if any(t["status"] != "skip" for t in e["tests"])]
        out.append(
            ExerciseStats(
                id=exercise_id,
                graded=len(graded),
                passed=sum(e["status"] == "passed" for e in graded),
                not_graded=len(shown) - len(graded),
                mean_score=statistics.fmean(e["score"] for e in graded) if graded else None,
                max_score=max(e["max_score"] for e in shown),
                checks=_checks(exercise_id, shown),
            )
        )
    return tuple(out)


def _checks(exercise_id: str, shown: list[dict[str, Any]]) -> tuple[CheckStats, ...]:
    tests: dict[str, list[dict[str, Any]]] = {}
    for e in shown:
        for t in e["tests"]:
            tests.setdefault(t.get("id") or t["name"], []).append(t)
    out = []
    for check_id, runs in tests.items():
        status = Counter(t["status"] for t in runs)
        reasons = Counter(first_line(t["message"]) for t in runs if t["status"] in ("failed", "error"))
        out.append(
            CheckStats(
                exercise=exercise_id,
                id=check_id,
                name=runs[0]["name"],
                hidden=runs[0].get("hidden", False),
                passed=status["passed"],
                failed=status["failed"],
                errors=status["error"],
                not_run=status["skip"],
                reasons=tuple(sorted(reasons.items(), key=lambda r: (-r[1], r[0]))),
            )
        )
    return tuple(out)


def _quiz_records(progress: Mapping[str, dict[str, Any]]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(lesson, quiz, what one learner's file records of it), learner by learner."""
    for learner in sorted(progress):
        for lesson_id, lesson in progress[learner]["lessons"].items():
            for quiz_id, quiz in lesson.get("quizzes", {}).items():
                yield lesson_id, quiz_id, quiz


def _quizzes(progress: Mapping[str, dict[str, Any]]) -> tuple[QuizStats, ...]:
    taken: dict[tuple[str, str], list[dict[str, Any]]] = {}
    for lesson_id, quiz_id, quiz in _quiz_records(progress):
        taken.setdefault((lesson_id, quiz_id), []).append(quiz)
    stats = [
        QuizStats(
            lesson,
            quiz,
            len(runs),
            sum(bool(q.get("passed")) for q in runs),
            sum(max(0, q["total"] - q["best"]) for q in runs),
            sum(q["total"] for q in runs),
            sum(q.get("attempts", 1) for q in runs),
        )
        for (lesson, quiz), runs in taken.items()
    ]
    return tuple(sorted(stats, key=lambda q: (-q.miss_rate, -q.missed, q.lesson, q.quiz)))


def _questions(progress: Mapping[str, dict[str, Any]], prompts: Mapping[QuestionKey, str]) -> tuple[QuestionStats, ...]:
    """Every question missed at least once: most learners missing it on their last attempt first, then most
    times missed in all, then course order (questions the course does not have last, by id)."""
    learners: Counter[tuple[str, str]] = Counter()
    last: Counter[QuestionKey] = Counter()
    ever: Counter[QuestionKey] = Counter()
    for lesson_id, quiz_id, quiz in _quiz_records(progress):
        if "missed" in quiz:
            learners[lesson_id, quiz_id] += 1
            last.update((lesson_id, quiz_id, question) for question in set(quiz["missed"]))
        ever.update({(lesson_id, quiz_id, question): n for question, n in quiz.get("missed_ever", {}).items()})
    order = {key: n for n, key in enumerate(prompts)}
    missed = sorted(+last | +ever, key=lambda k: (-last[k], -ever[k], order.get(k, len(order)), k))
    return tuple(QuestionStats(*key, prompts.get(key), last[key], learners[key[:2]], ever[key]) for key in missed)


def _hints(progress: Mapping[str, dict[str, Any]], ladders: Mapping[str, int]) -> tuple[HintStats, ...]:
    shown: dict[str, list[int]] = {}
    for data in progress.values():
        for exercise_id, exercise in data.get("exercises", {}).items():
            if exercise.get("hints", 0) > 0:
                shown.setdefault(exercise_id, []).append(exercise["hints"])
    stats = [
        HintStats(
            exercise_id,
            len(counts),
            sum(counts),
            sum(n >= ladders[exercise_id] for n in counts) if exercise_id in ladders else None,
            ladders.get(exercise_id),
        )
        for exercise_id, counts in shown.items()
    ]
    return tuple(sorted(stats, key=lambda h: (-h.revealed, -h.learners, h.exercise)))
