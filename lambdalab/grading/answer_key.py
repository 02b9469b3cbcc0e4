"""Answer keys: the hidden checks and reference solutions an instructor keeps from students.

Every learner's install carries the course's hidden checks as examples, and its solutions for self-study
(`lambdalab hint ID --solution`, once an exercise passes). A class is graded with a key instead:
`lambdalab classroom init KEYDIR` draws each hidden check afresh from a secret of the key's own (see
variation.py), proves the reference solution passes every draw, and keeps the drawn checks and the
references in KEYDIR, readable by its owner only:

    KEYDIR/lambdalab-key.json                    the secret, the lambdalab version, what each exercise was
    KEYDIR/exercises/NN-id/hidden.yaml           the class's hidden checks, as drawn (an instructor may edit them)
    KEYDIR/exercises/NN-id/solution/...          the reference solution
"""

from __future__ import annotations

import base64
import dataclasses
import io
import json
import os
import shutil
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from lzma import LZMAError
from pathlib import Path

import yaml

from lambdalab import __version__
from lambdalab.grading import variation
from lambdalab.grading.exercises import Check, Exercise, check_from, load_catalogue
from lambdalab.grading.grader import exercise_seed, run_check
from lambdalab.inputs import InputError, InputErrors, load_yaml
from lambdalab.inputs.schema_check import check as schema_check

KEY_FILE = "lambdalab-key.json"
PACKED = "lambdalab-key:"  # a whole key as one line of text, for a CI secret: this, then base64 of a tar.xz
HIDDEN_FILE = "hidden.yaml"
DRAWS = 8  # draws tried for a hidden check before its `vary` is called unsolvable


@dataclass(frozen=True)
class AnswerKey:
    folder: Path
    secret: bytes
    made_with: str  # lambdalab's version
    course: dict[str, str]  # exercise id -> content_sha256 of the course the key was made from
    hidden: dict[str, tuple[Check, ...]]  # exercise id -> the class's hidden checks
    hidden_text: dict[str, str]  # exercise id -> hidden.yaml as written, so a result names what graded it

    def solution_folder(self, exercise: Exercise) -> Path:
        return self.folder / "exercises" / exercise.folder.name / "solution"

    def applied(self, exercise: Exercise) -> Exercise:
        """The exercise with the key's hidden checks in place of the course's examples."""
        if exercise.id not in self.hidden:
            return exercise
        checks = [c for c in exercise.checks if not c.hidden] + list(self.hidden[exercise.id])
        checks = [dataclasses.replace(c, order=n) for n, c in enumerate(checks, start=1)]
        return dataclasses.replace(exercise, checks=tuple(checks), key_text=self.hidden_text[exercise.id])

    def stale(self, exercises: list[Exercise]) -> list[str]:
        """Exercises that changed since the key was made (their drawn checks may no longer fit)."""
        return [e.id for e in exercises if e.id in self.course and self.course[e.id] != e.content_sha256]


def exercises_for(ids: list[str], key: str | None) -> list[Exercise]:
    """The course's exercises by id, with the key's hidden checks when there is a key."""
    catalogue = load_catalogue()
    exercises = [catalogue.get(i) for i in ids]
    if key is None:
        return exercises
    answer_key = load_key(Path(key))
    return [answer_key.applied(e) for e in exercises]


def load_key(folder: Path) -> AnswerKey:
    """A key made by `classroom init`; InputErrors naming the file, line and key for anything wrong in it."""
    path = folder / KEY_FILE
    if not path.is_file():
        raise InputErrors(
            [
                InputError(
                    str(folder),
                    0,
                    0,
                    "",
                    f"not an answer key: no {KEY_FILE} in it (make one with `lambdalab classroom init KEYDIR`)",
                )
            ]
        )
    doc = load_yaml(path)  # JSON is YAML: positions for free
    data = doc.data
    if not isinstance(data, dict) or not isinstance(data.get("secret"), str) or len(data["secret"]) != 64:
        raise InputErrors([doc.error(("secret",), "an answer key has a 64-character hex `secret`")])
    try:
        secret = bytes.fromhex(data["secret"])
    except ValueError:
        raise InputErrors([doc.error(("secret",), "the secret is hexadecimal")]) from None
    hidden, texts = {}, {}
    for file in sorted((folder / "exercises").glob(f"*/{HIDDEN_FILE}")):
        checks_doc = load_yaml(file)
        errors = schema_check(checks_doc, "exercise", "key_checks")
        if errors:
            raise InputErrors(errors)
        items = checks_doc.data["checks"]
        not_hidden = [i for i, item in enumerate(items) if not item.get("hidden")]
        if not_hidden:
            raise InputErrors(
                [
                    checks_doc.error(
                        ("checks", not_hidden[0], "hidden"), "a key holds hidden checks only: add `hidden: true`"
                    )
                ]
            )
        hidden[checks_doc.data["exercise"]] = tuple(check_from(item, n) for n, item in enumerate(items, start=1))
        texts[checks_doc.data["exercise"]] = file.read_text("utf-8")
    return AnswerKey(folder, secret, str(data.get("lambdalab", "")), dict(data.get("course") or {}), hidden, texts)


