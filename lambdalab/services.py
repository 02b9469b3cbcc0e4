"""Simulated AWS services for learners' handlers in exercises: a key-value table, like a small DynamoDB
table, so a check can see what the code wrote (was order 42 charged twice?).

    from lambdalab.services import Table, ConditionalCheckFailedException
    charges = Table("charges", key="order_id")
    charges.put({"order_id": "42", "amount": 10})
    charges.put({"order_id": "42", "amount": 10}, if_new=True)  # raises ConditionalCheckFailedException
    charges.get("42")  # {"order_id": "42", "amount": 10}

A put replaces the item with the same key, as DynamoDB's PutItem does; `if_new=True` is PutItem with
`attribute_not_exists(key)`. Each table is a log of puts in a JSON-lines file, in the folder the check
names in LAMBDALAB_SERVICES, shared by every execution environment of the check and locked while written;
checks read the log, so every write counts, even one that replaced an item.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

if sys.platform != "win32":
    import fcntl
else:  # no file locks on Windows: environments there run one at a time anyway
    fcntl = None


class ConditionalCheckFailedException(Exception):
    """A conditional put found the item already there, as DynamoDB reports it."""


class Table:
    def __init__(self, name: str, key: str = "id"):
        folder = Path(os.environ.get("LAMBDALAB_SERVICES") or Path(tempfile.gettempdir()) / "lambdalab-services")
        folder.mkdir(parents=True, exist_ok=True)
        self.path = folder / f"{name}.jsonl"
        self.key = key

    def put(self, item: dict[str, Any], if_new: bool = False) -> None:
        """Store an item, replacing the one with the same key; with `if_new`, only if there is none."""
        if self.key not in item:
            raise ValueError(f"One of the required keys was not given a value: {self.key}")
        with open(self.path, "a+", encoding="utf-8") as handle:
            if fcntl:
                fcntl.flock(handle, fcntl.LOCK_EX)
            if if_new:
                handle.seek(0)
                if any(json.loads(row).get(self.key) == item[self.key] for row in handle if row.strip()):
                    raise ConditionalCheckFailedException("The conditional request failed")
            handle.write(json.dumps(item, sort_keys=True) + "\n")

    def get(self, value: Any) -> dict[str, Any] | None:
        """The item whose key is `value`, or None."""
        return self.items().get(value)

    def items(self) -> dict[Any, dict[str, Any]]:
        """The table now: key -> item."""
        return {item[self.key]: item for item in writes(self.path)}


def writes(path: Path) -> list[dict[str, Any]]:
    """Every put made to a table, in order (what a check looks at)."""
    if not path.is_file():
        return []
    return [json.loads(row) for row in path.read_text("utf-8").splitlines() if row.strip()]
