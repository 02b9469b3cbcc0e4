"""Exercises and their graded checks: the learner's `check` and the instructor's `grade` share this room.

Checks always come from the installed course (exercises/), never from a workspace; learner code runs in
the runtime's worker processes, never here. Nothing here imports Textual.
"""
