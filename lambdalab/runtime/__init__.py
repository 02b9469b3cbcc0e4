"""Real handlers: each execution environment is a worker process running the learner's Python code. No Textual."""

from lambdalab.runtime.environment import (
    CodeTooLarge,
    ConfinementFailed,
    ExecutionEnvironment,
    FunctionCode,
    Invocation,
)

__all__ = ["CodeTooLarge", "ConfinementFailed", "ExecutionEnvironment", "FunctionCode", "Invocation"]
