"""A plain, non-editable install must carry the course content: build the wheel and run from it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

from conftest import REPO


def test_wheel_ships_content_and_runs_a_shipped_scenario(tmp_path: Path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            str(REPO),
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    wheel = next(tmp_path.glob("lambdalab-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "lambdalab/schemas/scenario.schema.json" in names
    shipped = [n for n in names if n.startswith("lambdalab/_content/assets/scenarios/") and n.endswith(".yaml")]
    assert len(shipped) >= 6
    site = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(site)
    # Run from an unrelated folder with only the unpacked wheel on the path: no source checkout to fall back on.
    env = {**os.environ, "PYTHONPATH": str(site)}
    name = Path(shipped[0]).stem
    result = subprocess.run(
        [sys.executable, "-m", "lambdalab", "sim", name, "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["scenario"]
    located = subprocess.run(
        [sys.executable, "-c", "import lambdalab.content as c; print(c.content_root())"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert located == str(site / "lambdalab" / "_content")
    # The course comes along: lessons list, read and validate from the wheel alone.
    assert "lambdalab/schemas/lesson.schema.json" in names
    for args in (["lessons"], ["read", "1"], ["validate"]):
        result = subprocess.run(
            [sys.executable, "-m", "lambdalab", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,  # validate proves every exercise: its solution passes, its starter fails
        )
        assert result.returncode == 0, (args, result.stdout[-1000:], result.stderr)
    assert f"checked {len(list((REPO / 'lessons').glob('*/lesson.yaml')))} lessons" in result.stdout
    # Real handlers run from the wheel alone too: its worker script and its sample events are inside it.
    handler = REPO / "tests" / "handlers" / "app.py"
    result = subprocess.run(
        [sys.executable, "-m", "lambdalab", "invoke", f"{handler}:echo", "--event", "s3-put", "--json"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["response"]["Records"][0]["eventSource"] == "aws:s3"
