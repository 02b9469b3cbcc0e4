"""Asking and grading quiz questions, without any I/O: plain mode and the TUI share it.

A learner answers with letters or numbers ("b", "2", "a c", "3,1,2"); each
answer is graded as right or wrong (no partial credit) and explained in words:
the explanation of every option the learner chose and of the right ones,
named by the labels the learner saw (plain mode letters its choices, the TUI
numbers them). A quiz whose questions name their `topic` is also scored per
topic, and each question answered wrongly points at the step (`see`) to re-read.
"""

from __future__ import annotations

import random
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from lambdalab.course.loader import Course
from lambdalab.course.model import Option, Question
from lambdalab.course.topics import QUESTION_TOPICS, topic_title

LETTERS = "abcdefgh"
NUMBERS = "12345678"
TYPE_NAMES = {
    "single": "one answer",
    "multiple": "one or more answers",
    "true_false": "true or false",
    "ordering": "put in order",
    "numeric": "a number",
}
_SEPARATORS = re.compile(r"[\s,;]+")


@dataclass(frozen=True)
class Feedback:
    correct: bool
    lines: tuple[str, ...]  # the verdict first, then explanations

    @property
    def detail(self) -> str:
        """The verdict without its "Correct:" or "Not quite:", for a view that says right or wrong in its own way."""
        return self.lines[0].split(": ", 1)[1]


def shown_choices(question: Question, lesson_id: str) -> list[str]:
    """The choices as the learner sees them, in order. Options and ordering items are shuffled, the same way
    every time (seeded by the lesson and the question), so that where the right answer stands says nothing:
    authors tend to write it first."""
    if question.type in ("single", "multiple"):
        options = [o.text for o in question.options]
        random.Random(f"{lesson_id}/{question.id}").shuffle(options)  # str seeds are stable across runs and machines
        return options
    if question.type == "true_false":
        return ["True", "False"]
    if question.type == "ordering":
        items = list(question.items)
        random.Random(f"{lesson_id}/{question.id}").shuffle(items)  # str seeds are stable across runs and machines
        if items == list(question.items):
            items = items[1:] + items[:1]  # never show the answer itself
        return items
    return []


def shown_options(question: Question, shown: Sequence[str]) -> list[Option]:
    """A single or multiple choice question's options in the order shown (`validate` keeps their texts apart)."""
    by_text = {o.text: o for o in question.options}
    return [by_text[text] for text in shown]


def hint(question: Question, shown: list[str]) -> str:
    """How to answer, for the prompt line."""
    last = LETTERS[len(shown) - 1] if shown else ""
    if question.type in ("single", "true_false"):
        return f"a letter a-{last} or a number 1-{len(shown)}"
    if question.type == "multiple":
        return f"one or more letters a-{last} or numbers, e.g. 'a c'"
    if question.type == "ordering":
        return f"all {len(shown)} letters or numbers in the right order, e.g. '{' '.join(LETTERS[: len(shown)][::-1])}'"
    return f"a number{f' ({question.unit})' if question.unit else ''}"


def parse(question: Question, shown: list[str], text: str) -> list[int] | float | str:
    """The answer as indexes into `shown` (or a number for numeric questions), or what is wrong with it."""
    text = text.strip().lower()
    if not text:
        return f"please answer with {hint(question, shown)}"
    if question.type == "numeric":
        number = text.replace(",", "").replace("_", "").split()[0]
        try:
            return float(number)
        except ValueError:
            return f"{text!r} is not a number; please answer with {hint(question, shown)}"
    if question.type == "true_false" and text in ("t", "true", "f", "false"):
        return [0 if text.startswith("t") else 1]
    picks = []
    for token in _SEPARATORS.split(text):
        if len(token) == 1 and token in LETTERS[: len(shown)]:
            picks.append(LETTERS.index(token))
        elif token.isdigit() and 1 <= int(token) <= len(shown):
            picks.append(int(token) - 1)
        else:
            return f"{token!r} is not one of the choices; please answer with {hint(question, shown)}"
    if len(set(picks)) != len(picks):
        return "you named the same choice twice"
    if question.type in ("single", "true_false") and len(picks) != 1:
        return "this question has one answer: name one choice"
    if question.type == "ordering" and len(picks) != len(shown):
        return f"put all {len(shown)} items in order (you named {len(picks)})"
    return picks


