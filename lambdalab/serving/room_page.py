"""The room (room_view.py) drawn for the instructor: as a web page, live (`lambdalab serve`'s instructor page
reloads itself every few seconds) or saved (`lambdalab classroom report DATA`), and as text for a terminal.
The page is the class report's kind of page (its style and tables): one file, nothing fetched. Names and check
names come from learners' files, so every string is escaped."""

from __future__ import annotations

from lambdalab.grading.class_report_html import STYLE, Markup, escaped, html_table, rate_cell
from lambdalab.serving.room_view import LearnerRow, RoomView

REFRESH_S = 3
ROOM_STYLE = ".on { color: #1a7f37; } .off { color: var(--muted); } td { max-width: 28rem; }"


def render_page(view: RoomView, title: str, refresh_s: int | None = REFRESH_S) -> str:
    """The whole page; with `refresh_s`, one that loads itself again that often (the live view)."""
    refresh = f'<meta http-equiv="refresh" content="{refresh_s}">\n' if refresh_s else ""
    live = f"refreshed every {refresh_s} s" if refresh_s else "saved"
    notes = "".join(f"<li>{escaped(note)}</li>" for note in view.notes)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f'<meta name="viewport" content="width=device-width, initial-scale=1">\n{refresh}'
        f"<title>{escaped(title)}</title>\n<style>{STYLE}{ROOM_STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>{escaped(title)}</h1>\n"
        f'<dl class="summary"><div><dt>Learners</dt><dd>{len(view.learners)}</dd></div>'
        f"<div><dt>Connected now</dt><dd>{view.connected}</dd></div>"
        f"<div><dt>Exercises passed</dt><dd>{sum(len(r.passed) for r in view.learners)}</dd></div></dl>\n"
        f'<p class="muted">{live}</p></header>\n<main>\n'
        f'<section id="learners"><h2>Learners</h2>\n{_learners(view)}</section>\n'
        f'<section id="exercises"><h2>Pass rates</h2>\n{_rates(view)}</section>\n'
        + (f'<section id="notes"><h2>Notes</h2><ul>{notes}</ul></section>\n' if notes else "")
        + "</main>\n</body>\n</html>\n"
    )


def _learners(view: RoomView) -> str:
    if not view.learners:
        return '<p class="muted">Nobody has joined yet: give the room its URL.</p>'
    numbers = view.numbers()
    rows = [
        (
            Markup(
                f'{escaped(row.name)} <span class="{"on" if row.connected else "off"}">'
                f"{'● connected' if row.connected else '○ away'}</span>"
            ),
            " · ".join(part for part in (row.lesson, row.step) if part) or "-",
            _quizzes(row) or "-",
            f"{len(row.passed)}: " + ", ".join(f"{numbers[e]:02d}" for e in row.passed) if row.passed else "0",
            "; ".join(_stuck(numbers[s.exercise], s.check, s.attempts) for s in row.stuck) or "-",
        )
        for row in view.learners
    ]
    headers = ["Learner", "On (lesson · step)", "Quizzes (best)", "Exercises passed", "Stuck on"]
    return html_table("Each learner, by name", headers, rows)


def _rates(view: RoomView) -> str:
    """A row for each exercise someone has checked; the others (a workshop covers a few of the 35) named in one
    line below, so that the table stays the size of the workshop."""
    joined = len(view.learners)
    checked = [rate for rate in view.exercises if rate.attempted]
    untouched = [f"{rate.number:02d}" for rate in view.exercises if not rate.attempted]
    rows = [
        (
            f"{rate.number:02d} {rate.title}",
            rate.attempted,
            rate.passed,
            rate_cell(rate.passed / joined if joined else None),
        )
        for rate in checked
    ]
    table = (
        html_table(
            "Each exercise checked so far: learners who checked it, passed it, and the share of the room that passed",
            ["Exercise", "Checked", "Passed", "Of the room"],
            rows,
        )
        if rows
        else '<p class="muted">No exercise checked yet.</p>'
    )
    rest = f'<p class="muted">Not checked by anyone yet: {", ".join(untouched)}.</p>' if checked and untouched else ""
    return table + rest


def _quizzes(row: LearnerRow) -> str:
    return ", ".join(f"L{q.lesson} {q.best}/{q.total}{' ✓' if q.passed else ''}" for q in row.quizzes)


def _stuck(number: int, check: str, attempts: int) -> str:
    tries = f" ({attempts} tries)" if attempts > 1 else ""
    return f"{number:02d}: {check or 'not passed'}{tries}"


def _fit(text: str, width: int) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"


def render_text(view: RoomView, width: int = 100) -> str:
    """The room for a terminal: one line per learner, then the pass rates."""
    numbers = view.numbers()
    lines = [f"{len(view.learners)} learners, {view.connected} connected"]
    for row in view.learners:
        place = " · ".join(p for p in (row.lesson, row.step) if p) or "not started"
        lines.append(_fit(f"{row.name}  {place}", width))
        details = [f"passed {len(row.passed)}"] + ([_quizzes(row)] if row.quizzes else [])
        details += [f"stuck {_stuck(numbers[s.exercise], s.check, s.attempts)}" for s in row.stuck]
        lines.append(_fit("    " + "; ".join(details), width))
    joined = len(view.learners)
    checked = [rate for rate in view.exercises if rate.attempted]
    lines.append("pass rates:" if checked else "pass rates: no exercise checked yet")
    for rate in checked:
        share = f"{100 * rate.passed / joined:.0f}%"  # someone checked it: the room has joined
        lines.append(_fit(f"  {rate.number:02d} {rate.title}: {rate.passed}/{joined} passed ({share})", width))
    lines += [f"note: {note}" for note in view.notes]
    return "\n".join(lines) + "\n"
