"""The course as plain data: lessons, their steps and quiz questions, as loaded from lessons/*/lesson.yaml.

Every object keeps the key path it came from (`path`), so that a rule checked
after loading can still point an author at `file:line:column`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from lambdalab.inputs import Document

KeyPath = tuple  # ("steps", 3, "questions", 0, "options", 1)


@dataclass(frozen=True)
class Source:
    title: str
    url: str


@dataclass(frozen=True)
class Option:
    text: str
    correct: bool
    explanation: str


@dataclass(frozen=True)
class WrongAnswer:
    value: float
    explanation: str


@dataclass(frozen=True)
class Question:
    """One quiz question. Which fields matter depends on `type` (see lessons/README.md)."""

    id: str
    type: str  # single, multiple, true_false, ordering, numeric
    prompt: str
    path: KeyPath
    myth: bool = False
    topic: str = ""  # one of course/topics.py's QUESTION_TOPICS, or "" when the quiz does not score by topic
    see: str = ""  # "lesson-id#step-id": the step that teaches the answer, or ""
    options: tuple[Option, ...] = ()  # single, multiple
    answer: bool | float | None = None  # true_false: bool; numeric: the number
    explanations: dict[str, str] = field(default_factory=dict)  # true_false: "true"/"false" -> why
    items: tuple[str, ...] = ()  # ordering, in the right order
    explanation: str = ""  # ordering, numeric
    tolerance: float = 0.0
    unit: str = ""
    wrong_answers: tuple[WrongAnswer, ...] = ()


@dataclass(frozen=True)
class TextStep:
    id: str
    title: str
    path: KeyPath
    page: str  # file name in the lesson folder
    markdown: str  # the page's text ("" when the file is missing: validation says so)


@dataclass(frozen=True)
class Variation:
    change: str
    predict: str
    answer: str


@dataclass(frozen=True)
class DemoStep:
    id: str
    title: str
    path: KeyPath
    scenario: str | None  # a shipped scenario's name
    scenario_file: Path | None  # or a file in the lesson's folder
    intro: str
    watch: tuple[str, ...]
    try_: tuple[Variation, ...]


@dataclass(frozen=True)
class QuizStep:
    id: str
    title: str
    path: KeyPath
    questions: tuple[Question, ...]
    pass_percent: int


@dataclass(frozen=True)
class ExerciseStep:
    id: str
    title: str
    path: KeyPath
    exercise: str


Step = TextStep | DemoStep | QuizStep | ExerciseStep


@dataclass(frozen=True)
class Lesson:
    id: str
    number: int  # from the folder name: 03-concurrency-and-throttling -> 3
    title: str
    topic: str
    summary: str
    objectives: tuple[str, ...]
    prerequisites: tuple[str, ...]
    minutes: int
    sources: tuple[Source, ...]
    steps: tuple[Step, ...]
    folder: Path
    doc: Document  # the parsed lesson.yaml, for positions

    def step(self, step_id: str) -> Step | None:
        return next((s for s in self.steps if s.id == step_id), None)

    @property
    def quizzes(self) -> tuple[QuizStep, ...]:
        return tuple(s for s in self.steps if isinstance(s, QuizStep))

    @property
    def pages(self) -> tuple[TextStep, ...]:
        return tuple(s for s in self.steps if isinstance(s, TextStep))
