"""`python -m lambdalab.grading.one WORKSPACE ID...`: grade one submission in its own process (so `grade`
can run several at once and stop one that runs too long), printing one JSON result per exercise as soon
as it is done, so a submission stopped by its time limit keeps what it finished."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from lambdalab.grading.exercises import load_catalogue
from lambdalab.grading.grader import grade_exercise


def main(argv: list[str]) -> int:
    workspace, ids = Path(argv[0]), argv[1:]
    catalogue = load_catalogue()
    for exercise_id in ids:
        exercise = catalogue.get(exercise_id)
        result = grade_exercise(exercise, workspace / exercise.folder.name)
        print(json.dumps(result.to_dict()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
