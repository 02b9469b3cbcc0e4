"""The course's rules beyond the schema: what `lambdalab validate` checks once each lesson has loaded.

Links resolve, demos' scenarios exist and load, their try-this changes apply, every question has a correct
answer, pages stay small enough for the TUI, sources are AWS's own pages, and
no outdated claim is taught as a fact. A demo whose scenario is valid but uses
a feature the engine does not simulate yet is a notice, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

from lambdalab import content
from lambdalab.course.demo_figures import ChangeError, apply_change
from lambdalab.course.loader import FOLDER_NAME, Course
from lambdalab.course.markdown import LESSON_LINK, blocks, is_myth_quote, links
from lambdalab.course.model import DemoStep, ExerciseStep, Lesson, Question, QuizStep, TextStep
from lambdalab.course.myths import Claim, outdated_claims
from lambdalab.engine import load_scenario
from lambdalab.inputs import InputError, InputErrors, load_yaml
from lambdalab.inputs.errors import did_you_mean

MAX_PAGE_BLOCKS = 40  # Textual's Markdown widget mounts one widget per block (shared/design.md)
MAX_PAGE_BYTES = 6_000
AWS_HOSTS = ("docs.aws.amazon.com", "aws.amazon.com")


@dataclass
class Findings:
    errors: list[InputError] = field(default_factory=list)
    notices: list[InputError] = field(default_factory=list)  # demos waiting for a feature

    def extend(self, other: Findings) -> None:
        self.errors += other.errors
        self.notices += other.notices


class ScenarioChecker:
    """Loads each scenario once, however many demos use it."""

    def __init__(self) -> None:
        self._seen: dict[Path, Findings] = {}

    def check(self, path: Path) -> Findings:
        path = path.resolve()
        if path not in self._seen:
            found = Findings()
            try:
                load_scenario(path)
            except InputErrors as exc:
                for error in exc.errors:
                    (found.notices if error.waits_for else found.errors).append(error)
            self._seen[path] = found
        return self._seen[path]


def check_course(course: Course, scenarios: ScenarioChecker | None = None, only: Path | None = None) -> Findings:
    """Check every lesson of `course`, or only the one in folder `only` (links still resolve course-wide)."""
    found = Findings(errors=[e for e in course.errors if only is None or Path(e.file).parent == only])
    scenarios = scenarios or ScenarioChecker()
    first_seen: dict[str, Lesson] = {}
    for lesson in course.lessons:
        if lesson.id in first_seen:
            found.errors.append(
                lesson.doc.error(("id",), f"{lesson.id!r} is already the id of {first_seen[lesson.id].folder.name}")
            )
        first_seen.setdefault(lesson.id, lesson)
        if only is None or lesson.folder == only:
            found.extend(check_lesson(lesson, course, scenarios))
    return found


def check_lesson(lesson: Lesson, course: Course, scenarios: ScenarioChecker) -> Findings:
    found = Findings()
    errors = found.errors
    doc = lesson.doc
    match = FOLDER_NAME.match(lesson.folder.name)
    if not match or match.group(2) != lesson.id:
        errors.append(
            doc.error(
                ("id",),
                f"the folder must be named NN-{lesson.id} (two digits, a hyphen and the id), "
                f"not {lesson.folder.name!r}",
            )
        )
    for i, prerequisite in enumerate(lesson.prerequisites):
        other = course.find(prerequisite)
        if other is None or other.id != prerequisite:
            errors.append(doc.error(("prerequisites", i), f"no lesson has the id {prerequisite!r}"))
        elif other.number >= lesson.number:
            errors.append(
                doc.error(("prerequisites", i), f"{prerequisite!r} comes at or after this lesson in the course")
            )
    if not any(urlparse(s.url).hostname in AWS_HOSTS for s in lesson.sources):
        errors.append(
            doc.error(("sources",), "list at least one AWS documentation page (docs.aws.amazon.com or aws.amazon.com)")
        )
    _check_unique(lesson, [(s.id, s.path) for s in lesson.steps], "step", errors)
    _check_unique(lesson, [(q.id, q.path) for quiz in lesson.quizzes for q in quiz.questions], "question", errors)
    for text, path in _lesson_texts(lesson):
        errors += [doc.error(path, _claim_message(claim)) for claim, _ in outdated_claims(text)]
    for step in lesson.steps:
        if isinstance(step, TextStep):
            errors += _check_page(lesson, step, course)
        elif isinstance(step, DemoStep):
            found.extend(_check_demo(lesson, step, scenarios))
        elif isinstance(step, QuizStep):
            for question in step.questions:
                errors += _check_question(lesson, question)
            errors += _check_topics_and_links(lesson, step, course)
        elif isinstance(step, ExerciseStep):
            if not _exercise_exists(step.exercise):
                errors.append(
                    doc.error((*step.path, "exercise"), f"no exercise with the id {step.exercise!r} in exercises/")
                )
    return found


def _check_unique(lesson: Lesson, ids: list[tuple[str, tuple]], what: str, errors: list[InputError]) -> None:
    seen: set[str] = set()
    for item_id, path in ids:
        if item_id in seen:
            errors.append(
                lesson.doc.error((*path, "id"), f"another {what} in this lesson already has the id {item_id!r}")
            )
        seen.add(item_id)


def _lesson_texts(lesson: Lesson) -> list[tuple[str, tuple]]:
    """Every learner-facing string in lesson.yaml with its key path, except in questions marked `myth`."""
    texts: list[tuple[str, tuple]] = [(lesson.title, ("title",)), (lesson.summary, ("summary",))]
    texts += [(o, ("objectives", i)) for i, o in enumerate(lesson.objectives)]
    for step in lesson.steps:
        texts.append((step.title, (*step.path, "title")))
        if isinstance(step, DemoStep):
            texts.append((step.intro, (*step.path, "intro")))
            texts += [(w, (*step.path, "watch", i)) for i, w in enumerate(step.watch)]
            for i, v in enumerate(step.try_):
                texts += [(getattr(v, k), (*step.path, "try", i, k)) for k in ("change", "predict", "answer")]
        elif isinstance(step, QuizStep):
            for q in step.questions:
                if not q.myth:
                    texts += [(t, (*q.path, key)) for t, key in _question_texts(q)]
    return texts


def _question_texts(q: Question) -> list[tuple[str, object]]:
    texts: list[tuple[str, object]] = [(q.prompt, "prompt"), (q.explanation, "explanation")]
    texts += [(o.text + "\n" + o.explanation, "options") for o in q.options]
    texts += [(t, "explanations") for t in q.explanations.values()]
    texts += [(w.explanation, "wrong_answers") for w in q.wrong_answers]
    return texts


def _claim_message(claim: Claim) -> str:
    return (
        f"states an outdated claim ({claim.id}) as a fact; today {claim.fact}. Name it only in a "
        f"'> **Myth:**' quote or a question marked `myth: true`"
    )


def _check_page(lesson: Lesson, step: TextStep, course: Course) -> list[InputError]:
    path = lesson.folder / step.page
    where = lesson.doc.error((*step.path, "page"), "")
    if not path.is_file():
        return [_at(where, f"{step.page!r} is not a file in {lesson.folder.name}/")]
    if not step.markdown.strip():
        return [_at(where, f"{step.page!r} is empty, too large or not UTF-8 text")]
    errors = []
    size = len(step.markdown.encode("utf-8"))
    page_blocks = blocks(step.markdown)
    if size > MAX_PAGE_BYTES:
        errors.append(
            InputError(
                str(path),
                1,
                1,
                "",
                f"the page is {size:,} bytes; keep a page under {MAX_PAGE_BYTES:,} (split it into two text steps)",
            )
        )
    if len(page_blocks) > MAX_PAGE_BLOCKS:
        errors.append(
            InputError(
                str(path),
                page_blocks[MAX_PAGE_BLOCKS].line,
                1,
                "",
                f"the page has {len(page_blocks)} Markdown blocks; keep a page to {MAX_PAGE_BLOCKS} "
                "(each heading, paragraph, list item and table row is one widget in the TUI)",
            )
        )
    for block in page_blocks:
        if block.kind != "code" and not is_myth_quote(block):
            errors += [
                InputError(str(path), block.line + offset, 1, "", _claim_message(claim))
                for claim, offset in outdated_claims(block.text)
            ]
    for line, _, target in links(step.markdown):
        problem = _broken_lesson_link(target, course) if target.startswith(LESSON_LINK) else None
        if problem:
            errors.append(InputError(str(path), line, 1, "", problem))
    return errors


def _broken_lesson_link(target: str, course: Course) -> str | None:
    return _broken_target(f"the link {target!r}", target[len(LESSON_LINK) :], course)


def _broken_target(what: str, target: str, course: Course) -> str | None:
    """What is wrong with "lesson-id" or "lesson-id#step-id" as a place in the course, or None."""
    lesson_id, _, step_id = target.partition("#")
    lesson = course.find(lesson_id)
    if lesson is None or lesson.id != lesson_id:
        return f"{what} names no lesson{did_you_mean(lesson_id, [lesson.id for lesson in course.lessons])}"
    if step_id and lesson.step(step_id) is None:
        steps = [s.id for s in lesson.steps]
        return f"{what} names no step of {lesson_id}{did_you_mean(step_id, steps)} (steps: {', '.join(steps)})"
    return None


def _check_topics_and_links(lesson: Lesson, step: QuizStep, course: Course) -> list[InputError]:
    """Every `see` names a step of the course; a quiz that scores by topic gives every question its topic."""
    errors = []
    tagged = [q for q in step.questions if q.topic]
    for q in step.questions:
        problem = q.see and _broken_target(repr(q.see), q.see, course)
        if problem:
            errors.append(lesson.doc.error((*q.path, "see"), problem))
        if tagged and not q.topic:
            errors.append(
                lesson.doc.error(
                    q.path,
                    f"this quiz scores by topic ({tagged[0].id!r} has `topic: {tagged[0].topic}`), so every "
                    "question needs a `topic` too",
                )
            )
    return errors


def _check_demo(lesson: Lesson, step: DemoStep, scenarios: ScenarioChecker) -> Findings:
    if step.scenario is not None:
        path = content.shipped_scenarios().get(step.scenario)
        if path is None:
            names = ", ".join(content.shipped_scenarios())
            return Findings(
                [
                    lesson.doc.error(
                        (*step.path, "scenario"),
                        f"no shipped scenario named {step.scenario!r} (assets/scenarios has: {names})",
                    )
                ]
            )
    else:
        path = step.scenario_file
        assert path is not None  # the lesson schema requires a demo's scenario or its scenario_file
        if not path.is_file():
            return Findings(
                [
                    lesson.doc.error(
                        (*step.path, "scenario_file"), f"{path.name!r} is not a file in {lesson.folder.name}/"
                    )
                ]
            )
    found = Findings()
    found.extend(scenarios.check(path))
    found.errors += _check_changes(lesson, step, path)
    return found


def _check_changes(lesson: Lesson, step: DemoStep, scenario: Path) -> list[InputError]:
    """Each `try`'s change follows the grammar (lessons/README.md, "demo") and names paths the scenario has; whether
    its answer's figures are right takes a run: tests/test_demo_figures.py."""
    errors = []
    data = None
    for i, variation in enumerate(step.try_):
        try:
            if data is None:
                data = load_yaml(scenario).data
            apply_change(data, variation.change)
        except ChangeError as exc:
            errors.append(lesson.doc.error((*step.path, "try", i, "change"), f"{variation.change!r}: {exc}"))
        except InputErrors:
            break  # the scenario itself is broken: scenarios.check says how
    return errors


