"""The results channel from a submission's grading process to `lambdalab grade`: one line per result,
signed with a secret made for this one submission. Student code runs in the grading process's own
descendants; should it reach the channel (its descriptor under /proc, where nothing else stops it), a line
it writes has no valid signature and is counted as forged, never read as a result."""

from __future__ import annotations

import hashlib
import hmac


def sign(secret: bytes, body: str) -> str:
    return f"{hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()} {body}\n"


def verify(secret: bytes, line: str) -> str | None:
    """The body of a line the grading process wrote, or None for anything else."""
    mac, _, body = line.rstrip("\n").partition(" ")
    expected = hmac.new(secret, body.encode(), hashlib.sha256).hexdigest()
    return body if hmac.compare_digest(mac, expected) else None
