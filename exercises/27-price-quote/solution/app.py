"""Price a basket. The shop's backend invokes this function directly and waits for the quote:

    {"customer": "c-1042", "currency": "EUR",
     "lines": [{"sku": "TEA-01", "qty": 2, "unit_price": "3.50"}, ...]}
"""

from datetime import datetime, timedelta, timezone
from decimal import Decimal


def handler(event, context):
    # `event` is the caller's JSON, already parsed: a dict, not text.
    total = sum((Decimal(line["unit_price"]) * line["qty"] for line in event["lines"]), Decimal("0"))
    valid_until = datetime.now(timezone.utc) + timedelta(minutes=15)
    return {
        # The ID Lambda gave this invocation: the same one is on its START, END and REPORT log lines.
        "quote_id": context.aws_request_id,
        "customer": event["customer"],
        "currency": event["currency"],
        # Lambda turns the return value into JSON: only values JSON can hold, in the contract's shape.
        "total": f"{total:.2f}",  # exact decimals, as text (a float gives 12.299999999999999 for 3 x 4.10)
        "valid_until": valid_until.isoformat(),  # a datetime is not JSON; ISO 8601 text is
    }
