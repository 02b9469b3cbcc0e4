"""Convert an amount to US dollars with today's exchange rates, which take a while to download."""

import json
import os
import tempfile
import time

# /tmp on Lambda; tempfile.gettempdir() finds it (and the private folder lambdalab gives each environment).
CACHE_FILE = os.path.join(tempfile.gettempdir(), "rates.json")


def download_rates():
    """Pretend download of today's rates from a slow service (0.2 s). Do not change this function."""
    print("downloading rates")
    time.sleep(0.2)
    return {"EUR": 1.08, "GBP": 1.27, "JPY": 0.0067}


def load_rates():
    if os.path.exists(CACHE_FILE):
        print("cache hit")
        with open(CACHE_FILE, encoding="utf-8") as cached:
            return json.load(cached)
    print("cache miss")
    rates = download_rates()
    partial = CACHE_FILE + ".partial"  # write, then rename: a request never reads a half-written file
    with open(partial, "w", encoding="utf-8") as out:
        json.dump(rates, out)
    os.replace(partial, CACHE_FILE)
    return rates


def handler(event, context):
    rates = load_rates()
    currency = event["currency"]
    return {"currency": currency, "amount": event["amount"], "usd": round(event["amount"] * rates[currency], 2)}
