"""Price a basket. The shop's backend invokes this function directly and waits for the quote:

    {"customer": "c-1042", "currency": "EUR",
     "lines": [{"sku": "TEA-01", "qty": 2, "unit_price": "3.50"}, ...]}
"""

import json
import uuid
from datetime import datetime, timedelta, timezone


def handler(event, context):
    basket = json.loads(event)
    total = sum(float(line["unit_price"]) * line["qty"] for line in basket["lines"])
    return {
        "quote_id": str(uuid.uuid4()),
        "customer": basket["customer"],
        "currency": basket["currency"],
        "total": total,
        "valid_until": datetime.now(timezone.utc) + timedelta(minutes=15),
    }
