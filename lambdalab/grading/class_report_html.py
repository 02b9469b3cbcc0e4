"""The class report as one self-contained HTML page: inline CSS and SVG, nothing fetched (it opens from a
file, offline, and prints), light and dark. Learner output reaches the page, so every string is escaped."""

from __future__ import annotations

from collections.abc import Sequence
from html import escape

from lambdalab.grading.class_report import NOT_RECORDED, PROGRESS_FOLDER, CheckStats, ClassReport, percent, printable
from lambdalab.tables import cell

TOP_CHECKS = 10
TOP_REASONS = 8
REASON_LIMIT = 300  # characters of a message's first line shown (its count covers the whole line)

STYLE = """
:root { color-scheme: light dark; --fg: #1f2328; --muted: #59636e; --bg: #ffffff; --soft: #f6f8fa;
  --line: #d1d9e0; --bar: #0969da; --track: #dde4eb; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --muted: #9198a1; --bg: #0d1117; --soft: #151b23;
  --line: #3d444d; --bar: #4493f8; --track: #2a313c; } }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg);
  background: var(--bg); max-width: 70rem; margin: 2rem auto; padding: 0 1.25rem; }
h1 { font-size: 1.6rem; margin: 0 0 .5rem; } h2 { font-size: 1.25rem; margin: 2.2rem 0 .6rem;
  border-bottom: 1px solid var(--line); padding-bottom: .2rem; } h3 { font-size: 1rem; margin: 1.4rem 0 .3rem; }
p, li { max-width: 48rem; } .muted, caption { color: var(--muted); }
dl.summary { display: flex; flex-wrap: wrap; gap: .5rem 2rem; margin: 1rem 0; }
dl.summary div { min-width: 8rem; } dt { color: var(--muted); font-size: .85rem; } dd { margin: 0; font-size: 1.3rem; }
nav ul { display: flex; flex-wrap: wrap; gap: .3rem 1.2rem; padding: 0; list-style: none; }
a { color: var(--bar); }
table { border-collapse: collapse; margin: .4rem 0 1rem; }
caption { text-align: left; padding: .2rem 0; caption-side: top; }
th, td { text-align: left; vertical-align: top; padding: .3rem .6rem; border-bottom: 1px solid var(--line); }
thead th { background: var(--soft); font-size: .85rem; }
.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.reason { font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; font-size: .85rem;
  white-space: pre-wrap; overflow-wrap: anywhere; }
svg text { fill: currentColor; font: 12px system-ui, sans-serif; }
.bar { fill: var(--bar); } .track { fill: var(--track); } .axis { stroke: var(--muted); }
svg.meter { vertical-align: middle; margin-right: .4rem; }
.chart { max-width: 100%; height: auto; } .rate { white-space: nowrap; }
.figure { display: flex; flex-wrap: wrap; gap: 1rem 3rem; align-items: flex-start; }
.figure th, .figure td { padding: .1rem .6rem; }
@media print { :root { --fg: #000; --muted: #333; --bg: #fff; --soft: #fff; --line: #999; --bar: #333;
  --track: #ddd; } nav { display: none; } body { margin: 0; max-width: none; font-size: 11pt; }
  table { font-size: 9.5pt; } th, td { padding: .2rem .35rem; } article, tr, svg { break-inside: avoid; }
  h2, h3 { break-after: avoid; } }
"""


class Markup(str):
    """Markup built here: a table cell that is not escaped again."""


