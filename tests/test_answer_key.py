"""Answer keys, copy flags and no credit without solving: what lets an instructor stake grades on the
hidden checks, as an instructor would use them (`classroom init`, `grade --key`) and unit by unit."""

from __future__ import annotations

import json
import random
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import yaml
from conftest import REPO

from lambdalab.grading import copies, variation
from lambdalab.grading.answer_key import load_key
from lambdalab.grading.exercises import load_catalogue
from lambdalab.grading.results import ExerciseResult, WorkspaceResult

LAMBDALAB = Path(sys.executable).parent / "lambdalab"
SECRET = "5e" * 32
CLIENT = "03-client-outside-handler"


def lambdalab(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([str(LAMBDALAB), *args], capture_output=True, text=True, cwd=cwd, timeout=300)


def make_key(folder: Path, *exercises: str, secret: str = SECRET) -> Path:
    args = [a for e in exercises for a in ("--exercise", e)]
    made = lambdalab("classroom", "init", str(folder), *args, "--secret", secret)
    assert made.returncode == 0, made.stderr
    return folder


def drawn_user(key: Path) -> str:
    checks = yaml.safe_load((key / "exercises" / CLIENT / "hidden.yaml").read_text())["checks"]
    return next(c for c in checks if c["id"] == "once-per-environment")["expect"][2]["equals"]


def test_init_makes_a_private_key_with_the_classes_own_draws(tmp_path):
    key = make_key(tmp_path / "key", "client-outside-handler", "proxy-response")
    assert stat.S_IMODE(key.stat().st_mode) == 0o700
    assert all(stat.S_IMODE(p.stat().st_mode) in (0o700, 0o600) for p in key.rglob("*"))
    assert (key / "exercises" / CLIENT / "solution" / "app.py").read_text() == (
        REPO / "exercises" / CLIENT / "solution" / "app.py"
    ).read_text()
    loaded = load_key(key)
    assert set(loaded.hidden) == {"client-outside-handler", "proxy-response"}
    assert drawn_user(key) != "u-4002"  # not the shipped example's user
    assert drawn_user(make_key(tmp_path / "same", "client-outside-handler")) == drawn_user(key)  # same secret, same key
    assert drawn_user(make_key(tmp_path / "other", "client-outside-handler", secret="a1" * 32)) != drawn_user(key)
    again = lambdalab("classroom", "init", str(key))
    assert again.returncode == 2 and "already exists" in again.stderr


def test_a_submission_fitted_to_the_shipped_example_fails_the_classes_key(tmp_path):
    key = make_key(tmp_path / "key", "client-outside-handler")
    ws = tmp_path / "subs" / "fitted"
    assert lambdalab("start", str(ws)).returncode == 0
    # the reference, except that it answers users it was not shown with the shipped hidden check's last one
    (ws / CLIENT / "app.py").write_text(
        "from clients import ProfileClient\nclient = ProfileClient()\n\ndef handler(event, context):\n"
        "    user = event['user_id'] if event['user_id'] in ('u-2001', 'u-3017') else 'u-4002'\n"
        "    return client.get_profile(user)\n"
    )
    shipped = lambdalab("grade", str(ws), "--exercise", "client-outside-handler", "--format", "json")
    by_key = lambdalab("grade", str(ws), "--exercise", "client-outside-handler", "--format", "json", "--key", str(key))

    def hidden_test(out):
        return next(t for t in json.loads(out)[0]["exercises"][0]["tests"] if t["hidden"])

    assert hidden_test(shipped.stdout)["status"] == "passed"  # the example every learner can read
    assert hidden_test(by_key.stdout)["status"] == "failed"  # the class's draw
    assert "no answer key" in shipped.stderr and "no answer key" not in by_key.stderr

    shutil.copyfile(REPO / "exercises" / CLIENT / "solution" / "app.py", ws / CLIENT / "app.py")
    solved = lambdalab("grade", str(ws), "--exercise", "client-outside-handler", "--format", "json", "--key", str(key))
    graded = json.loads(solved.stdout)[0]
    assert graded["score"] == graded["max_score"]  # a real solution passes the class's draw


def test_a_damaged_key_is_refused_with_its_file_and_key(tmp_path):
    key = make_key(tmp_path / "key", "proxy-response")
    hidden = key / "exercises" / "01-proxy-response" / "hidden.yaml"
    hidden.write_text(hidden.read_text().replace("points: 2.0", "points: lots"))
    result = lambdalab("grade", str(tmp_path), "--key", str(key))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "hidden.yaml:" in result.stderr and "points" in result.stderr
    assert lambdalab("grade", str(tmp_path), "--key", str(tmp_path)).stderr.count("not an answer key") == 1


def test_draws_land_where_vary_says_and_nowhere_else():
    check = next(c for c in load_catalogue().get("client-outside-handler").checks if c.vary)
    drawn = variation.drawn(check, random.Random(3))
    users = [e["event"]["user_id"] for e in drawn.setup["events"]]
    assert users[1:3] == ["u-2001", "u-3017"] and users[0] != "u-1007" and users[3] != "u-4002"
    assert drawn.expect[2]["equals"] == users[3] and drawn.vary == ()
    assert check.setup["events"][3]["event"]["user_id"] == "u-4002"  # the course's check is left as it was


def test_vary_problems_are_named():
    check = next(c for c in load_catalogue().get("client-outside-handler").checks if c.vary)
    broken = [
        {"between": [9, 1], "at": [["handler", "events", 9, "event", "user_id"]]},
        {"one_of": [1, 2], "format": "x{}", "at": [["expect", 0, "equals"]]},
    ]
    found = variation.problems(check.__class__(**{**check.__dict__, "vary": tuple(broken)}))
    said = [message for _, message in found]
    assert any("smallest" in m for m in said) and any(
        "handler.events.9.event.user_id is not in the check" in m for m in said
    )
    assert any("format places an integer" in m for m in said)
    visible = check.__class__(**{**check.__dict__, "hidden": False})
    assert any("only a hidden check varies" in m for _, m in variation.problems(visible))


# --- copies ------------------------------------------------------------------------------------------

PROGRAM = b'''"""Mine."""
import json

def handler(event, context):
    photo_id = (event.get("pathParameters") or {}).get("photoId")
    return {"statusCode": 200, "body": json.dumps({"photo": photo_id})}
'''


def test_the_same_program_survives_renaming_comments_and_layout_but_not_a_change_of_logic():
    renamed = (
        b'import json as j\n# my own work\ndef handler(e, ctx):\n    """Docs."""\n'
        b'    pid = (e.get("pathParameters") or {}).get("photoId")\n\n\n'
        b'    return {"statusCode": 200, "body": j.dumps({"photo": pid})}\n'
    )
    changed = PROGRAM.replace(b"200", b"201")
    assert copies.program_digest(renamed) == copies.program_digest(PROGRAM) != ""
    assert copies.program_digest(changed) != copies.program_digest(PROGRAM)
    assert copies.program_digest(b"def handler(:\n") == ""


def _submission(name: str, prints: dict) -> WorkspaceResult:
    exercise = ExerciseResult("proxy-response", "t", "l", "0.1.0", "x", 1, "", 0.0, {}, fingerprints=prints)
    return WorkspaceResult(f"/class/{name}", [exercise])


def test_copies_of_the_reference_and_between_classmates_are_flagged_and_honest_work_is_not():
    reference = {"app.py": [copies.program_digest(PROGRAM) and "ref-sha", copies.program_digest(PROGRAM)]}

    def fingerprints(text):
        return [f"sha-{hash(text)}", copies.program_digest(text)]

    results = [
        _submission("ada", {"app.py": fingerprints(PROGRAM)}),  # the reference's program, renamed nothing
        _submission("ben", {"app.py": fingerprints(b"def handler(e, c):\n    return {'statusCode': 400}\n")}),
        _submission("cy", {"app.py": fingerprints(b"def handler(e, c):\n    return {'statusCode': 400}\n")}),
        _submission("dee", {"app.py": fingerprints(b"def handler(e, c):\n    return e\n")}),
        _submission("eve", {"app.py": ["ref-sha", copies.program_digest(PROGRAM)]}),
    ]
    copies.flag(results, {"proxy-response": reference})
    flags = {r.learner: r.exercises[0].flags for r in results}
    assert flags["ada"][0] == {
        "kind": "reference-copy",
        "file": "app.py",
        "how": "same program",
        "with": "the reference",
    }
    assert flags["eve"][0]["how"] == "identical"
    assert [f["with"] for f in flags["ben"]] == ["cy"] and flags["ben"][0]["how"] == "identical"
    assert flags["dee"] == []


def test_files_left_as_the_starter_are_nobodys_copy(tmp_path):
    exercise = load_catalogue().get("proxy-response")
    folder = tmp_path / exercise.folder.name
    folder.mkdir()
    shutil.copyfile(exercise.starter_path("app.py"), folder / "app.py")
    (folder / "README.md").write_text("generated")
    assert copies.fingerprints(folder, exercise) == {}
    (folder / "app.py").write_bytes(PROGRAM)
    assert list(copies.fingerprints(folder, exercise)) == ["app.py"]


# --- no credit without solving -----------------------------------------------------------------------


def test_a_blank_submission_scores_nothing(tmp_path):
    ws = tmp_path / "blank"
    assert lambdalab("start", str(ws)).returncode == 0
    result = lambdalab("grade", str(ws), "--format", "json")
    graded = json.loads(result.stdout)[0]
    assert graded["score"] == 0 and graded["max_score"] > 200
    guards = [t for e in graded["exercises"] for t in e["tests"] if "no credit without solving" in t["message"]]
    assert len(guards) >= 10  # checks the untouched starter passes, withheld


def test_a_guard_counts_once_the_exercise_is_solved(tmp_path):
    ws = tmp_path / "half"
    assert lambdalab("start", str(ws)).returncode == 0
    for path in (REPO / "exercises" / "17-one-bucket-invokes" / "solution").glob("*.json"):
        shutil.copyfile(path, ws / "17-one-bucket-invokes" / path.name)
    graded = json.loads(lambdalab("grade", str(ws), "--exercise", "one-bucket-invokes", "--format", "json").stdout)[0]
    assert graded["score"] == graded["max_score"]
    guard = next(t for t in graded["exercises"][0]["tests"] if t["id"] == "invoices-bucket-allowed")
    assert guard["status"] == "passed" and guard["score"] == guard["max_score"] > 0
