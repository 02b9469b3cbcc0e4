"""A lesson as one linear Markdown document, and that Markdown styled for a terminal.

Plain mode is the accessible path (Textual has no screen-reader support): the
document reads top to bottom, every demo says which command runs it, and when
stdout is not a terminal it stays plain Markdown, with no escape codes.
"""

from __future__ import annotations

import os
import re
from typing import TextIO

from pygments import highlight
from pygments.formatters import TerminalFormatter
from pygments.lexers import TextLexer, get_lexer_by_name
from pygments.util import ClassNotFound

from lambdalab.course.markdown import LESSON_LINK, LINK, blocks
from lambdalab.course.model import DemoStep, ExerciseStep, Lesson, QuizStep, TextStep

BOLD, ITALIC, UNDERLINE, DIM, CODE, RESET = "\x1b[1m", "\x1b[3m", "\x1b[4m", "\x1b[2m", "\x1b[36m", "\x1b[0m"
_STRONG = re.compile(r"\*\*(.+?)\*\*")
_EMPHASIS = re.compile(r"(?<![\w*])[*_](?![\s*_])(.+?)(?<![\s*_])[*_](?![\w*])")
_INLINE_CODE = re.compile(r"`([^`]+)`")
_HEADING_MARKS = re.compile(r"^(#{1,6}) ")


def wants_style(stream: TextIO) -> bool:
    """Style only for a person at a terminal who has not asked for no colour (https://no-color.org)."""
    return stream.isatty() and not os.environ.get("NO_COLOR")


def lesson_markdown(lesson: Lesson) -> str:
    """The whole lesson, top to bottom: header, then each step, then its sources."""
    parts = [
        f"# {lesson.number}. {lesson.title}",
        lesson.summary,
        f"About {lesson.minutes} minutes. Topic: {lesson.topic}.",
    ]
    if lesson.prerequisites:
        parts.append("Before this: " + ", ".join(f"[{p}]({LESSON_LINK}{p})" for p in lesson.prerequisites))
    parts.append("You will be able to:\n" + "\n".join(f"- {o}" for o in lesson.objectives))
    total = len(lesson.steps)
    for n, step in enumerate(lesson.steps, 1):
        parts.append(f"## Step {n} of {total}: {step.title}")
        parts.append(step_markdown(lesson, step))
    parts.append("## Sources\n" + "\n".join(f"- {s.title}: {s.url}" for s in lesson.sources))
    return "\n\n".join(p.strip() for p in parts if p.strip()) + "\n"


def step_markdown(lesson: Lesson, step) -> str:
    """One step as Markdown below its own heading (the TUI shows each step alone, plain mode all in a row)."""
    if isinstance(step, TextStep):
        return _demote_headings(step.markdown)
    if isinstance(step, DemoStep):
        run = f"lambdalab sim {step.scenario}" if step.scenario else f"lambdalab sim {step.scenario_file}"
        lines = [step.intro, f"Run it: `{run}`", "What to watch:", *(f"- {w}" for w in step.watch)]
        for i, v in enumerate(step.try_, 1):
            lines += [f"**Try this ({i}):** {v.change}", f"- Predict first: {v.predict}", f"- What happens: {v.answer}"]
        return "\n\n".join(lines)
    if isinstance(step, QuizStep):
        return (
            f"{len(step.questions)} questions; {step.pass_percent}% to pass. Take it with `lambdalab quiz {lesson.id}`."
        )
    if isinstance(step, ExerciseStep):
        return f"Exercise `{step.exercise}`: start it with `lambdalab start`, then `lambdalab check {step.exercise}`."
    raise TypeError(f"unknown step {step!r}")


def _demote_headings(markdown: str) -> str:
    """A page's own headings sit below the step's heading (## Step n); code blocks are left alone."""
    out, fence = [], None
    for line in markdown.splitlines():
        marker = line.lstrip()[:3]
        if marker in ("```", "~~~"):
            fence = None if fence == marker else fence or marker
        elif fence is None and line.startswith("#"):
            line = _HEADING_MARKS.sub(lambda m: "#" * min(len(m.group(1)) + 2, 6) + " ", line)
        out.append(line)
    return "\n".join(out)


def style(markdown: str) -> str:
    """Markdown for a terminal: bold headings, highlighted code, links spelled out. No Textual, no rich."""
    out: list[str] = []
    previous = ""
    for block in blocks(markdown):
        joined = block.kind == previous and block.kind in ("list_item", "table_row")
        if out and not joined:
            out.append("")
        previous = block.kind
        if block.kind == "heading":
            out.append(f"{BOLD}{UNDERLINE if block.level <= 2 else ''}{_inline(block.text)}{RESET}")
        elif block.kind == "code":
            out.append(_code(block.text, block.language))
        elif block.kind == "rule":
            out.append(DIM + "-" * 40 + RESET)
        elif block.kind == "table_row":
            out.append("  ".join(_inline(cell.strip()) for cell in block.text.strip("|").split("|")))
        else:
            out.append(_inline(block.text))
    return "\n".join(out) + "\n"


def _inline(text: str) -> str:
    def link(match: re.Match) -> str:
        label, target = match.group(1), match.group(2)
        if target.startswith(LESSON_LINK):
            return f"{label} (lambdalab read {target[len(LESSON_LINK) :].partition('#')[0]})"
        return f"{label} ({target})" if target != label else target

    text = LINK.sub(link, text)
    text = _INLINE_CODE.sub(lambda m: f"{CODE}{m.group(1)}{RESET}", text)
    text = _STRONG.sub(lambda m: f"{BOLD}{m.group(1)}{RESET}", text)
    return _EMPHASIS.sub(lambda m: f"{ITALIC}{m.group(1)}{RESET}", text)


def _code(code: str, language: str) -> str:
    try:
        lexer = get_lexer_by_name(language) if language else TextLexer()
    except ClassNotFound:
        lexer = TextLexer()
    coloured = highlight(code, lexer, TerminalFormatter()).rstrip("\n")
    return "\n".join("    " + line for line in coloured.splitlines())
