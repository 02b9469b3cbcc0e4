"""The instructor's view of a room (issue 19, item 5), read from learners' progress files as the app writes them:
who is where, quiz scores, exercises passed, the check each is stuck on, the class's pass rates; a damaged file is
a note, not an error; what a learner wrote reaches the page escaped. `lambdalab classroom report DATA` shows the
same afterwards."""

from __future__ import annotations

import json

from conftest import run_cli

from lambdalab.course.loader import load_course
from lambdalab.course.progress import ProgressStore
from lambdalab.grading.exercises import load_catalogue
from lambdalab.grading.grader import grade_exercise
from lambdalab.serving.room_page import render_page, render_text
from lambdalab.serving.room_view import read_room

COURSE = load_course()
EXERCISES = load_catalogue().exercises
LESSON = COURSE.lessons[2]
QUIZ = LESSON.quizzes[0]
FIRST, SECOND = EXERCISES[0], EXERCISES[1]


def learner(data, name: str) -> ProgressStore:
    folder = data / "learners" / name
    folder.mkdir(parents=True)
    return ProgressStore(folder)


def a_room(data):
    ada = learner(data, "ada")
    ada.mark_read(LESSON.id, [LESSON.steps[0].id])
    ada.record_quiz(LESSON.id, QUIZ.id, 3, len(QUIZ.questions), False, ["q1"])
    ada.record_quiz(LESSON.id, QUIZ.id, len(QUIZ.questions), len(QUIZ.questions), True, [])
    bob = learner(data, "bob")
    bob.record_check(FIRST.id, 8, 8, True)
    bob.record_check(SECOND.id, 2, 6, False, stuck_on="uses <b>the</b> cache")
    bob.record_check(SECOND.id, 4, 6, False, stuck_on="keeps the cache warm")
    bob.record_hint(EXERCISES[2].id, 1)  # a hint alone is not an attempt
    (learner(data, "cat").path).write_text("{ not json")
    return read_room(data, COURSE, EXERCISES, connected={"ada"})


def test_each_learner_is_shown_where_they_are_what_they_scored_passed_and_are_stuck_on(tmp_path):
    view = a_room(tmp_path)
    ada, bob, cat = view.learners
    assert (ada.name, ada.connected, bob.connected, view.connected) == ("ada", True, False, 1)
    assert ada.lesson == f"{LESSON.number}. {LESSON.title}" and ada.step == QUIZ.title  # the quiz came last
    [score] = ada.quizzes
    assert (score.lesson, score.best, score.total, score.passed) == (
        LESSON.number,
        len(QUIZ.questions),
        len(QUIZ.questions),
        True,
    )
    assert bob.passed == (FIRST.id,) and bob.lesson == "" and bob.quizzes == ()
    [stuck] = bob.stuck
    assert (stuck.exercise, stuck.check, stuck.attempts) == (SECOND.id, "keeps the cache warm", 2)  # the last attempt's
    assert cat.passed == () and cat.stuck == () and cat.lesson == ""
    assert len(view.notes) == 1 and "cat" in view.notes[0] and "not valid JSON" in view.notes[0]


def test_pass_rates_count_learners_who_checked_and_passed_each_exercise(tmp_path):
    view = a_room(tmp_path)
    rates = {rate.id: (rate.attempted, rate.passed) for rate in view.exercises}
    assert rates[FIRST.id] == (1, 1) and rates[SECOND.id] == (1, 0) and rates[EXERCISES[2].id] == (0, 0)
    assert [rate.id for rate in view.exercises] == [e.id for e in EXERCISES]
    page = render_page(view, "room")
    table = page.split('<section id="exercises">')[1].split("</section>")[0]
    assert table.count("<tr>") == 1 + 2  # the header, and the two exercises someone checked: not all 35
    assert f"{FIRST.number:02d} {FIRST.title}" in table
    assert f"{EXERCISES[2].number:02d} {EXERCISES[2].title}" not in table
    untouched = ", ".join(f"{e.number:02d}" for e in EXERCISES if e.id not in (FIRST.id, SECOND.id))
    assert f"Not checked by anyone yet: {untouched}." in table


def test_the_page_escapes_what_learners_wrote_and_only_the_live_page_reloads(tmp_path):
    bob = learner(tmp_path, "bob")
    bob.record_check(SECOND.id, 0, 6, False, stuck_on="<script>alert(1)</script>")
    view = read_room(tmp_path, COURSE, EXERCISES)
    live, saved = render_page(view, "room"), render_page(view, "room", refresh_s=None)
    assert "<script>" not in live and "&lt;script&gt;alert(1)&lt;/script&gt;" in live
    assert 'http-equiv="refresh" content="3"' in live and "http-equiv" not in saved
    assert f"{SECOND.number:02d}: &lt;script&gt;" in live


def test_the_app_records_the_step_a_learner_is_on_and_the_check_they_failed_first(tmp_path):
    """What the view reads is what the app writes: the step opened last, and on a failed check the first check
    that did not pass (from a real check of the untouched starter)."""
    store = learner(tmp_path, "dan")
    store.mark_read(LESSON.id, [LESSON.steps[1].id])
    assert store.load()["last_step"] == LESSON.steps[1].id
    store.mark_read(LESSON.id, [s.id for s in LESSON.steps])  # `lambdalab read` marks a whole lesson: no one step
    assert store.load()["last_step"] == LESSON.steps[1].id
    result = grade_exercise(FIRST, FIRST.folder / "starter")
    first_failed = min((c for c in result.checks if c.status in ("fail", "error")), key=lambda c: c.order)
    store.record_check(FIRST.id, result.score, result.max_score, False, result.stuck_on)
    assert store.load()["exercises"][FIRST.id]["stuck_on"] == first_failed.name


def test_classroom_report_reads_a_serve_data_folder(tmp_path):
    a_room(tmp_path)
    result = run_cli("classroom", "report", str(tmp_path))
    assert result.returncode == 0, result.stderr
    assert "3 learners, 0 connected" in result.stdout  # afterwards: nobody is connected
    assert f"ada  {LESSON.number}. {LESSON.title} · {QUIZ.title}" in result.stdout
    assert f"stuck {SECOND.number:02d}: keeps the cache warm (2 tries)" in result.stdout
    assert "not valid JSON" in result.stdout and "wrote" in result.stderr
    page = (tmp_path / "room-report.html").read_text()
    assert "keeps the cache warm" in page and "http-equiv" not in page
    assert json.loads((tmp_path / "learners" / "bob" / "progress.json").read_text())["exercises"]  # left as it was


def test_an_empty_room_says_so(tmp_path):
    (tmp_path / "learners").mkdir()
    view = read_room(tmp_path, COURSE, EXERCISES)
    assert render_text(view) == "0 learners, 0 connected\npass rates: no exercise checked yet\n"
    assert "Nobody has joined yet" in render_page(view, "room")
    assert "No exercise checked yet." in render_page(view, "room")
