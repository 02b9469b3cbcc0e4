"""Identifiers in AWS's shapes, derived from the seed so that every run repeats them."""

from __future__ import annotations

import hashlib


def request_id(seed: int, number: int) -> str:
    """A version-4-shaped UUID for request `number`, like Lambda's aws_request_id."""
    h = hashlib.blake2b(f"{seed}:{number}".encode(), digest_size=16).hexdigest()
    return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:32]}"


def function_arn(region: str, account_id: str, function: str, qualifier: str | None = None) -> str:
    arn = f"arn:aws:lambda:{region}:{account_id}:function:{function}"
    return f"{arn}:{qualifier}" if qualifier else arn
