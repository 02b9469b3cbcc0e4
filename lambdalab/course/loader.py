"""Lesson folders -> Lesson objects, through the shipped JSON Schema.

A lesson that fails the schema raises InputErrors naming file:line:column and
key; the course-wide rules (links, sizes, myths, scenarios) live in rules.py.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lambdalab import content
from lambdalab.course.model import (
    DemoStep,
    ExerciseStep,
    Lesson,
    Option,
    Question,
    QuizStep,
    Source,
    Step,
    TextStep,
    Variation,
    WrongAnswer,
)
from lambdalab.inputs import InputError, InputErrors, load_yaml
from lambdalab.inputs.errors import did_you_mean
from lambdalab.inputs.schema_check import check

LESSON_FILE = "lesson.yaml"
FOLDER_NAME = re.compile(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)$")
READ_LIMIT_BYTES = 64 * 1024  # far above the 6,000-byte page rule: a guard against reading a data file as a page
DEFAULT_PASS_PERCENT = 70


def lessons_dir() -> Path:
    return content.content_root() / "lessons"


def lesson_folders(root: Path | None = None) -> list[Path]:
    """Every folder holding a lesson.yaml, in course order (by folder name)."""
    root = root or lessons_dir()
    return sorted(p for p in root.iterdir() if (p / LESSON_FILE).is_file()) if root.is_dir() else []


@dataclass
class Course:
    lessons: list[Lesson]
    errors: list[InputError]  # lessons that could not be loaded, and why

    def get(self, key: str) -> Lesson:
        """Like find, but a LookupError that lists the lessons when there is no such one."""
        lesson = self.find(key)
        if lesson is None:
            ids = [lesson.id for lesson in self.lessons]
            raise LookupError(f"no lesson {key!r}{did_you_mean(key, ids)}; lessons: {', '.join(ids) or 'none'}")
        return lesson

    def find(self, key: str) -> Lesson | None:
        """A lesson by id, folder name or number ("concurrency-and-throttling", "03-...", "3")."""
        for lesson in self.lessons:
            if key in (lesson.id, lesson.folder.name) or (key.isdigit() and int(key) == lesson.number):
                return lesson
        return None


def load_course(root: Path | None = None) -> Course:
    root = root or lessons_dir()
    lessons, errors = [], []
    for folder in (
        sorted(p for p in root.iterdir() if p.is_dir() and not (p / LESSON_FILE).is_file()) if root.is_dir() else ()
    ):
        if FOLDER_NAME.match(folder.name):
            errors.append(InputError(str(folder / LESSON_FILE), 0, 0, "", "this lesson folder has no lesson.yaml"))
    for folder in lesson_folders(root):
        try:
            lessons.append(load_lesson(folder))
        except InputErrors as exc:
            errors += exc.errors
    return Course(lessons, errors)


def load_lesson(folder: Path) -> Lesson:
    """One lesson folder; InputErrors when lesson.yaml is unreadable or breaks the schema."""
    path = folder / LESSON_FILE
    doc = load_yaml(path)
    if not isinstance(doc.data, dict):
        raise InputErrors([doc.error((), "a lesson is a mapping of keys (id, title, steps, ...)")])
    errors = check(doc, "lesson")
    if errors:
        raise InputErrors(errors)
    data = doc.data
    match = FOLDER_NAME.match(folder.name)
    return Lesson(
        id=data["id"],
        number=int(match.group(1)) if match else 0,
        title=data["title"],
        topic=data["topic"],
        summary=data["summary"].strip(),
        objectives=tuple(data["objectives"]),
        prerequisites=tuple(data.get("prerequisites") or ()),
        minutes=data["minutes"],
        sources=tuple(Source(s["title"], s["url"]) for s in data["sources"]),
        steps=tuple(_step(folder, item, ("steps", i)) for i, item in enumerate(data["steps"])),
        folder=folder,
        doc=doc,
    )


def _step(folder: Path, data: dict, path: tuple) -> Step:
    kind, step_id, title = data["kind"], data["id"], data["title"]
    if kind == "text":
        return TextStep(step_id, title, path, data["page"], _read_page(folder / data["page"]))
    if kind == "demo":
        scenario_file = folder / data["scenario_file"] if "scenario_file" in data else None
        variations = tuple(Variation(v["change"], v["predict"], v["answer"]) for v in data.get("try") or ())
        return DemoStep(
            step_id,
            title,
            path,
            data.get("scenario"),
            scenario_file,
            (data.get("intro") or "").strip(),
            tuple(data["watch"]),
            variations,
        )
    if kind == "quiz":
        questions = tuple(_question(q, (*path, "questions", i)) for i, q in enumerate(data["questions"]))
        return QuizStep(step_id, title, path, questions, data.get("pass_percent", DEFAULT_PASS_PERCENT))
    return ExerciseStep(step_id, title, path, data["exercise"])


def _read_page(path: Path) -> str:
    """The page's Markdown, or "" when it cannot be read (rules.py reports which, and where)."""
    try:
        if path.stat().st_size > READ_LIMIT_BYTES:
            return ""
        return path.read_text("utf-8")
    except (OSError, UnicodeDecodeError):
        return ""


def _question(data: dict[str, Any], path: tuple) -> Question:
    kind = data["type"]
    common = dict(
        id=data["id"],
        type=kind,
        prompt=data["prompt"].strip(),
        path=path,
        myth=bool(data.get("myth")),
        topic=data.get("topic", ""),
        see=data.get("see", ""),
    )
    if kind in ("single", "multiple"):
        options = tuple(Option(o["text"], bool(o.get("correct")), o["explanation"].strip()) for o in data["options"])
        return Question(**common, options=options)
    if kind == "true_false":
        return Question(
            **common, answer=data["answer"], explanations={k: v.strip() for k, v in data["explanations"].items()}
        )
    if kind == "ordering":
        return Question(**common, items=tuple(data["items"]), explanation=data["explanation"].strip())
    return Question(
        **common,
        answer=float(data["answer"]),
        explanation=data["explanation"].strip(),
        tolerance=float(data.get("tolerance", 0)),
        unit=data.get("unit", ""),
        wrong_answers=tuple(
            WrongAnswer(float(w["value"]), w["explanation"].strip()) for w in data.get("wrong_answers") or ()
        ),
    )