def grade(question: Question, shown: list[str], answer: list[int] | float, labels: str = LETTERS) -> Feedback:
    """Right or wrong, explained; `labels` are the choices' labels as shown ("abc..." or "123...")."""
    kind = question.type
    if kind == "numeric":
        assert not isinstance(answer, list)  # parse answers a numeric question with a number
        return _grade_numeric(question, float(answer))
    assert isinstance(answer, list)  # and every other question with the indexes of the choices
    if kind == "true_false":
        said = answer[0] == 0
        right = said == question.answer
        lines = [
            _verdict(right, f"the statement is {'true' if question.answer else 'false'}."),
            question.explanations["true" if said else "false"],
        ]
        if not right:
            lines.append(question.explanations["true" if question.answer else "false"])
        return Feedback(right, tuple(lines))
    if kind == "ordering":
        order = [shown[i] for i in answer]
        right = order == list(question.items)
        lines = [_verdict(right, "the right order is:")]
        if not right:
            lines += [f"  {n}. {item}" for n, item in enumerate(question.items, 1)]
        return Feedback(right, (*lines, question.explanation))
    chosen = set(answer)
    options = shown_options(question, shown)
    correct = {i for i, o in enumerate(options) if o.correct}
    right = chosen == correct
    named = ", ".join(f"({labels[i]})" for i in sorted(correct))
    lines = [_verdict(right, f"the right answer{'s are' if len(correct) > 1 else ' is'} {named}.")]
    for i, option in enumerate(options):
        if i in chosen or i in correct:
            status = ("you chose it; " if i in chosen else "you did not choose it; ") + (
                "right" if option.correct else "wrong"
            )
            lines.append(f"({labels[i]}) {option.text} [{status}]: {option.explanation}")
    return Feedback(right, tuple(lines))


def _grade_numeric(question: Question, value: float) -> Feedback:
    assert question.answer is not None  # the loader gives every numeric question its number
    right = abs(value - question.answer) <= question.tolerance
    unit = f" {question.unit}" if question.unit else ""
    within = f" (within {question.tolerance:g})" if question.tolerance else ""
    lines = [_verdict(right, f"the answer is {question.answer:g}{unit}{within}.")]
    if not right:
        lines += [
            w.explanation for w in question.wrong_answers if abs(w.value - value) <= max(question.tolerance, 1e-9)
        ]
    return Feedback(right, (*lines, question.explanation))


def _verdict(right: bool, detail: str) -> str:
    return "Correct: " + detail if right else "Not quite: " + detail


@dataclass(frozen=True)
class TopicScore:
    """One topic's share of a quiz: how many of its questions were answered right, and which were not."""

    topic: str
    right: int
    asked: int
    missed: tuple[Question, ...]  # in quiz order

    @property
    def title(self) -> str:
        return topic_title(self.topic)


def topic_scores(questions: Sequence[Question], missed: Collection[str]) -> list[TopicScore]:
    """Right out of asked per topic, in the course's order of topics; questions without a topic are left out."""
    by_topic: dict[str, list[Question]] = {}
    for q in questions:
        if q.topic:
            by_topic.setdefault(q.topic, []).append(q)
    order = {topic: n for n, topic in enumerate(QUESTION_TOPICS)}
    scores = []
    for topic in sorted(by_topic, key=lambda t: order.get(t, len(order))):
        asked = by_topic[topic]
        wrong = tuple(q for q in asked if q.id in missed)
        scores.append(TopicScore(topic, len(asked) - len(wrong), len(asked), wrong))
    return scores


@dataclass(frozen=True)
class StepRef:
    """A `see` link resolved: the lesson and the step, as a learner finds them in `lambdalab read` or the app."""

    lesson_id: str
    step_id: str
    lesson_number: int
    lesson_title: str
    step_number: int
    step_title: str

    @property
    def words(self) -> str:
        return f"lesson {self.lesson_number} ({self.lesson_title}), step {self.step_number}: {self.step_title}"


def resolve_see(course: Course, see: str) -> StepRef | None:
    """The step a `see` link names, or None when it names none (`lambdalab validate` reports those)."""
    lesson_id, _, step_id = see.partition("#")
    lesson = course.find(lesson_id)
    if lesson is None or lesson.id != lesson_id:
        return None
    for n, step in enumerate(lesson.steps, 1):
        if step.id == step_id:
            return StepRef(lesson.id, step.id, lesson.number, lesson.title, n, step.title)
    return None
