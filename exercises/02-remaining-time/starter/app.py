"""Resize a batch of photos. Each photo takes about 0.1 s; a big batch takes longer than the timeout."""

import time


def resize(photo_id):
    """Pretend work: resize one photo (about 0.1 s)."""
    time.sleep(0.1)


def handler(event, context):
    processed = []
    for photo_id in event["photos"]:
        resize(photo_id)
        processed.append(photo_id)
    return {"processed": processed, "unprocessed": []}