def render_html(report: ClassReport) -> str:
    sections = [
        ("scores", "Score distribution", _scores(report)),
        ("exercises", "Exercises", _exercises(report)),
        ("checks", "Checks", _checks(report)),
        ("most-failed", "Most failed checks", _most_failed(report)),
        ("copies", "Copied solutions", _flags(report)),
        ("ungraded", "Could not be graded", _ungraded(report)),
        ("questions", "Questions most missed", _questions(report)),
        ("quizzes", "Quizzes most missed", _quizzes(report)),
        ("hints", "Hints most revealed", _hints(report)),
    ] + (
        [("notes", "Notes", "<ul>" + "".join(f"<li>{escaped(n)}</li>" for n in report.notes) + "</ul>")]
        if report.notes
        else []
    )
    nav = "".join(f'<li><a href="#{key}">{title}</a></li>' for key, title, _ in sections)
    body = "\n".join(
        f'<section id="{key}" aria-labelledby="{key}-h"><h2 id="{key}-h">{title}</h2>\n{html}</section>'
        for key, title, html in sections
    )
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>Class report: {escaped(report.title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        f"<header><h1>Class report: {escaped(report.title)}</h1>\n{_summary(report)}\n"
        f'<nav aria-label="Sections"><ul>{nav}</ul></nav></header>\n<main>\n{body}\n</main>\n'
        "</body>\n</html>\n"
    )


def _summary(report: ClassReport) -> str:
    items = [
        ("Learners", report.learners),
        ("Mean score", percent(report.mean_percent, 100)),
        ("Median score", percent(report.median_percent, 100)),
        ("Could not be graded", len(report.ungraded)),
        ("Copy flags", len(report.flags) if report.flags_checked else "not checked"),
        ("Progress files", report.progress_files),
    ]
    return (
        '<dl class="summary">'
        + "".join(f"<div><dt>{k}</dt><dd>{escaped(cell(v))}</dd></div>" for k, v in items)
        + "</dl>"
    )


def _scores(report: ClassReport) -> str:
    peak, left, bottom, top, slot = max([n for _, n in report.histogram] + [1]), 40, 220, 30, 54
    width = left + len(report.histogram) * slot + 10
    bars = []
    for i, (label, n) in enumerate(report.histogram):
        x, height = left + i * slot, round(170 * n / peak)
        bars.append(
            f'<rect class="bar" x="{x + 6}" y="{bottom - height}" width="{slot - 12}" height="{height}"/>'
            f'<text x="{x + slot // 2}" y="{bottom - height - 6}" text-anchor="middle">{n}</text>'
            f'<text x="{x + slot // 2}" y="{bottom + 18}" text-anchor="middle">{label}</text>'
        )
    described = "; ".join(f"{label}: {n} learner(s)" for label, n in report.histogram)
    chart = (
        f'<svg class="chart" role="img" aria-labelledby="scores-title scores-desc" width="{width}" '
        f'height="{bottom + 30}" viewBox="0 0 {width} {bottom + 30}">'
        f'<title id="scores-title">Learners by score, in bands of ten percent of the maximum</title>'
        f'<desc id="scores-desc">{described}</desc>'
        f'<line class="axis" x1="{left}" y1="{bottom}" x2="{width - 10}" y2="{bottom}"/>'
        f'<text x="{left - 6}" y="{top}" text-anchor="end">{peak}</text>'
        f'<text x="{left - 6}" y="{bottom}" text-anchor="end">0</text>{"".join(bars)}</svg>'
    )
    table = html_table("Learners per score band", ["score", "learners"], [list(row) for row in report.histogram])
    return f'<div class="figure">{chart}{table}</div>'


def _exercises(report: ClassReport) -> str:
    if not report.exercises:
        return "<p>grades.json holds no exercise results.</p>"
    row, label = 26, 230
    rows = []
    for i, e in enumerate(report.exercises):
        y, rate = 10 + i * row, e.rate or 0
        text = f"{percent(e.rate)} ({e.passed} of {e.graded})" if e.rate is not None else "not graded"
        rows.append(
            f'<text x="{label - 8}" y="{y + 14}" text-anchor="end">{escaped(e.id)}</text>'
            f'<rect class="track" x="{label}" y="{y + 2}" width="300" height="16"/>'
            f'<rect class="bar" x="{label}" y="{y + 2}" width="{300 * rate:.1f}" height="16"/>'
            f'<text x="{label + 308}" y="{y + 14}">{text}</text>'
        )
    height = 20 + len(report.exercises) * row
    chart = (
        f'<svg class="chart" role="img" aria-labelledby="rates-title" width="680" height="{height}" '
        f'viewBox="0 0 680 {height}"><title id="rates-title">Share of graded learners who passed every check, '
        f"per exercise (figures in the table below)</title>{''.join(rows)}</svg>"
    )
    return chart + html_table(
        "Per exercise: a learner passes when every check passes",
        ["exercise", "graded", "passed", "pass rate", "not graded", "mean score"],
        [
            [
                e.id,
                e.graded,
                e.passed,
                rate_cell(e.rate),
                e.not_graded,
                "-" if e.mean_score is None else f"{e.mean_score:.1f} of {e.max_score:g}",
            ]
            for e in report.exercises
        ],
    )


def _checks(report: ClassReport) -> str:
    return html_table(
        "Per check, in course order; errors are checks that could not run, not run were never reached",
        ["check", "exercise", "hidden", "passed", "failed", "errors", "not run", "pass rate"],
        [
            [
                c.name,
                c.exercise,
                "hidden" if c.hidden else "",
                c.passed,
                c.failed,
                c.errors,
                c.not_run,
                rate_cell(c.rate),
            ]
            for e in report.exercises
            for c in e.checks
        ],
    )


def _most_failed(report: ClassReport) -> str:
    if not report.most_failed:
        return "<p>Every check passed for every learner who ran it.</p>"
    parts = [
        f"<p>The {min(TOP_CHECKS, len(report.most_failed))} checks failed by the most learners, each with its "
        "failure messages grouped by their first line.</p>"
    ]
    for c in report.most_failed[:TOP_CHECKS]:
        parts.append(
            f"<article><h3>{escaped(c.exercise)}: {escaped(c.name)}{' (hidden)' if c.hidden else ''}</h3>"
            f"<p>Failed by {c.missed} of {c.ran} learner(s) ({c.failed} failed, {c.errors} could not run).</p>"
            + _reasons(c)
            + "</article>"
        )
    return "\n".join(parts)


def _reasons(check: CheckStats) -> str:
    shown = check.reasons[:TOP_REASONS]
    rows = [[n, Markup(f'<span class="reason">{escaped(_shorten(reason))}</span>')] for reason, n in shown]
    rest = check.reasons[TOP_REASONS:]
    more = f'<p class="muted">And {len(rest)} more reason(s), {sum(n for _, n in rest)} learner(s).</p>' if rest else ""
    return (
        html_table(
            f"Failure reasons for {check.name}", ["learners", "first line of the message"], rows, row_headers=False
        )
        + more
    )


def _flags(report: ClassReport) -> str:
    if not report.flags_checked:
        return "<p>grades.json carries no copy checks (no exercise has <code>flags</code>).</p>"
    if not report.flags:
        return "<p>No copied solution was flagged.</p>"
    return html_table(
        f"{len(report.flags)} flag(s): a file identical to, or the same program as, another's",
        ["learner", "exercise", "file", "kind", "how", "with"],
        [[f.learner, f.exercise, f.file, f.kind, f.how, f.with_] for f in report.flags],
    )


def _ungraded(report: ClassReport) -> str:
    if not report.ungraded:
        return "<p>Every learner was graded.</p>"
    return (
        "<ul>"
        + "".join(f"<li><strong>{escaped(name)}</strong>: {escaped(why)}</li>" for name, why in report.ungraded)
        + "</ul>"
    )


def _quizzes(report: ClassReport) -> str:
    if not report.progress_files:
        return _no_progress()
    if not report.quizzes:
        return "<p>No learner has taken a quiz.</p>"
    return html_table(
        f"From {report.progress_files} progress file(s): questions missed on each learner's best attempt",
        ["lesson", "quiz", "learners", "passed", "questions missed", "questions asked", "miss rate", "attempts each"],
        [
            [q.lesson, q.quiz, q.learners, q.passed, q.missed, q.asked, percent(q.miss_rate), q.attempts / q.learners]
            for q in report.quizzes
        ],
    )


def _questions(report: ClassReport) -> str:
    if not report.progress_files:
        return _no_progress()
    if not report.missed_recorded:
        return f"<p>{NOT_RECORDED}</p>"
    if not report.questions:
        return "<p>No learner has missed a question.</p>"
    return html_table(
        "Most missed first: learners who got each question wrong on their last attempt, of the learners "
        "who took its quiz with a lambdalab that records missed questions, and the times it was missed "
        "over all their attempts",
        ["lesson", "quiz", "question", "missed on last attempt", "of learners", "times missed in all"],
        [[q.lesson, q.quiz, q.shown, q.missed, q.learners, q.missed_ever] for q in report.questions],
    )


def _hints(report: ClassReport) -> str:
    if not report.progress_files:
        return _no_progress()
    if not report.hints:
        return "<p>No learner has revealed a hint.</p>"
    return html_table(
        'Hints revealed per exercise, by the learners who revealed any; "-" where the installed '
        "course does not know the exercise",
        ["exercise", "learners", "hints revealed", "hints in ladder", "revealed all"],
        [[h.exercise, h.learners, h.revealed, h.ladder, h.whole_ladder] for h in report.hints],
    )


def _no_progress() -> str:
    return (
        f"<p>No progress files. Collect each learner's <code>progress.json</code> as "
        f"<code>{PROGRESS_FOLDER}/&lt;learner&gt;.json</code> beside grades.json to see quizzes and hints.</p>"
    )


def html_table(caption: str, headers: list[str], rows: Sequence[Sequence[object]], row_headers: bool = True) -> str:
    """A table with a caption and column headers; the first cell of a row heads it; numbers to the right."""
    numeric = [
        ' class="n"' if rows and all(isinstance(r[i], (int, float)) or r[i] is None for r in rows) else ""
        for i in range(len(headers))
    ]
    head = "".join(f'<th scope="col"{numeric[i]}>{escaped(h)}</th>' for i, h in enumerate(headers))
    body = []
    for r in rows:
        cells = []
        for i, value in enumerate(r):
            tag = "th" if i == 0 and row_headers else "td"
            scope = ' scope="row"' if tag == "th" else ""
            text = value if isinstance(value, Markup) else escaped(cell(value))
            cells.append(f"<{tag}{scope}{numeric[i]}>{text}</{tag}>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    rows_html = "".join(body)
    return (
        f"<table><caption>{escaped(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{rows_html}</tbody></table>"
    )


def rate_cell(rate: float | None) -> Markup:
    """A percentage with a small bar; the bar repeats the number, so it is hidden from screen readers."""
    if rate is None:
        return Markup("-")
    return Markup(
        f'<span class="rate"><svg class="meter" width="60" height="10" viewBox="0 0 60 10" '
        f'aria-hidden="true" focusable="false">'
        f'<rect class="track" width="60" height="10"/><rect class="bar" width="{60 * rate:.1f}" height="10"/>'
        f"</svg>{percent(rate)}</span>"
    )


def _shorten(text: str) -> str:
    return text if len(text) <= REASON_LIMIT else text[: REASON_LIMIT - 1] + "…"


def escaped(text: str) -> str:
    return escape(printable(text))
