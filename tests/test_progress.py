"""Progress is never half-written, never lost to a concurrent writer, and a bad file is kept aside, not fatal."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

from conftest import REPO

from lambdalab.course.progress import FORMAT, ProgressStore


def test_quiz_scores_keep_the_best_and_count_attempts(tmp_path):
    store = ProgressStore(tmp_path)
    store.record_quiz("lesson-a", "check", 5, 9, False, ["q1", "q2", "q3", "q4"])
    store.record_quiz("lesson-a", "check", 8, 9, True, ["q2"])
    data = store.record_quiz("lesson-a", "check", 6, 9, False, ["q2", "q5", "q6"])
    saved = data["lessons"]["lesson-a"]["quizzes"]["check"]
    assert (saved["last"], saved["best"], saved["attempts"], saved["passed"]) == (6, 8, 3, True)
    assert ProgressStore(tmp_path).load()["last_lesson"] == "lesson-a"


def test_missed_questions_are_the_last_attempts_and_counted_over_all(tmp_path):
    store = ProgressStore(tmp_path)
    store.record_quiz("lesson-a", "check", 7, 9, False, ["q2", "q5"])
    store.record_quiz("lesson-a", "check", 9, 9, True, [])
    store.record_quiz("lesson-a", "check", 8, 9, True, ["q5"])
    saved = ProgressStore(tmp_path).load()["lessons"]["lesson-a"]["quizzes"]["check"]
    assert saved["missed"] == ["q5"] and saved["missed_ever"] == {"q2": 1, "q5": 2}


def test_a_format_1_file_loads_and_its_next_save_is_the_current_format(tmp_path):
    scores_only = {"last": 5, "best": 6, "total": 9, "passed": False, "attempts": 2, "at": "2025-01-01T00:00:00+00:00"}
    old = {
        "format": 1,
        "last_lesson": "lesson-a",
        "lessons": {"lesson-a": {"read": ["p"], "quizzes": {"check": scores_only}}},
    }
    (tmp_path / "progress.json").write_text(json.dumps(old))
    store = ProgressStore(tmp_path)
    assert store.load() == old and store.notes == []
    saved = store.record_quiz("lesson-a", "check", 7, 9, True, ["q3", "q1"])
    assert saved["format"] == FORMAT and saved["lessons"]["lesson-a"]["read"] == ["p"]
    quiz = saved["lessons"]["lesson-a"]["quizzes"]["check"]
    assert quiz == {
        **scores_only,
        "last": 7,
        "best": 7,
        "passed": True,
        "attempts": 3,
        "at": quiz["at"],
        "missed": ["q3", "q1"],
        "missed_ever": {"q3": 1, "q1": 1},
    }
    assert json.loads((tmp_path / "progress.json").read_text()) == saved
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith("progress.json.")] == ["progress.json.lock"]


def test_reading_marks_pages_once(tmp_path):
    store = ProgressStore(tmp_path)
    store.mark_read("lesson-a", ["b", "a"])
    assert store.mark_read("lesson-a", ["a", "c"])["lessons"]["lesson-a"]["read"] == ["a", "b", "c"]


def test_home_variable_chooses_the_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("LAMBDALAB_HOME", str(tmp_path / "class"))
    ProgressStore().mark_read("lesson-a", ["a"])
    assert json.loads((tmp_path / "class" / "progress.json").read_text())["format"] == FORMAT


def test_corrupt_file_is_kept_aside_with_one_note(tmp_path):
    (tmp_path / "progress.json").write_text('{"format": 1, "lessons": {"x": ')
    store = ProgressStore(tmp_path)
    assert store.load()["lessons"] == {}
    aside = [p.name for p in tmp_path.iterdir() if p.name.startswith("progress.json.corrupt-")]
    assert len(aside) == 1 and (tmp_path / aside[0]).read_text() == '{"format": 1, "lessons": {"x": '
    assert len(store.notes) == 1 and "not valid JSON (line 1)" in store.notes[0] and aside[0] in store.notes[0]


def test_newer_format_is_kept_aside_not_overwritten(tmp_path):
    newer = {"format": FORMAT + 1, "lessons": {"x": {"anything": True}}}
    (tmp_path / "progress.json").write_text(json.dumps(newer))
    store = ProgressStore(tmp_path)
    store.mark_read("lesson-a", ["a"])
    aside = next(p for p in tmp_path.iterdir() if p.name.startswith(f"progress.json.format-{FORMAT + 1}-"))
    assert json.loads(aside.read_text()) == newer
    assert "a newer lambdalab wrote it" in store.notes[0]


WRITER = """
import sys
from lambdalab.course.progress import ProgressStore
store = ProgressStore(__import__("pathlib").Path(sys.argv[1]))
for n in range(int(sys.argv[3])):
    store.mark_read(sys.argv[2], [f"page-{n}"])
"""


def test_concurrent_writers_lose_nothing(tmp_path):
    writers = [
        subprocess.Popen([sys.executable, "-c", WRITER, str(tmp_path), f"lesson-{w}", "40"], cwd=REPO) for w in range(4)
    ]
    assert [w.wait(timeout=60) for w in writers] == [0, 0, 0, 0]
    lessons = ProgressStore(tmp_path).load()["lessons"]
    assert {name: len(data["read"]) for name, data in lessons.items()} == {f"lesson-{w}": 40 for w in range(4)}


KILLED_WRITER = """
import os, sys, time
from lambdalab.course import progress
real_replace = os.replace
def stuck(*args):  # the new file is written and fsynced; the process dies before the rename
    print("written", flush=True)
    time.sleep(60)
os.replace = stuck
progress.ProgressStore(__import__("pathlib").Path(sys.argv[1])).mark_read("lesson-b", ["x"])
"""


def test_a_writer_killed_mid_write_leaves_the_old_file_whole(tmp_path):
    ProgressStore(tmp_path).mark_read("lesson-a", ["a"])
    before = (tmp_path / "progress.json").read_text()
    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(tmp_path)], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    assert child.stdout.readline().strip() == "written"
    os.kill(child.pid, signal.SIGKILL)
    child.wait(timeout=10)
    assert (tmp_path / "progress.json").read_text() == before
    # The lock died with the process: the next writer goes straight through and keeps the old data.
    started = time.monotonic()
    after = ProgressStore(tmp_path).mark_read("lesson-c", ["z"])
    assert time.monotonic() - started < 5
    assert set(after["lessons"]) == {"lesson-a", "lesson-c"}


def test_damaged_miss_counts_are_dropped_not_a_crash(tmp_path):
    store = ProgressStore(tmp_path)
    store.record_quiz("the-lambda-model", "quiz", 1, 2, False, ["q1"])
    data = json.loads((tmp_path / "progress.json").read_text())
    data["lessons"]["the-lambda-model"]["quizzes"]["quiz"]["missed_ever"] = {"q1": "two", "q2": 3, "q3": -1}
    (tmp_path / "progress.json").write_text(json.dumps(data))
    saved = store.record_quiz("the-lambda-model", "quiz", 1, 2, False, ["q1"])
    assert saved["lessons"]["the-lambda-model"]["quizzes"]["quiz"]["missed_ever"] == {"q2": 3, "q1": 1}
