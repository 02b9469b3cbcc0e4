"""A small, valid lesson to break one rule at a time, and answers that a quiz accepts."""

from __future__ import annotations

import copy
from pathlib import Path

import yaml

from lambdalab.course import quiz
from lambdalab.course.model import Lesson, Question

GOOD_PAGE = """# What concurrency is

Concurrency is the number of requests a function serves at the same moment.
See [the previous lesson](lesson:first-steps) and the
[AWS guide](https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html).

> **Myth:** Lambda bills in 100 ms steps.
> **Fact:** billing is rounded up to 1 ms.
"""

GOOD_LESSON = {
    "id": "sample-lesson",
    "title": "A sample lesson",
    "topic": "concurrency",
    "summary": "A lesson that follows every rule, for tests to break one rule at a time.",
    "objectives": ["Say what concurrency is"],
    "prerequisites": ["first-steps"],
    "minutes": 5,
    "sources": [
        {"title": "Lambda concurrency", "url": "https://docs.aws.amazon.com/lambda/latest/dg/lambda-concurrency.html"}
    ],
    "steps": [
        {"kind": "text", "id": "what", "title": "What concurrency is", "page": "01-what.md"},
        {
            "kind": "demo",
            "id": "burst",
            "title": "A burst",
            "scenario": "burst-reserved-concurrency",
            "watch": ["checkout stops at 50 concurrent executions"],
            "try": [
                {
                    "change": "functions.checkout.reserved_concurrency: 250",
                    "predict": "How many throttles?",
                    "answer": "None at all.",
                }
            ],
        },
        {
            "kind": "quiz",
            "id": "check",
            "title": "Check your understanding",
            "questions": [
                {
                    "id": "cap",
                    "type": "single",
                    "prompt": "Reserved concurrency 50, 200 requests at once: what happens?",
                    "options": [
                        {
                            "text": "50 run, 150 get a 429",
                            "correct": True,
                            "explanation": "It is a cap as well as a guarantee.",
                        },
                        {"text": "All 200 run", "explanation": "The reservation caps the function at 50."},
                    ],
                },
                {
                    "id": "init-free",
                    "type": "true_false",
                    "myth": True,
                    "prompt": "Myth or fact: Init is free.",
                    "answer": False,
                    "explanations": {
                        "true": "Init is billed since August 2025.",
                        "false": "Right: Init is billed now.",
                    },
                },
                {
                    "id": "sizing",
                    "type": "numeric",
                    "prompt": "200 requests/s of 0.5 s each: how many at once?",
                    "answer": 100,
                    "unit": "executions",
                    "explanation": "Requests per second times duration.",
                    "wrong_answers": [{"value": 400, "explanation": "That divides by the duration."}],
                },
                {
                    "id": "order",
                    "type": "ordering",
                    "prompt": "Put the lifecycle phases in order.",
                    "items": ["Init", "Invoke", "Shutdown"],
                    "explanation": "Init once, Invoke many times, then Shutdown.",
                },
                {
                    "id": "sources",
                    "type": "multiple",
                    "prompt": "Which services invoke Lambda asynchronously?",
                    "options": [
                        {"text": "Amazon S3", "correct": True, "explanation": "S3 notifications are async."},
                        {"text": "Amazon SNS", "correct": True, "explanation": "SNS invokes asynchronously."},
                        {"text": "API Gateway", "explanation": "API Gateway waits for the answer: synchronous."},
                    ],
                },
            ],
        },
    ],
}

FIRST_LESSON = {
    **copy.deepcopy(GOOD_LESSON),
    "id": "first-steps",
    "title": "First steps",
    "prerequisites": [],
    "steps": [{"kind": "text", "id": "intro", "title": "Introduction", "page": "01-intro.md"}],
}


def write_course(
    root: Path, lesson: dict | None = None, page: str = GOOD_PAGE, folder: str = "02-sample-lesson"
) -> Path:
    """A two-lesson course under `root`; returns the sample lesson's folder."""
    first = root / "01-first-steps"
    first.mkdir(parents=True, exist_ok=True)
    (first / "lesson.yaml").write_text(yaml.safe_dump(FIRST_LESSON, sort_keys=False))
    (first / "01-intro.md").write_text("# Introduction\n\nLambda runs code when something invokes it.\n")
    sample = root / folder
    sample.mkdir(parents=True, exist_ok=True)
    (sample / "lesson.yaml").write_text(yaml.safe_dump(lesson if lesson is not None else GOOD_LESSON, sort_keys=False))
    (sample / "01-what.md").write_text(page)
    return sample


def broken(**changes) -> dict:
    """GOOD_LESSON with top-level keys replaced."""
    lesson = copy.deepcopy(GOOD_LESSON)
    lesson.update(changes)
    return lesson


def right_answer(question: Question, lesson: Lesson) -> str:
    """What a learner who knows the answer types."""
    shown = quiz.shown_choices(question, lesson.id)
    if question.type == "numeric":
        return f"{question.answer:g}"
    if question.type == "true_false":
        return "t" if question.answer else "f"
    if question.type == "ordering":
        return " ".join(quiz.LETTERS[shown.index(item)] for item in question.items)
    return " ".join(quiz.LETTERS[i] for i, option in enumerate(quiz.shown_options(question, shown)) if option.correct)


def wrong_answer(question: Question, lesson: Lesson) -> str:
    shown = quiz.shown_choices(question, lesson.id)
    if question.type == "numeric":
        return f"{question.answer + question.tolerance + 1000:g}"
    if question.type == "true_false":
        return "f" if question.answer else "t"
    if question.type == "ordering":
        return " ".join(quiz.LETTERS[i] for i in range(len(shown)))  # the shuffled order is never the answer
    wrong = [quiz.LETTERS[i] for i, option in enumerate(quiz.shown_options(question, shown)) if not option.correct]
    return wrong[0] if question.type == "single" else " ".join(wrong) or "a"


# The sample lesson's five questions, each with a topic and the step that teaches it (as in the course review).
TAGS = {
    "cap": ("concurrency", "sample-lesson#what"),
    "init-free": ("lifecycle", "first-steps#intro"),
    "sizing": ("concurrency", "sample-lesson#burst"),
    "order": ("lifecycle", "first-steps#intro"),
    "sources": ("invocation", "sample-lesson#what"),
}


def tagged(**changes) -> dict:
    """GOOD_LESSON with every question tagged as in TAGS; `changes` maps a question id to keys to set (None drops)."""
    lesson = copy.deepcopy(GOOD_LESSON)
    quiz_step = next(s for s in lesson["steps"] if s["kind"] == "quiz")
    for question in quiz_step["questions"]:
        topic, see = TAGS[question["id"]]
        question.update(topic=topic, see=see)
        for key, value in changes.get(question["id"], {}).items():
            if value is None:
                question.pop(key, None)
            else:
                question[key] = value
    return lesson


def quiz_keys(question: Question, lesson: Lesson, right: bool) -> list[str]:
    """The keys that answer a question in the app's quiz view, from what a plain-mode learner would type."""
    typed = (right_answer if right else wrong_answer)(question, lesson)
    if question.type == "numeric":
        return [*typed, "enter"]
    if question.type == "true_false":
        return ["1" if typed == "t" else "2"]
    numbers = [str(quiz.LETTERS.index(letter) + 1) for letter in typed.split()]
    return numbers + (["enter"] if question.type == "multiple" else [])
