"""A quiz, one question at a time: answer with number keys or arrows, feedback in words, score recorded.

Grading is lambdalab.course.quiz's, the same as plain mode's; this widget only
collects the answer. Single choice and true/false answer at once; multiple
choice toggles with the number keys (or space) and submits with Enter;
ordering takes the items one by one in order (Backspace undoes); numeric takes
a number in a text box. Choices are numbered, and the feedback names them by
number too; once answered, the choices show which was yours and which was right.
A quiz whose questions name their topic ends with the score per topic and a
list of the steps that teach what was missed: Enter asks the screen to open one.
"""

from __future__ import annotations

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from lambdalab.course import quiz
from lambdalab.course.loader import Course
from lambdalab.course.model import Lesson, Question, QuizStep
from lambdalab.tui import glyphs


class Feedback(Static, can_focus=True):
    """Focused once a question is answered: the arrow keys then scroll the page to read the whole explanation."""


class Choices(OptionList):
    """The question's choices. Enter here is not the list's own "select": it goes up to the quiz, the way the
    digits typed before it went, so the quiz sees keys in the order they were typed. (Enter as a priority
    binding ran as soon as it arrived, ahead of digits still on their way from the focused widget: keys that
    arrive together, as a browser's terminal sends them when the server is busy, lost the choices before it.)"""

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        return action != "select" and super().check_action(action, parameters)


