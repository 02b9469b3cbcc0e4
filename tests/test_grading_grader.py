"""The grader runs an exercise's checks at once and still reports them in authored order."""

from __future__ import annotations

import shutil
import tempfile
import textwrap
from pathlib import Path

from lambdalab.grading.exercises import load_exercise
from lambdalab.grading.grader import grade_exercise
from lambdalab.paths import environments_dir

# Each invocation leaves its name in a shared folder (not under /tmp, which is each environment's own), then waits (up to 2 s) for the other's: it meets the other
# only if both run at the same time. One after the other, the first gives up and answers met: false.
RENDEZVOUS = '''
import os, time

def handler(event, context):
    open(os.path.join(event["dir"], event["me"]), "w").close()
    deadline = time.monotonic() + 2
    while time.monotonic() < deadline:
        if os.path.exists(os.path.join(event["dir"], event["other"])):
            return {"met": True}
        time.sleep(0.02)
    return {"met": False}
'''


def rendezvous_exercise(root: Path, meeting: Path) -> Path:
    folder = root / "01-rendezvous"
    (folder / "starter").mkdir(parents=True)
    (folder / "starter" / "app.py").write_text(RENDEZVOUS)

    def check(me: str, other: str) -> str:
        return textwrap.dedent(f"""\
          - id: {me}
            name: {me} meets {other}
            points: 1
            why: checks run at once
            handler:
              handler: app.handler
              events: [{{event: {{me: {me}, other: {other}, dir: "{meeting}"}}}}]
            expect:
              - {{response: $.met, equals: true}}
        """)

    checks = "".join(check(me, other) for me, other in (("first", "second"), ("second", "first")))
    (folder / "exercise.yaml").write_text(
        "id: rendezvous\ntitle: Checks run at once\nlesson: invocation-models\ndifficulty: beginner\n"
        "instructions: Two checks that can only pass together.\nstarter: [app.py]\nhints: [Run them at once.]\n"
        "checks:\n" + checks)
    return folder


def test_the_checks_of_an_exercise_run_at_once_and_keep_their_order(tmp_path):
    environments_dir().mkdir(parents=True, exist_ok=True)
    meeting = Path(tempfile.mkdtemp(prefix="meeting-", dir=environments_dir()))
    exercise = load_exercise(rendezvous_exercise(tmp_path / "exercises", meeting))
    heard = []
    try:
        result = grade_exercise(exercise, exercise.folder / "starter", progress=lambda check, _: heard.append(check.id))
    finally:
        shutil.rmtree(meeting)
    assert [(c.id, c.status) for c in result.checks] == [("first", "pass"), ("second", "pass")]
    assert sorted(heard) == ["first", "second"]
