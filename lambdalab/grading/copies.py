"""Copies: a learner's file identical to the reference solution or to a classmate's, or, for Python, the
same program with only names, comments, docstrings and layout changed. Flagged in every export for an
instructor to look at, never scored: short answers to a small task can be alike by chance, and a copied
correct solution still passes its checks (the flag is what tells)."""

from __future__ import annotations

import ast
import hashlib
from collections import defaultdict
from pathlib import Path
from typing import TypeVar

from lambdalab.grading.exercises import Exercise
from lambdalab.grading.results import WorkspaceResult

REFERENCE = "the reference"
NOT_LEARNERS = {"README.md"}  # written by `lambdalab start`, the same for everyone
_WithBody = TypeVar("_WithBody", bound=ast.Module | ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef)


def fingerprints(folder: Path, exercise: Exercise) -> dict[str, list[str]]:
    """{file: [sha256, program digest or ""]} for each file of an exercise folder that the learner changed
    (a file identical to its starter is everyone's)."""
    starters = {name: _sha256(exercise.starter_path(name).read_bytes()) for name in exercise.starter}
    found = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()) if folder.is_dir() else ():
        name = str(path.relative_to(folder))
        if name in NOT_LEARNERS or "__pycache__" in path.parts:
            continue
        data = path.read_bytes()
        digest = _sha256(data)
        if starters.get(name) != digest:
            found[name] = [digest, program_digest(data) if name.endswith(".py") else ""]
    return found


def reference_fingerprints(solution: dict[str, Path]) -> dict[str, list[str]]:
    return {
        name: [_sha256(path.read_bytes()), program_digest(path.read_bytes()) if name.endswith(".py") else ""]
        for name, path in solution.items()
        if path.is_file()
    }


def program_digest(source: bytes) -> str:
    """The program with names numbered in order of appearance and docstrings dropped ("" if it does not parse):
    a copy with renamed variables, other comments or another layout has the same digest."""
    try:
        tree = _Normalised().visit(ast.parse(source))
    except (SyntaxError, ValueError, RecursionError):
        return ""
    return _sha256(ast.dump(tree, annotate_fields=False, include_attributes=False).encode())


def flag(results: list[WorkspaceResult], references: dict[str, dict[str, list[str]]]) -> None:
    """Set each exercise result's `flags` from the fingerprints its submission was graded with; `references`:
    exercise id -> the reference solution's fingerprints."""
    holders: dict[tuple[str, str, str, str], list[str]] = defaultdict(list)  # (exercise, file, how, digest) -> learners
    for result in results:
        for exercise in result.exercises:
            for name, (digest, program) in exercise.fingerprints.items():
                holders[(exercise.exercise_id, name, "identical", digest)].append(result.learner)
                if program:
                    holders[(exercise.exercise_id, name, "same program", program)].append(result.learner)
    for result in results:
        for exercise in result.exercises:
            exercise.flags = []
            reference = references.get(exercise.exercise_id, {})
            for name, (digest, program) in sorted(exercise.fingerprints.items()):
                ref_digest, ref_program = reference.get(name, ["", ""])
                how = (
                    "identical"
                    if digest == ref_digest
                    else "same program"
                    if program and program == ref_program
                    else ""
                )
                if how:
                    exercise.flags.append({"kind": "reference-copy", "file": name, "how": how, "with": REFERENCE})
                for how, value in (("identical", digest), ("same program", program)):
                    others = sorted(
                        {who for who in holders[(exercise.exercise_id, name, how, value)]} - {result.learner}
                    )
                    if value and others:
                        exercise.flags += [
                            {"kind": "classmate-copy", "file": name, "how": how, "with": who} for who in others
                        ]
                        break


class _Normalised(ast.NodeTransformer):
    """Names become v0, v1, ... in order of first appearance; docstrings go."""

    def __init__(self) -> None:
        self.names: dict[str, str] = {}

    def _renamed(self, name: str) -> str:
        return self.names.setdefault(name, f"v{len(self.names)}")

    def _without_docstring(self, node: _WithBody) -> _WithBody:
        body = node.body
        if (
            body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
        return node

    def visit_Module(self, node: ast.Module) -> ast.AST:
        return self.generic_visit(self._without_docstring(node))

    def visit_FunctionDef(self, node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
        node.name = self._renamed(node.name)
        return self.generic_visit(self._without_docstring(node))

    visit_AsyncFunctionDef = visit_FunctionDef

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.name = self._renamed(node.name)
        return self.generic_visit(self._without_docstring(node))

    def visit_Name(self, node: ast.Name) -> ast.Name:
        node.id = self._renamed(node.id)
        return node

    def visit_arg(self, node: ast.arg) -> ast.arg:
        node.arg = self._renamed(node.arg)
        node.annotation = None
        return node

    def visit_alias(self, node: ast.alias) -> ast.alias:
        node.asname = self._renamed(node.asname or node.name.split(".")[0])
        return node


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
