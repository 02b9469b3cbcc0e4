"""Performance benchmark for grading, as users run it (subprocesses of the installed `lambdalab`).

Run from the repository root:

    python benchmarks/grading.py             # a few minutes on 2 cores
    python benchmarks/grading.py --quick     # 5 workspaces instead of 30

Targets (issue: exercises and graded checks):
1. `lambdalab check EXERCISE` of one exercise: under 2 s, wall time, for the slowest shipped exercise
   (median of 3 runs each, starter code: every check runs).
2. `lambdalab grade` of 30 workspaces x every exercise: under 3 minutes on 2 cores (--jobs 2); the
   workspaces alternate reference solutions and starters, so passing and failing paths both run.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from lambdalab.grading.exercises import load_catalogue  # noqa: E402

TARGET_CHECK_S = 2.0
TARGET_CLASS_S = 180.0


def lambdalab(*args: str, cwd: Path) -> float:
    started = time.monotonic()
    subprocess.run([sys.executable, "-m", "lambdalab", *args], cwd=cwd, capture_output=True, check=False)
    return time.monotonic() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    exercises = load_catalogue().exercises
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        subprocess.run([sys.executable, "-m", "lambdalab", "start", str(root / "one")], capture_output=True, check=True)
        per_exercise = {e.id: statistics.median(lambdalab("check", e.id, cwd=root / "one") for _ in range(3))
                        for e in exercises}
        slowest = max(per_exercise, key=per_exercise.get)
        for exercise_id, seconds in sorted(per_exercise.items(), key=lambda kv: -kv[1])[:5]:
            print(f"  check {exercise_id}: {seconds:.2f} s")
        print(f"check of one exercise, slowest ({slowest}): {per_exercise[slowest]:.2f} s   target {TARGET_CHECK_S:g} s   "
              f"met: {'yes' if per_exercise[slowest] < TARGET_CHECK_S else 'NO'}")

        count = 5 if args.quick else 30
        subs = root / "class"
        for n in range(count):
            ws = subs / f"learner-{n:02d}"
            subprocess.run([sys.executable, "-m", "lambdalab", "start", str(ws)], capture_output=True, check=True)
            if n % 2 == 0:
                for exercise in exercises:
                    for name in exercise.starter:
                        shutil.copyfile(exercise.solution_path(name), ws / exercise.folder.name / name)
        seconds = lambdalab("grade", str(subs), "--jobs", "2", "--format", "csv", "--out", str(root / "grades"), cwd=root)
        rows = (root / "grades" / "grades.csv").read_text().splitlines()[1:]
        target = TARGET_CLASS_S * count / 30
        print(f"grade {count} workspaces x {len(exercises)} exercises, 2 jobs: {seconds:.1f} s   target {target:g} s   "
              f"met: {'yes' if seconds < target else 'NO'}   ({len(rows)} rows graded)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
