"""One lesson, one step a page: contents on the left (folded away on narrow terminals), the step on the right."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.events import Resize
from textual.geometry import Size
from textual.screen import Screen
from textual.visual import visualize
from textual.widgets import Footer, Header, Markdown, OptionList
from textual.widgets._markdown import MarkdownTable, MarkdownTableCellContents, MarkdownTableContent  # not exported
from textual.widgets.markdown import MarkdownFence
from textual.widgets.option_list import Option

from lambdalab import content
from lambdalab.course.markdown import LESSON_LINK
from lambdalab.course.model import DemoStep, ExerciseStep, Lesson, QuizStep, Step, TextStep
from lambdalab.course.plain_text import step_markdown
from lambdalab.tui import glyphs
from lambdalab.tui.screens.course_map import hanging_row
from lambdalab.tui.widgets.quiz_view import QuizView

if TYPE_CHECKING:
    from textual import getters
    from textual.css.styles import RulesMap

    from lambdalab.tui.app import LambdalabApp

STEP_KIND = {TextStep: "page", DemoStep: "demo", QuizStep: "quiz", ExerciseStep: "exercise"}
TOC_MIN_WIDTH = 100  # below this many columns the contents take too much of the page: folded until asked for
SIDEWAYS = 8  # columns a wide block moves per key press


class WideTableContent(MarkdownTableContent):
    """A table's grid that is never narrower than its columns' longest words.

    Textual's own grid shrinks to the page and then cuts cells to "Po…"; this one stays wide enough,
    and its WideTable scrolls sideways instead.
    """

    def get_content_width(self, container: Size, viewport: Size) -> int:
        columns = len(self.headers)
        widest = [0] * columns
        for n, cell in enumerate(self.query_children(MarkdownTableCellContents)):
            rules = cast("RulesMap", cell.styles)  # styles are read as a rules mapping: Textual's grid passes them so
            need = visualize(cell, cell.render()).get_minimal_width(rules) + cell.styles.gutter.width
            widest[n % columns] = max(widest[n % columns], need)
        keylines = 2 if self.styles.keyline[0] != "none" else 0  # the frame the grid draws around the table
        return sum(widest) + self.styles.grid_gutter_vertical * (columns - 1) + keylines


class WideTable(MarkdownTable):
    """Markdown's table block with a WideTableContent inside (compose as Textual's own, bar the class)."""

    def compose(self) -> ComposeResult:
        self._headers, self._rows = self._get_headers_and_rows()
        yield WideTableContent(self._headers, self._rows)


class LessonMarkdown(Markdown):
    """A lesson page: tables scroll sideways like code blocks rather than squeeze (see lambdalab.tcss)."""

    BLOCKS = {**Markdown.BLOCKS, "table_open": WideTable}


class LessonScreen(Screen):
    if TYPE_CHECKING:  # self.app typed as lambdalab's app (Textual's idiom); nothing changes at run time
        app = getters.app(LambdalabApp)

    BINDINGS = [
        Binding("n", "next", "Next"),
        Binding("p", "previous", "Previous"),
        Binding("t", "toggle_toc", "Contents"),
        # Priority: the page's own scroll bindings would take the arrows first, with nothing to scroll sideways.
        Binding("right", f"sideways({SIDEWAYS})", "Scroll sideways", priority=True),
        Binding("left", f"sideways({-SIDEWAYS})", "Scroll sideways", show=False, priority=True),
        Binding("o", "open_demo", "Run the demo"),
        Binding("o", "open_exercise", "Open the exercise"),
        Binding("r", "retake", "Retake quiz", show=False),
        Binding("escape", "app.pop_screen", "Course map"),
    ]

    def __init__(self, lesson: Lesson, step_id: str | None = None):
        super().__init__()
        self.lesson = lesson
        self.index = next((i for i, s in enumerate(lesson.steps) if s.id == step_id), 0)

    def compose(self) -> ComposeResult:
        yield Header()
        with Horizontal():
            yield OptionList(id="toc")
            yield VerticalScroll(id="step")
        yield Footer()

    def on_mount(self) -> None:
        self.title = f"{self.lesson.number}. {self.lesson.title}"
        self._draw_toc()
        self.show_step(self.index)

    @property
    def step(self) -> Step:
        return self.lesson.steps[self.index]

    def _draw_toc(self) -> None:
        read = set(self.app.progress["lessons"].get(self.lesson.id, {}).get("read", ()))
        quizzes = self.app.progress["lessons"].get(self.lesson.id, {}).get("quizzes", {})
        toc = self.query_one("#toc", OptionList)
        options = []
        for n, step in enumerate(self.lesson.steps, 1):
            done = step.id in read or bool(quizzes.get(step.id, {}).get("passed"))
            mark = glyphs.DONE if done else " "
            options.append(
                Option(hanging_row(f"{mark} {n:>2}.", f"{step.title} ({STEP_KIND[type(step)]})"), id=step.id)
            )
        toc.set_options(options)
        toc.highlighted = self.index

    def show_step(self, index: int) -> None:
        self.index = index
        step = self.step
        self.sub_title = f"step {index + 1} of {len(self.lesson.steps)}: {step.title}"
        holder = self.query_one("#step", VerticalScroll)
        holder.remove_children()
        if isinstance(step, QuizStep):
            holder.mount(QuizView(self.lesson, step, self.app.course, id="quiz"))
        else:
            text = (
                step.markdown
                if isinstance(step, TextStep)
                else f"## {step.title}\n\n{step_markdown(self.lesson, step)}"
            )
            if isinstance(step, DemoStep):
                text += "\n\n**Press o to run it here, in the simulator.**"
            elif isinstance(step, ExerciseStep):
                text += "\n\n**Press o to open it here: instructions, checks and hints.**"
            holder.mount(LessonMarkdown(text, open_links=False))
            holder.scroll_home(animate=False)
        if isinstance(step, TextStep):
            self.app.mark_read(self.lesson, step.id)
        else:
            self.app.mark_on(self.lesson, step.id)
        self._draw_toc()
        self.refresh_bindings()

    def on_resize(self, event: Resize) -> None:
        """Every width starts from its default: the contents only when there is room for them beside the page."""
        self.query_one("#toc").display = event.size.width >= TOC_MIN_WIDTH
        self.call_after_refresh(self.refresh_bindings)  # blocks that fitted may not any more

    @on(Markdown.TableOfContentsUpdated)
    def _page_drawn(self) -> None:
        self.call_after_refresh(self.refresh_bindings)  # now the page's blocks have widths

    def _wide_blocks(self) -> list[MarkdownFence | WideTable]:
        """Code blocks and tables wider than the page: each scrolls sideways and shows a scrollbar under it."""
        blocks = self.query("MarkdownFence, WideTable")
        return [block for block in blocks if isinstance(block, (MarkdownFence, WideTable)) and block.max_scroll_x]

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "sideways":
            return bool(self._wide_blocks())  # in the footer only when something is cut
        if action == "open_demo":
            return isinstance(self.step, DemoStep)  # shown in the footer only on a demo step
        if action == "open_exercise":
            return isinstance(self.step, ExerciseStep)
        return True

    def action_open_demo(self) -> None:
        step = self.step
        if isinstance(step, DemoStep):
            path = content.shipped_scenarios()[step.scenario] if step.scenario else step.scenario_file
            assert path is not None  # the lesson schema requires a demo's scenario or its scenario_file
            # Paused: the learner reads what to watch and predicts before pressing Space.
            self.app.open_simulator(path, autoplay=False, watch=step.watch, tries=step.try_)

    def action_open_exercise(self) -> None:
        if isinstance(self.step, ExerciseStep):
            self.app.action_exercises(self.step.exercise)

    def action_next(self) -> None:
        if self.index + 1 < len(self.lesson.steps):
            self.show_step(self.index + 1)
        else:
            self.notify("That was the last step of this lesson. Escape goes back to the course map.")

    def action_previous(self) -> None:
        if self.index > 0:
            self.show_step(self.index - 1)

    def action_toggle_toc(self) -> None:
        toc = self.query_one("#toc", OptionList)
        toc.display = not toc.display

    def action_sideways(self, columns: int) -> None:
        """Move every wide block at once, so the keyboard alone reaches the end of long code lines."""
        for block in self._wide_blocks():
            block.scroll_relative(x=columns, animate=False)

    def action_retake(self) -> None:
        quiz = self.query("#quiz").first(QuizView) if self.query("#quiz") else None
        if quiz is not None and quiz.finished:
            quiz.restart()

    @on(OptionList.OptionSelected, "#toc")
    def _jump(self, event: OptionList.OptionSelected) -> None:
        self.show_step(event.option_index)

    @on(QuizView.Finished)
    def _quiz_done(self, event: QuizView.Finished) -> None:
        self.app.record_quiz(self.lesson, self.step.id, event.score, event.total, event.passed, event.missed)
        self._draw_toc()

    @on(QuizView.OpenStep)
    def _reread(self, event: QuizView.OpenStep) -> None:
        """A step that teaches a missed answer opens over this one; Escape comes back to the quiz's result."""
        self._open_place(event.see)

    def _open_place(self, target: str) -> None:
        lesson_id, _, step_id = target.partition("#")
        lesson = self.app.course.find(lesson_id)
        if lesson is not None:
            self.app.open_lesson(lesson, step_id or None)

    @on(Markdown.LinkClicked)
    def _link(self, event: Markdown.LinkClicked) -> None:
        """Links to lessons stay in the app; web links open in the browser."""
        if event.href.startswith(LESSON_LINK):
            self._open_place(event.href[len(LESSON_LINK) :])
        else:
            self.app.open_url(event.href)
