"""Scenario units: durations, rates and sizes as written by people.

A bare number is seconds (durations), per second (rates) or bytes (sizes), as in
the scenario contract (shared/spec/scenarios.md, "Units").
"""

from __future__ import annotations

import math
import re
from typing import TypeGuard

# The unit may be left out, in a file or on the command line ("--timeout 3" as the AWS CLI takes it): a bare
# number has the same meaning as a bare YAML number.
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)?\s*$")
_RATE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:/\s*(ms|s|m|h))?\s*$")
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?\s*$")
_SECONDS = {None: 1.0, "ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0}  # d: 24 h (the spec's 2026 keys)
# AWS writes MB for MiB (QUOTAS: https://docs.aws.amazon.com/lambda/latest/dg/gettingstarted-limits.html)
_BYTES = {None: 1, "B": 1, "KB": 1024, "MB": 1024**2, "GB": 1024**3}

DURATION_HINT = "a duration such as 250ms, 3s, 5m or 6h (a bare number means seconds)"
RATE_HINT = "a rate such as 100/s or 6000/m (a bare number means per second)"
SIZE_HINT = "a size such as 1024, 256KB or 6MB (a bare number means bytes)"
# Nothing in a scenario lasts longer (Kinesis keeps records up to 365 days, the longest AWS figure here);
# beyond it a number is a typo, and at 1e308 seconds the arithmetic overflows.
MAX_DURATION_S = 366 * 24 * 3600.0


def _is_number(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def parse_duration(value: object) -> float:
    """Seconds from `3`, `2.5`, `"250ms"`, `"5m"`; ValueError otherwise."""
    seconds = None
    if _is_number(value):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a number of seconds; expected {DURATION_HINT}")
        if value < 0:
            raise ValueError(f"{value} is negative; expected {DURATION_HINT}")
        seconds = float(value)
    elif isinstance(value, str) and (match := _DURATION.match(value)):
        seconds = float(match.group(1)) * _SECONDS[match.group(2)]
    if seconds is None:
        raise ValueError(f"{value!r} is not {DURATION_HINT}")
    if seconds > MAX_DURATION_S:
        raise ValueError(f"{value!r} is more than a year; expected {DURATION_HINT}")
    return seconds


def parse_rate(value: object) -> float:
    """Events per second from `100`, `"100/s"`, `"6000/m"`; ValueError otherwise."""
    if _is_number(value):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a number per second; expected {RATE_HINT}")
        if value < 0:
            raise ValueError(f"{value} is negative; expected {RATE_HINT}")
        return float(value)
    if isinstance(value, str):
        match = _RATE.match(value)
        if match:
            return float(match.group(1)) / _SECONDS[match.group(2)]
    raise ValueError(f"{value!r} is not {RATE_HINT}")


def parse_size(value: object) -> int:
    """Bytes from `1024`, `"256KB"`, `"6MB"`; ValueError otherwise."""
    if _is_number(value):
        if not math.isfinite(value):
            raise ValueError(f"{value} is not a number of bytes; expected {SIZE_HINT}")
        if value < 0:
            raise ValueError(f"{value} is negative; expected {SIZE_HINT}")
        return int(value)
    if isinstance(value, str):
        match = _SIZE.match(value)
        if match:
            return int(float(match.group(1)) * _BYTES[match.group(2)])
    raise ValueError(f"{value!r} is not {SIZE_HINT}")


def format_duration(seconds: float) -> str:
    """The shortest honest spelling: 250ms, 3s, 1.5s, 5m, 6h."""
    for unit, scale in (("h", 3600.0), ("m", 60.0)):
        if seconds >= scale and (seconds / scale).is_integer():
            return f"{int(seconds / scale)}{unit}"
    if seconds >= 1 or seconds == 0:
        return f"{seconds:g}s"
    return f"{seconds * 1000:g}ms"
