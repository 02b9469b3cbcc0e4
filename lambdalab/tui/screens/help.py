"""F1: the keys of every screen and how the app works, in words."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

HELP = """\
# lambdalab help

lambdalab teaches how AWS Lambda behaves: read a lesson, answer its quiz, and
watch the behaviour happen on the built-in engine.

## Everywhere

| key | what it does |
|---|---|
| F1 | this help (Escape closes it) |
| F2 | the course map |
| F3 | your progress per topic |
| Ctrl+P | the command palette: open a lesson, a screen, change the theme |
| Ctrl+Q | quit |

## Course map

Up and Down choose a lesson, Enter opens it, / searches, r resumes where you left off.
Each lesson shows ✔ when done, ◐ when started and ○ when not started.

## A lesson

n and p go to the next and previous step, t shows or hides the contents, Escape goes back.

## A quiz

Press a choice's number to answer (or use the arrows and Enter). For several answers,
press each number (or Space) and then Enter. To put items in order, press their numbers
in order; Backspace undoes. Type numbers into the box. Every answer is explained, and
your score is saved when the quiz ends; r takes it again. The course review also scores
each topic and lists the questions you missed: Enter opens the step that teaches one,
and Escape comes back to your result.

## The simulator (F4, or o on a lesson's demo)

| key | what it does |
|---|---|
| Space | play or pause |
| . | run one engine event |
| + and - | faster and slower (0.1x to 1000x of virtual time) |
| e | run to the end |
| r | restart the run |
| k | knobs: reserved and provisioned concurrency, memory, timeout, retries, event age, traffic rate |
| c | compare this run with the one before the knobs changed |
| f | show the next function in the chart |
| Left and Right (Shift: ten columns), or a click | put the time cursor on the views: \
the inspector tells what happened there |
| t, y, s | jump to the next throttle, retry, cold start |
| l | back to the live edge (the views follow the run) |
| [ and ] | zoom the window in and out (10 s to a week) |
| v | the next views, when the screen shows fewer than all |
| Up and Down | choose an environment: the title above the timeline names its request |

The timeline shows each environment: ▒ init, █ busy, · idle, ❄ where a cold start began,
blank once shut down. The chart draws the limits as lines and the throttles of each moment as
their own series. Each view's key line says what its glyphs mean.

## Exercises (F5, or o on a lesson's exercise step)

Your files live in a workspace (`lambdalab start` makes one; s makes `./lambdalab-exercises` here).
c checks the exercise (the same checks as `lambdalab check` and as your instructor's grading), h shows
the next hint, e opens the file in $EDITOR and checks when you come back, i opens the exercise's files in
the app's own editor (so does e when $EDITOR is not set, and in a browser), w re-checks on every save.
Hidden checks show only their name and whether they pass.

In the app's editor: Ctrl+S saves the file and checks the exercise, Ctrl+O shows the next file (or click
its tab), Esc closes it, asking first when a file has unsaved changes (● on its tab and status line).

## Themes

Ctrl+P, then "theme": lambdalab (default), lambdalab-high-contrast and
lambdalab-colour-blind (blue and orange, never red against green). Every state
also has a glyph and a word, so colour is never the only signal.

Plain text works too: `lambdalab read LESSON` and `lambdalab quiz LESSON`.
"""


class HelpScreen(ModalScreen):
    BINDINGS = [Binding("escape,f1", "app.pop_screen", "Close help")]

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="help"):
            yield Markdown(HELP)
