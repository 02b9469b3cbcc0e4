"""The shop's mail service (leave this file as it is).

It stands in for a real one: every receipt sent is written to a table (lambdalab.services) that all execution
environments of the run share. A real service would deliver a second receipt for the same order, and the
customer would get two; so that you, and the checks, see it at once, this one raises DuplicateReceipt instead.

Like many APIs that have side effects, it takes an idempotency key: a second call with a key it has seen
sends nothing and answers with the first call's message id. MAIL_DELAY_S (seconds, default 0) makes it slow
to answer after it has sent a message, as a busy service is.
"""

import os
import time

from lambdalab.services import ConditionalCheckFailedException, Table


class DuplicateReceipt(Exception):
    """The customer already got the receipt for this order: this one would be a second copy."""


def send_receipt(order_id: str, email: str, total: int, idempotency_key: str | None = None) -> str:
    """Email the order's receipt; the sent message's id."""
    keys = Table("idempotency-keys", key="key")
    if idempotency_key is not None:
        seen = keys.get(idempotency_key)
        if seen is not None:
            return seen["message_id"]
    message_id = f"msg-{order_id}"
    try:
        Table("receipts", key="order_id").put({"order_id": order_id, "to": email, "total": total}, if_new=True)
    except ConditionalCheckFailedException:
        raise DuplicateReceipt(f"{email} already got the receipt for order {order_id}") from None
    if idempotency_key is not None:
        keys.put({"key": idempotency_key, "message_id": message_id})
    time.sleep(float(os.environ.get("MAIL_DELAY_S", "0")))
    return message_id
