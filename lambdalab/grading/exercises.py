"""Exercise folders -> Exercise objects, through the shipped JSON Schema.

An exercise is data: exercises/NN-id/exercise.yaml, starter/ (what the learner gets) and solution/ (the
reference, which never reaches a workspace). A folder that fails the schema raises InputErrors naming
file:line:column and key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from lambdalab import content
from lambdalab.course.markdown import blocks
from lambdalab.inputs import InputError, InputErrors, load_yaml
from lambdalab.inputs.errors import did_you_mean
from lambdalab.inputs.schema_check import check

EXERCISE_FILE = "exercise.yaml"
FOLDER_NAME = re.compile(r"^(\d{2})-([a-z0-9]+(?:-[a-z0-9]+)*)$")
KINDS = ("handler", "edge", "scenario", "policy")
TASK = re.compile(r"\d+[.)]\s")  # a numbered step: `1. ...` at the start of a line, or a `## 1. ...` heading


@dataclass(frozen=True)
class Check:
    id: str
    name: str
    points: float
    hidden: bool
    why: str
    kind: str  # one of KINDS
    setup: dict[str, Any]
    expect: tuple[dict[str, Any], ...]
    order: int  # 1-based, as authored
    task: int | None = None  # the instructions' numbered step it tests (Exercism's task_id)
    guard: bool = False  # passes on the starter: scores only once one of the exercise's other checks passes
    vary: tuple[dict[str, Any], ...] = ()  # what an answer key draws afresh for a class (variation.py)

    def item(self) -> dict[str, Any]:
        """The check as it would be authored (the inverse of check_from)."""
        item: dict[str, Any] = {"id": self.id, "name": self.name, "points": self.points}
        item.update({k: v for k, v in (("hidden", self.hidden), ("task", self.task), ("guard", self.guard)) if v})
        item.update({"why": self.why, self.kind: self.setup, "expect": list(self.expect)})
        if self.vary:
            item["vary"] = list(self.vary)
        return item


@dataclass(frozen=True)
class Exercise:
    id: str
    title: str
    lesson: str
    difficulty: str
    minutes: int
    instructions: str
    starter: tuple[str, ...]
    hints: tuple[str, ...]
    run: tuple[str, dict[str, Any]]  # (kind, setup) for `lambdalab run`
    checks: tuple[Check, ...]
    folder: Path
    key_text: str = ""  # the answer key's hidden checks, when a key replaced the course's examples

    @property
    def points(self) -> float:
        return sum(c.points for c in self.checks)

    @property
    def tasks(self) -> int:
        """How many steps the instructions number, so a check's `task` names one of them: top-level `1.` items,
        or `## 1.` headings (Exercism's convention), never an indented item or one in a code block."""
        return sum(
            1
            for b in blocks(self.instructions)
            if TASK.match(b.text) and (b.kind == "list_item" or b.kind == "heading" and b.level == 2)
        )

    @property
    def number(self) -> int:
        match = FOLDER_NAME.match(self.folder.name)
        return int(match.group(1)) if match else 0

    def starter_path(self, name: str) -> Path:
        return self.folder / "starter" / name

    def solution_path(self, name: str) -> Path:
        """The reference version of a starter file (the starter itself where the solution leaves it alone)."""
        solved = self.folder / "solution" / name
        return solved if solved.is_file() else self.starter_path(name)

    @cached_property
    def content_sha256(self) -> str:
        """The course's side of the exercise (its YAML, starters and solutions, and an answer key's hidden checks),
        so a result names what graded it; read once per process, however many submissions it grades."""
        digest = hashlib.sha256()
        for path in sorted(p for p in self.folder.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(str(path.relative_to(self.folder)).encode() + b"\0" + path.read_bytes() + b"\0")
        if self.key_text:
            digest.update(b"key\0" + self.key_text.encode())
        return digest.hexdigest()


def exercises_dir() -> Path:
    return content.content_root() / "exercises"


def exercise_folders(root: Path | None = None) -> list[Path]:
    root = root or exercises_dir()
    return sorted(p for p in root.iterdir() if (p / EXERCISE_FILE).is_file()) if root.is_dir() else []


def load_exercise(folder: Path) -> Exercise:
    doc = load_yaml(folder / EXERCISE_FILE)
    if not isinstance(doc.data, dict):
        raise InputErrors([doc.error((), "an exercise is a mapping of keys (id, title, lesson, checks, ...)")])
    errors = check(doc, "exercise")
    if errors:
        raise InputErrors(errors)
    data = doc.data
    errors = []
    match = FOLDER_NAME.match(folder.name)
    if not match or match.group(2) != data["id"]:
        errors.append(doc.error(("id",), f"the folder must be named NN-{data['id']} (it is {folder.name})"))
    for index, name in enumerate(data["starter"]):
        if not (folder / "starter" / name).is_file():
            errors.append(doc.error(("starter", index), f"no file starter/{name} in {folder.name}"))
    checks = []
    seen: set[str] = set()
    for index, item in enumerate(data["checks"]):
        if item["id"] in seen:
            errors.append(doc.error(("checks", index, "id"), f"two checks have the id {item['id']!r}"))
        seen.add(item["id"])
        built = check_from(item, index + 1)
        named = built.setup.get("file") or built.setup.get("environment_from")
        if named and named not in data["starter"]:
            errors.append(
                doc.error(
                    ("checks", index, built.kind, "file"),
                    f"{named!r} is not one of the starter files ({', '.join(data['starter'])})",
                )
            )
        checks.append(built)
    if errors:
        raise InputErrors(errors)
    run = next(iter(data["run"].items())) if "run" in data else (checks[0].kind, checks[0].setup)
    return Exercise(
        data["id"],
        data["title"],
        data["lesson"],
        data["difficulty"],
        int(data.get("minutes", 15)),
        data["instructions"],
        tuple(data["starter"]),
        tuple(data["hints"]),
        run,
        tuple(checks),
        folder,
    )


def check_from(item: dict[str, Any], order: int) -> Check:
    """A check as authored (an item of `checks:`, already valid against the schema)."""
    kind = next(k for k in KINDS if k in item)
    return Check(
        item["id"],
        item["name"],
        float(item["points"]),
        bool(item.get("hidden", False)),
        item["why"].strip(),
        kind,
        item[kind],
        tuple(item["expect"]),
        order,
        item.get("task"),
        bool(item.get("guard", False)),
        tuple(item.get("vary", ())),
    )


@dataclass
class Catalogue:
    exercises: list[Exercise]
    errors: list[InputError]

    def get(self, key: str) -> Exercise:
        """An exercise by id, folder name or number; a LookupError listing them when there is none."""
        for exercise in self.exercises:
            if key in (exercise.id, exercise.folder.name) or (key.isdigit() and int(key) == exercise.number):
                return exercise
        ids = [e.id for e in self.exercises]
        raise LookupError(f"no exercise {key!r}{did_you_mean(key, ids)}; exercises: {', '.join(ids) or 'none'}")


def load_catalogue(root: Path | None = None) -> Catalogue:
    exercises, errors = [], []
    for folder in exercise_folders(root):
        try:
            exercises.append(load_exercise(folder))
        except InputErrors as exc:
            errors.extend(exc.errors)
    return Catalogue(exercises, errors)
