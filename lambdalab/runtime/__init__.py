"""Real handlers: each execution environment is a worker process running the learner's Python code. No Textual."""

from lambdalab.runtime.environment import ExecutionEnvironment, FunctionCode, Invocation

__all__ = ["ExecutionEnvironment", "FunctionCode", "Invocation"]
