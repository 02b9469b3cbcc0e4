"""The terminal summary of a class report: the figures of report.html, fitted to the terminal's width."""

from __future__ import annotations

import textwrap

from lambdalab.grading.class_report import NOT_RECORDED, PROGRESS_FOLDER, ClassReport, percent, printable
from lambdalab.tables import table

TOP_CHECKS = 5
TOP_REASONS = 3
TOP_ROWS = 10


def render_text(report: ClassReport, width: int = 100) -> str:
    width = max(width, 60)
    out = [f"Class report: {report.title}", "  " + _summary(report)]
    out += [
        "",
        "Exercises",
        *table(
            ["exercise", "graded", "passed", "pass rate", "mean score"],
            [
                [
                    e.id,
                    e.graded,
                    e.passed,
                    percent(e.rate),
                    "-" if e.mean_score is None else f"{e.mean_score:.1f}/{e.max_score:g}",
                ]
                for e in report.exercises
            ],
        ),
    ]
    name_width = max(20, width - 48 - max((len(e.id) for e in report.exercises), default=8))
    out += [
        "",
        "Checks",
        *table(
            ["check", "exercise", "passed", "failed", "errors", "not run", "pass rate"],
            [
                [
                    _cut(c.name + (" (hidden)" if c.hidden else ""), name_width),
                    c.exercise,
                    c.passed,
                    c.failed,
                    c.errors,
                    c.not_run,
                    percent(c.rate),
                ]
                for e in report.exercises
                for c in e.checks
            ],
            left=2,
        ),
    ]
    out += ["", "Most failed checks, with the first line of their messages"]
    for n, c in enumerate(report.most_failed[:TOP_CHECKS], 1):
        hidden = " (hidden)" if c.hidden else ""
        out.append(f"  {n}. {c.exercise}: {c.name}{hidden}: failed by {c.missed} of {c.ran} learner(s)")
        out += [f"     {count:>4}  {reason}" for reason, count in c.reasons[:TOP_REASONS]]
        if len(c.reasons) > TOP_REASONS:
            out.append(f"           and {len(c.reasons) - TOP_REASONS} more reason(s)")
    if not report.most_failed:
        out.append("  every check passed for every learner who ran it")
    out += ["", "Score distribution (percent of the maximum)", *_histogram(report, width)]
    out += ["", *_flags(report), "", *_ungraded(report), "", *_progress(report, width)]
    return "\n".join(_cut(printable(line), width) for line in out) + "\n"


def _summary(report: ClassReport) -> str:
    """One line: the class at a glance."""
    parts = [
        f"{report.learners} learner(s)",
        f"mean {percent(report.mean_percent, 100)}",
        f"median {percent(report.median_percent, 100)}",
        f"{len(report.ungraded)} could not be graded",
    ]
    if report.flags_checked:
        parts.append(f"{len(report.flags)} copy flag(s)")
    return ", ".join(parts)


def _histogram(report: ClassReport, width: int) -> list[str]:
    peak = max((n for _, n in report.histogram), default=0) or 1
    room = min(50, width - 20)
    return [f"  {label:>7}  {'█' * round(room * n / peak):<{room}} {n}".rstrip() for label, n in report.histogram]


def _flags(report: ClassReport) -> list[str]:
    if not report.flags_checked:
        return ["Copied solutions: grades.json carries no copy checks"]
    if not report.flags:
        return ["Copied solutions: none flagged"]
    return [
        f"Copied solutions ({len(report.flags)} flag(s))",
        *table(
            ["learner", "exercise", "file", "kind", "how", "with"],
            [[f.learner, f.exercise, f.file, f.kind, f.how, f.with_] for f in report.flags],
            left=6,
        ),
    ]


def _ungraded(report: ClassReport) -> list[str]:
    if not report.ungraded:
        return ["Could not be graded: none"]
    return [f"Could not be graded ({len(report.ungraded)})", *(f"  {name}: {why}" for name, why in report.ungraded)]


def _progress(report: ClassReport, width: int) -> list[str]:
    if not report.progress_files:
        return [
            f"Quizzes, questions and hints: no progress files (collect them as "
            f"{PROGRESS_FOLDER}/<learner>.json beside grades.json)"
        ]
    out = [
        f"Quizzes most missed (from {report.progress_files} progress file(s); questions missed on each "
        "learner's best attempt)"
    ]
    out += (
        table(
            ["lesson", "quiz", "learners", "passed", "missed", "asked", "miss rate", "attempts each"],
            [
                [
                    q.lesson,
                    q.quiz,
                    q.learners,
                    q.passed,
                    q.missed,
                    q.asked,
                    percent(q.miss_rate),
                    q.attempts / q.learners,
                ]
                for q in report.quizzes[:TOP_ROWS]
            ],
            left=2,
        )
        if report.quizzes
        else ["  no quiz taken"]
    )
    out += ["", *_questions(report, width)]
    out += ["", "Hints most revealed"]
    out += (
        table(
            ["exercise", "learners", "hints revealed", "hints in ladder", "revealed all"],
            [[h.exercise, h.learners, h.revealed, h.ladder, h.whole_ladder] for h in report.hints[:TOP_ROWS]],
        )
        if report.hints
        else ["  no hint revealed"]
    )
    return out


def _questions(report: ClassReport, width: int) -> list[str]:
    if not report.missed_recorded:
        return ["Questions most missed", *_wrap(NOT_RECORDED, width)]
    if not report.questions:
        return ["Questions most missed: none missed"]
    shown = report.questions[:TOP_ROWS]
    names = max(len(q.lesson) for q in shown) + max(4, *(len(q.quiz) for q in shown))
    prompt_width = max(10, width - 30 - names)  # what the other columns leave: the counts stay in view
    heading = "Questions most missed"
    if report.questions[TOP_ROWS:]:
        heading += f" (the first {TOP_ROWS} of {len(report.questions)}; report.html lists all)"
    legend = (
        "missed: learners who missed it on their last attempt, of the learners who took the quiz; "
        "in all: the times it was missed"
    )
    return [
        heading,
        *_wrap(legend, width),
        *table(
            ["lesson", "quiz", "question", "missed", "of", "in all"],
            [[q.lesson, q.quiz, _cut(q.shown, prompt_width), q.missed, q.learners, q.missed_ever] for q in shown],
            left=3,
        ),
    ]


def _wrap(text: str, width: int) -> list[str]:
    """A sentence that must be read whole: wrapped, where a table row would be cut."""
    return textwrap.wrap(text, width, initial_indent="  ", subsequent_indent="  ")


def _cut(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
