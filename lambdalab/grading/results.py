"""One result model for every report: `check`, `grade` and each export format derive from it
(shared/spec/grade-exports.md §1), so the formats can never disagree."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from lambdalab.course.progress import ProgressStore

PASS, FAIL, ERROR, SKIP = "pass", "fail", "error", "skip"
OUTPUT_LIMIT = 4000  # characters of learner-produced text kept per check


@dataclass
class CheckResult:
    id: str
    name: str
    order: int
    status: str  # pass, fail, error (the check could not run), skip
    score: float
    max_score: float
    hidden: bool
    message: str = ""  # why it failed, in the engine's terms
    output: str = ""  # what the learner's code printed, capped
    test_code: str = ""  # what was asserted
    tags: tuple[str, ...] = ()
    duration_s: float = 0.0


@dataclass
class ExerciseResult:
    exercise_id: str
    title: str
    lesson: str
    tool_version: str
    content_sha256: str
    seed: int
    started_at: str
    duration_s: float
    files_sha256: dict[str, str]
    checks: list[CheckResult] = field(default_factory=list)
    message: str = ""  # why no check ran, when none did
    fingerprints: dict[str, list[str]] = field(default_factory=dict)  # file -> [sha256, program digest] (copies.py)
    flags: list[dict[str, str]] = field(default_factory=list)  # copies of the reference or of a classmate

    @property
    def status(self) -> str:
        """error only if no check ran (each was skipped or could not run); otherwise fail if any check failed
        or errored."""
        if not any(c.status in (PASS, FAIL) for c in self.checks):
            return ERROR
        return PASS if all(c.status == PASS for c in self.checks) else FAIL

    @property
    def stuck_on(self) -> str | None:
        """The check a learner is stuck on: the first that did not pass, or why none ran; None on a pass."""
        if self.status == PASS:
            return None
        first = min((c for c in self.checks if c.status in (FAIL, ERROR)), key=lambda c: c.order, default=None)
        return first.name if first else (self.message.splitlines() or ["no check ran"])[0]

    def record_in(self, store: ProgressStore) -> dict[str, Any]:
        """This check in the learner's progress (`check`, `watch` and the app record it alike); returns the
        progress saved."""
        return store.record_check(self.exercise_id, self.score, self.max_score, self.status == PASS, self.stuck_on)

    @property
    def score(self) -> float:
        return round(sum(c.score for c in self.checks), 4)

    @property
    def max_score(self) -> float:
        return round(sum(c.max_score for c in self.checks), 4)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.update(status=self.status, score=self.score, max_score=self.max_score)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExerciseResult:
        fields = {k: v for k, v in data.items() if k not in ("status", "score", "max_score", "checks")}
        checks = [CheckResult(**{**c, "tags": tuple(c.get("tags", ()))}) for c in data.get("checks", [])]
        return cls(**fields, checks=checks)


@dataclass
class WorkspaceResult:
    """One learner's workspace: a result per exercise, in course order."""

    workspace: str
    exercises: list[ExerciseResult]
    message: str = ""  # why the workspace could not be graded at all (not a workspace, timed out)
    isolation: list[str] = field(default_factory=list)  # the isolation layers it was graded with (grading/isolation.py)
    alerts: list[str] = field(default_factory=list)  # what an instructor must look at: an attempt to forge results
    submitted_at: str = ""  # ISO 8601 UTC: the newest modification time of the learner's graded files

    @property
    def score(self) -> float:
        return round(sum(e.score for e in self.exercises), 4)

    @property
    def max_score(self) -> float:
        return round(sum(e.max_score for e in self.exercises), 4)

    @property
    def learner(self) -> str:
        """The workspace folder's name: a learner's name or id in a class."""
        return self.workspace.rstrip("/").rsplit("/", 1)[-1]

    def to_dict(self) -> dict[str, Any]:
        return {
            "workspace": self.workspace,
            "score": self.score,
            "max_score": self.max_score,
            "message": self.message,
            "isolation": self.isolation,
            "alerts": self.alerts,
            "submitted_at": self.submitted_at,
            "exercises": [e.to_dict() for e in self.exercises],
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> WorkspaceResult:
        return cls(
            data["workspace"],
            [ExerciseResult.from_dict(e) for e in data["exercises"]],
            data.get("message", ""),
            data.get("isolation", []),
            data.get("alerts", []),
            data.get("submitted_at", ""),
        )


def capped(text: str, limit: int = OUTPUT_LIMIT) -> str:
    if len(text) <= limit:
        return text
    return text[:limit] + f"\n... ({len(text) - limit:,} more characters cut: print less)"
