"""The Gradescope autograder zip: `setup.sh` (Gradescope runs it once, as root, to build the image: a
virtual environment with lambdalab installed from the wheel inside the zip), `run_autograder` (once per
submission: lambdalab.grading.kits.autograder grades /autograder/submission and always leaves
/autograder/results/results.json), the answer key, and kit.json with the instructor's choices.
(https://gradescope-autograders.readthedocs.io/en/latest/specs/)"""

from __future__ import annotations

import json
import tempfile
import zipfile
from pathlib import Path

from lambdalab.grading.answer_key import AnswerKey
from lambdalab.grading.kits.wheel import build_wheel

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu). It installs lambdalab,
# with Python 3.10 or newer, into a virtual environment; the answer key stays readable by root only.
set -euo pipefail
source_dir="$(cd "$(dirname "$0")" && pwd)"
root="${AUTOGRADER_ROOT:-/autograder}"
if ! python3 -c 'import sys, venv, ensurepip; sys.exit(sys.version_info < (3, 10))' 2>/dev/null; then
    apt-get update -qq && apt-get install -y -qq python3 python3-venv python3-pip
fi
python3 -m venv "$root/lambdalab-venv"
"$root/lambdalab-venv/bin/python" -m pip install --quiet "$source_dir"/wheels/lambdalab-*.whl
chmod -R go-rwx "$source_dir/key"
"""

RUN = """#!/usr/bin/env bash
# Gradescope runs this once per submission, as root, from /autograder. Whatever happens, it leaves
# results/results.json, with what went wrong in its `output`.
root="${AUTOGRADER_ROOT:-/autograder}"
python="$root/lambdalab-venv/bin/python"
results="$root/results/results.json"
if [ -x "$python" ]; then
    "$python" -I -m lambdalab.grading.kits.autograder "$root"
fi
if [ ! -s "$results" ]; then
    mkdir -p "$root/results"
    printf '%s\\n' '{"score": 0, "output": "The autograder could not run: lambdalab is not installed \
(setup.sh failed when the autograder was built). Please tell your instructor; your submission is kept.", \
"tests": []}' > "$results"
fi
"""


def build(key: AnswerKey, exercises: list[str], hidden_checks: str, time_limit: str, target: Path) -> Path:
    """Write the zip Gradescope's "Configure Autograder" page takes."""
    with tempfile.TemporaryDirectory(prefix="lambdalab-kit-") as scratch:
        wheels = Path(scratch) / "wheels"
        wheels.mkdir()
        wheel = build_wheel(wheels)
        target.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as kit:
            _add(kit, "setup.sh", SETUP.encode(), executable=True)
            _add(kit, "run_autograder", RUN.encode(), executable=True)
            _add(
                kit,
                "kit.json",
                json.dumps(
                    {"exercises": exercises, "hidden_checks": hidden_checks, "time_limit": time_limit}, indent=2
                ).encode()
                + b"\n",
            )
            _add(kit, f"wheels/{wheel.name}", wheel.read_bytes())
            for path in sorted(key.folder.rglob("*")):
                if path.is_file():
                    _add(kit, f"key/{path.relative_to(key.folder).as_posix()}", path.read_bytes())
    return target


def _add(kit: zipfile.ZipFile, name: str, data: bytes, executable: bool = False) -> None:
    entry = zipfile.ZipInfo(name, (2026, 1, 1, 0, 0, 0))
    entry.external_attr = (0o755 if executable else 0o644) << 16
    kit.writestr(entry, data, zipfile.ZIP_DEFLATED)