def pack_key(folder: Path) -> str:
    """The key as one line of text (a GitHub secret holds up to 48 KB)."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:xz") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                archive.add(path, arcname=str(path.relative_to(folder)), recursive=False)
    return PACKED + base64.b64encode(buffer.getvalue()).decode()


def unpack_key(text: str, into: Path) -> Path:
    """A packed key, unpacked into `into` (readable by its owner only); ValueError when it is not one."""
    try:
        data = base64.b64decode(text.strip().removeprefix(PACKED), validate=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:xz") as archive:
            members = archive.getmembers()
            if any(not m.isfile() or m.name.startswith(("/", "..")) or "/../" in m.name for m in members):
                raise ValueError("a packed key holds plain files only")
            archive.extractall(into, members=members)
    except (ValueError, tarfile.TarError, EOFError, LZMAError) as exc:
        raise ValueError(f"not a packed answer key ({exc}): use the text `lambdalab classroom github` wrote") from None
    for path in (into, *into.rglob("*")):
        os.chmod(path, 0o700 if path.is_dir() else 0o600)
    return into


# --- making a key --------------------------------------------------------------------------------------


@dataclass
class Made:
    """What making a key did, for the instructor to read."""

    drawn: int = 0  # hidden checks drawn afresh
    redrawn: int = 0  # draws the reference failed, drawn again
    kept: int = 0  # hidden checks without `vary`, kept as shipped


def make_key(
    folder: Path, exercises: list[Exercise], said: Callable[[str], None] = lambda _: None, secret: bytes | None = None
) -> Made:
    """Draw every hidden check for a new class and write the key; ValueError when a check has no draw the
    reference passes (an authoring problem `lambdalab validate` reports too). The same `secret` and course
    make the same key (co-instructors, or a key lost with its secret kept)."""
    secret = secret or os.urandom(32)
    made = Made()
    drawn_for: dict[str, list[Check]] = {}
    with tempfile.TemporaryDirectory(prefix="lambdalab-key-") as scratch:
        for exercise in exercises:
            reference = Path(scratch) / exercise.folder.name
            reference.mkdir()
            for name in exercise.starter:
                shutil.copyfile(exercise.solution_path(name), reference / name)
            drawn_for[exercise.id] = []
            for check in (c for c in exercise.checks if c.hidden):
                if not check.vary:
                    made.kept += 1
                    drawn_for[exercise.id].append(check)
                    continue
                for attempt in range(DRAWS):
                    candidate = variation.drawn(check, variation.class_random(secret, exercise.id, check.id, attempt))
                    if run_check(candidate, reference, exercise_seed(exercise)).status == "pass":
                        break
                    made.redrawn += 1
                else:
                    raise ValueError(
                        f"{exercise.id}: no draw of {check.id!r} that the reference solution passes "
                        f"in {DRAWS} tries: its `vary` needs narrower ranges (lambdalab validate)"
                    )
                made.drawn += 1
                drawn_for[exercise.id].append(candidate)
            said(f"  {exercise.id}: {len(drawn_for[exercise.id])} hidden check(s)")
    _write(folder, secret, exercises, drawn_for)
    return made


def _write(folder: Path, secret: bytes, exercises: list[Exercise], drawn_for: dict[str, list[Check]]) -> None:
    folder.mkdir(mode=0o700, parents=True, exist_ok=True)
    for exercise in exercises:
        place = folder / "exercises" / exercise.folder.name
        (place / "solution").mkdir(parents=True, exist_ok=True)
        for name in exercise.starter:
            shutil.copyfile(exercise.solution_path(name), place / "solution" / name)
        checks = [c.item() for c in drawn_for[exercise.id]]
        (place / HIDDEN_FILE).write_text(
            f"# The hidden checks of {exercise.id} for this class, drawn from the key's secret. Edit with care:\n"
            f"# `lambdalab grade --key` runs them as they are.\n"
            + yaml.safe_dump(
                {"exercise": exercise.id, "checks": checks}, sort_keys=False, allow_unicode=True, width=110
            ),
            "utf-8",
        )
    made_at = datetime.now(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")
    (folder / KEY_FILE).write_text(
        json.dumps(
            {
                "format": 1,
                "lambdalab": __version__,
                "created": made_at,
                "secret": secret.hex(),
                "course": {e.id: e.content_sha256 for e in exercises},
            },
            indent=2,
        )
        + "\n",
        "utf-8",
    )
    (folder / "README.md").write_text(_README, "utf-8")
    for path in (folder, *folder.rglob("*")):
        os.chmod(path, 0o700 if path.is_dir() else 0o600)


_README = """# A lambdalab answer key: keep it private

This folder holds your class's hidden checks (drawn for this class from the secret in
lambdalab-key.json) and the reference solutions. Students must never see it: it is readable by
its owner only. Do not commit it to a repository students can read.

    lambdalab grade SUBMISSIONS --key THIS-FOLDER --format json,csv --out grades/
    lambdalab classroom gradescope THIS-FOLDER --out autograder.zip
    lambdalab classroom github THIS-FOLDER --out template/

Each exercises/NN-id/hidden.yaml may be edited (the same format as the checks of an exercise.yaml);
`lambdalab grade --key` checks it and runs it as it is.
"""
