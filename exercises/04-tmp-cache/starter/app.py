"""Convert an amount to US dollars with today's exchange rates, which take a while to download."""

import time


def download_rates():
    """Pretend download of today's rates from a slow service (0.2 s). Do not change this function."""
    print("downloading rates")
    time.sleep(0.2)
    return {"EUR": 1.08, "GBP": 1.27, "JPY": 0.0067}


def load_rates():
    # TODO: keep the rates in /tmp/rates.json and reuse them; say "cache hit" or "cache miss".
    print("cache miss")
    return download_rates()


def handler(event, context):
    rates = load_rates()
    currency = event["currency"]
    return {"currency": currency, "amount": event["amount"], "usd": round(event["amount"] * rates[currency], 2)}