def _check_question(lesson: Lesson, q: Question) -> list[InputError]:
    doc = lesson.doc
    if q.type == "single" and sum(o.correct for o in q.options) != 1:
        return [
            doc.error(
                (*q.path, "options"),
                f"a single-choice question needs exactly one option with `correct: true`, "
                f"this one has {sum(o.correct for o in q.options)}",
            )
        ]
    if q.type == "multiple" and not any(o.correct for o in q.options):
        return [
            doc.error((*q.path, "options"), "a multiple-choice question needs at least one option with `correct: true`")
        ]
    texts = [o.text.strip().lower() for o in q.options]
    if len(set(texts)) != len(texts):
        return [doc.error((*q.path, "options"), "two options have the same text")]
    for i, wrong in enumerate(q.wrong_answers):
        assert q.answer is not None  # only numeric questions have wrong answers, and the loader gives each its number
        if abs(wrong.value - q.answer) <= q.tolerance:
            return [
                doc.error(
                    (*q.path, "wrong_answers", i, "value"),
                    f"{wrong.value:g} is within the tolerance of the answer {q.answer:g}, so it would be accepted",
                )
            ]
    return []


def _exercise_exists(exercise_id: str) -> bool:
    """An exercises/ folder named ID or NN-ID holds exercise.yaml (the format itself is the exercises issue's)."""
    folder = content.content_root() / "exercises"
    if not folder.is_dir():
        return False
    for candidate in folder.iterdir():
        match = FOLDER_NAME.match(candidate.name)
        if exercise_id in (candidate.name, match and match.group(2)) and (candidate / "exercise.yaml").is_file():
            return True
    return False


def _at(where: InputError, message: str) -> InputError:
    return InputError(where.file, where.line, where.column, where.path, message)
