"""IAM's wildcard matching, compiled once per pattern.

Actions match case-insensitively (`s3:getobject` is `s3:GetObject`); ARNs and
condition strings case-sensitively; `*` is any run of characters (crossing `/`
and `:`), `?` exactly one, and everything else literal, `.` included
(https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_action.html,
https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_elements_resource.html).
"""

from __future__ import annotations

import re
from functools import lru_cache


@lru_cache(maxsize=65536)
def wildcard(pattern: str, ignore_case: bool = False) -> re.Pattern[str]:
    parts = []
    for ch in pattern:
        parts.append(".*" if ch == "*" else "." if ch == "?" else re.escape(ch))
    return re.compile("".join(parts), re.DOTALL | (re.IGNORECASE if ignore_case else 0))


def matches(pattern: str, value: str, ignore_case: bool = False) -> bool:
    return wildcard(pattern, ignore_case).fullmatch(value) is not None


def arn_matches(pattern: str, arn: str) -> bool:
    """ArnLike / ArnEquals: each of the six colon-separated parts is matched on its own, wildcards allowed;
    the last part (the resource) keeps any further colons."""
    if pattern == "*":
        return True
    pattern_parts, arn_parts = pattern.split(":", 5), arn.split(":", 5)
    if len(pattern_parts) != 6 or len(arn_parts) != 6:
        return False
    return all(matches(p, a) for p, a in zip(pattern_parts, arn_parts))