class QuizView(Vertical, can_focus=False):
    BINDINGS = [
        *(Binding(str(n), f"choose({n - 1})", f"choice {n}", show=False) for n in range(1, 9)),
        Binding("space", "toggle_choice", "Toggle", show=False),
        Binding("backspace", "undo", "Undo", show=False),
        Binding("enter", "submit", "Answer / next"),  # not priority: see Choices
        Binding("enter", "open_step", "Open the step", priority=True),
    ]

    class Finished(Message):
        """The quiz is over; `missed` holds the ids of the questions answered wrongly, in quiz order."""

        def __init__(self, score: int, total: int, passed: bool, missed: tuple[str, ...]):
            super().__init__()
            self.score, self.total, self.passed, self.missed = score, total, passed, missed

    class OpenStep(Message):
        """The learner asked to re-read the step `see` ("lesson-id#step-id") that teaches a missed answer."""

        def __init__(self, see: str):
            super().__init__()
            self.see = see

    def __init__(self, lesson: Lesson, step: QuizStep, course: Course | None = None, **kwargs):
        super().__init__(**kwargs)
        self.lesson = lesson
        self.step = step
        self.course = course  # to name the steps a `see` links to; without it the links are shown as written
        self.index = 0
        self.score = 0
        self.missed: list[str] = []  # ids of the questions answered wrongly so far
        self.picked: list[int] = []  # multiple: chosen options; ordering: items in the order chosen
        self.answered = False  # feedback is showing; Enter goes on
        self.finished = False

    def compose(self) -> ComposeResult:
        yield Static(id="quiz-header")
        yield Static(id="quiz-prompt")
        yield Choices(id="quiz-choices")
        yield Input(placeholder="Type a number, then Enter", id="quiz-number")
        yield Static(id="quiz-hint")
        yield Feedback(id="quiz-feedback")
        yield Static(id="quiz-topics")
        yield OptionList(id="quiz-reread")

    def on_mount(self) -> None:
        self._show_result_lists(False)
        self._show_question()

    @property
    def question(self) -> Question:
        return self.step.questions[self.index]

    @property
    def shown(self) -> list[str]:
        return quiz.shown_choices(self.question, self.lesson.id)

    # --- drawing --------------------------------------------------------------------------------

    def _show_question(self) -> None:
        q = self.question
        self.picked, self.answered = [], False
        myth = "myth or fact, " if q.myth else ""
        self.query_one("#quiz-header", Static).update(
            f"Question {self.index + 1} of {len(self.step.questions)} ({myth}{quiz.TYPE_NAMES[q.type]})"
            f"    score {self.score}"
        )
        self.query_one("#quiz-prompt", Static).update(_plain(q.prompt))
        choices = self.query_one("#quiz-choices", OptionList)
        number = self.query_one("#quiz-number", Input)
        numeric = q.type == "numeric"
        choices.display, number.display = not numeric, numeric
        number.value = ""
        self._draw_choices()
        self.query_one("#quiz-feedback", Static).update("")
        self.query_one("#quiz-feedback", Static).display = True
        self.query_one("#quiz-hint", Static).update(_plain(self._hint()))
        (number if numeric else choices).focus(scroll_visible=False)
        choices.highlighted = 0 if not numeric else None
        self.call_after_refresh(
            self.scroll_visible, top=True, animate=False
        )  # from its header, wherever the last one was read

    def _draw_choices(self) -> None:
        choices = self.query_one("#quiz-choices", OptionList)
        keep = choices.highlighted
        marks = []
        for i, text in enumerate(self.shown):
            mark = ""
            if self.question.type == "multiple":
                mark = "[x] " if i in self.picked else "[ ] "
            elif self.question.type == "ordering" and i in self.picked:
                mark = f"({self.picked.index(i) + 1}) "
            after = self._verdict_on(i) if self.answered else Content()
            marks.append(Option(Content.assemble(f"{quiz.NUMBERS[i]}. {mark}{text}", after)))
        choices.set_options(marks)
        if keep is not None and marks:
            choices.highlighted = min(keep, len(marks) - 1)

    def _verdict_on(self, index: int) -> Content:
        """What the feedback says about one choice, on a line of its own under it: yours or not, right or wrong."""
        q = self.question
        if q.type == "ordering":
            place = q.items.index(self.shown[index]) + 1
            if self.picked.index(index) + 1 == place:
                return Content.styled("\n   ✔ right place", "bold $text-success")
            return Content.styled(f"\n   ✘ belongs at ({place})", "bold $text-warning")
        right = (
            index == (0 if q.answer else 1)
            if q.type == "true_false"
            else quiz.shown_options(q, self.shown)[index].correct
        )
        if index not in self.picked:
            return Content.styled("\n   ✔ right answer", "bold $text-success") if right else Content()
        if right:
            return Content.styled("\n   ▶ your answer ✔ right", "bold $text-success")
        return Content.styled("\n   ▶ your answer ✘ wrong", "bold $text-warning")

    def _hint(self) -> str:
        kind = self.question.type
        if kind in ("single", "true_false"):
            return "Press a number, or pick with the arrows and Enter."
        if kind == "multiple":
            return "Press numbers (or Space) to toggle each answer you choose, then Enter."
        if kind == "ordering":
            return (
                f"Press the items' numbers in the right order ({len(self.picked)} of {len(self.shown)}); "
                "Backspace undoes."
            )
        return "Type the number and press Enter."

    # --- answering ------------------------------------------------------------------------------

    def action_choose(self, index: int) -> None:
        if self.answered or self.finished or self.question.type == "numeric" or index >= len(self.shown):
            return
        kind = self.question.type
        if kind in ("single", "true_false"):
            self._grade([index])
        elif kind == "multiple":
            self.picked = [i for i in self.picked if i != index] if index in self.picked else [*self.picked, index]
            self._draw_choices()
        elif index not in self.picked:  # ordering
            self.picked.append(index)
            self._draw_choices()
            self.query_one("#quiz-hint", Static).update(_plain(self._hint()))
            if len(self.picked) == len(self.shown):
                self._grade(self.picked)

    def action_toggle_choice(self) -> None:  # not action_toggle: that is every DOMNode's toggle(attribute)
        highlighted = self.query_one("#quiz-choices", OptionList).highlighted
        if highlighted is not None and self.question.type == "multiple":
            self.action_choose(highlighted)

    def action_undo(self) -> None:
        if self.question.type == "ordering" and self.picked and not self.answered:
            self.picked.pop()
            self._draw_choices()
            self.query_one("#quiz-hint", Static).update(_plain(self._hint()))

    def check_action(self, action: str, parameters: tuple) -> bool | None:
        if action == "submit":
            return not self.finished
        if action == "open_step":
            return self.finished and self.query_one("#quiz-reread", OptionList).option_count > 0
        return True

    def action_open_step(self) -> None:
        option = self.query_one("#quiz-reread", OptionList).highlighted_option
        if option is not None:
            self._open_step_of(option.id)

    @on(OptionList.OptionHighlighted, "#quiz-reread")
    def _reread_moved(self, event: OptionList.OptionHighlighted) -> None:
        """The first move in the list brings all of it into view (the result above it stays in view until then)."""
        event.stop()
        if self.finished and event.option_index:
            event.option_list.scroll_visible(animate=False)

    @on(OptionList.OptionSelected, "#quiz-reread")
    def _reread_clicked(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self._open_step_of(event.option.id)

    def _open_step_of(self, question_id: str | None) -> None:
        """The list's rows are the questions missed (two may share a step); each opens its question's `see`."""
        question = next((q for q in self.step.questions if q.id == question_id), None)
        if question is not None and question.see:
            self.post_message(self.OpenStep(question.see))

    def action_submit(self) -> None:
        if self.finished:
            return
        if self.answered:
            self._next()
            return
        kind = self.question.type
        if kind == "numeric":
            answer = quiz.parse(self.question, [], self.query_one("#quiz-number", Input).value)
            if isinstance(answer, str):
                self.query_one("#quiz-feedback", Static).update(_plain(answer))
                return
            self._grade(answer)
        elif kind == "multiple":
            if not self.picked:
                self.query_one("#quiz-feedback", Static).update("Choose at least one answer first.")
                return
            self._grade(self.picked)
        elif kind in ("single", "true_false"):
            highlighted = self.query_one("#quiz-choices", OptionList).highlighted
            if highlighted is not None:
                self._grade([highlighted])
        elif kind == "ordering":
            highlighted = self.query_one("#quiz-choices", OptionList).highlighted
            if highlighted is not None:
                self.action_choose(highlighted)

    @on(OptionList.OptionSelected, "#quiz-choices")
    def _selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()  # a click only moves the highlight: Enter answers (action_submit)

    @on(Input.Submitted, "#quiz-number")
    def _number(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_submit()

    def _grade(self, answer: list[int] | float) -> None:
        feedback = quiz.grade(self.question, self.shown, answer, labels=quiz.NUMBERS)
        self.score += feedback.correct
        if not feedback.correct:
            self.missed.append(self.question.id)
        self.answered = True
        if isinstance(answer, list):
            self.picked = answer
            self._draw_choices()
        self.query_one("#quiz-choices", OptionList).highlighted = None  # the marks tell which was yours, not the cursor
        self.query_one("#quiz-feedback").focus(scroll_visible=False)  # keep the marked choices in view
        verdict = glyphs.RIGHT if feedback.correct else glyphs.WRONG
        last = self.index + 1 == len(self.step.questions)
        self.query_one("#quiz-feedback", Static).update(
            _plain(f"{verdict.upper()}: {feedback.detail}\n\n" + "\n\n".join(feedback.lines[1:]))
        )
        self.query_one("#quiz-feedback", Static).set_class(feedback.correct, "right")
        self.query_one("#quiz-feedback", Static).set_class(not feedback.correct, "wrong")
        self.query_one("#quiz-hint", Static).update(
            "Press Enter for " + ("your score." if last else "the next question.")
        )

    def _next(self) -> None:
        if self.index + 1 < len(self.step.questions):
            self.index += 1
            self._show_question()
            return
        self.finished = True
        total = len(self.step.questions)
        passed = self.score * 100 >= self.step.pass_percent * total
        self.query_one("#quiz-header", Static).update(f"Quiz finished: {self.score} of {total}")
        self.query_one("#quiz-prompt", Static).update(
            f"{glyphs.DONE + ' Passed' if passed else 'Not passed yet'}: {self.score}/{total} "
            f"({round(100 * self.score / total)}%, {self.step.pass_percent}% needed). Your score is saved."
        )
        self.query_one("#quiz-choices", OptionList).display = False
        self.query_one("#quiz-number", Input).display = False
        self.query_one("#quiz-feedback", Static).display = False  # nothing to say: the result speaks
        reread = self._draw_topics()
        self.query_one("#quiz-hint", Static).update(
            ("Press Enter to open the highlighted step, n" if reread else "Press n")
            + " for the next step, or r to take the quiz again."
        )
        self.refresh_bindings()
        self.post_message(self.Finished(self.score, total, passed, tuple(self.missed)))

    def _draw_topics(self) -> bool:
        """The score per topic and the steps to re-read, when the quiz has them; True if there is a step to open."""
        topics = quiz.topic_scores(self.step.questions, self.missed)
        wrong = [q for q in self.step.questions if q.id in self.missed and q.see]
        lines: list[Content] = []
        if topics:
            width = max(len(t.title) for t in topics)
            lines.append(Content.styled("By topic (right/asked)", "bold"))
            for t in topics:
                mark = (
                    Content.styled(glyphs.DONE, "$text-success")
                    if t.right == t.asked
                    else Content.styled(glyphs.MISSED, "$text-warning")
                )
                lines.append(Content.assemble("  ", mark, f" {t.title.ljust(width)}  {t.right}/{t.asked}"))
        if wrong:
            lines += [Content(""), Content.styled(f"To re-read, for the {len(wrong)} question(s) you missed", "bold")]
        self.query_one("#quiz-topics", Static).update(Content("\n").join(lines))
        reread = self.query_one("#quiz-reread", OptionList)
        numbers = {q.id: n for n, q in enumerate(self.step.questions, 1)}
        reread.set_options([Option(_plain(self._step_words(numbers[q.id], q)), id=q.id) for q in wrong])
        self._show_result_lists(True, bool(lines), bool(wrong))
        if wrong:
            reread.highlighted = 0
            reread.focus(scroll_visible=False)
        return bool(wrong)

    def _step_words(self, number: int, q: Question) -> str:
        ref = quiz.resolve_see(self.course, q.see) if self.course is not None else None
        topic = f" ({quiz.topic_title(q.topic)})" if q.topic else ""
        return f"Question {number}{topic}: {ref.words if ref else q.see}"

    def _show_result_lists(self, finished: bool, topics: bool = False, reread: bool = False) -> None:
        self.query_one("#quiz-topics", Static).display = finished and topics
        self.query_one("#quiz-reread", OptionList).display = finished and reread

    def restart(self) -> None:
        self.index, self.score, self.missed, self.finished = 0, 0, [], False
        self._show_result_lists(False)
        self.query_one("#quiz-reread", OptionList).clear_options()
        self.refresh_bindings()
        self._show_question()


def _plain(text: str) -> Content:
    """Text shown as written: square brackets in questions are not markup."""
    return Content(text)
