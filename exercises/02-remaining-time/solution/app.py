"""Resize a batch of photos. Each photo takes about 0.1 s; a big batch takes longer than the timeout."""

import time

PHOTO_MS = 100  # how long one photo takes, at most
SAFETY_MS = 250  # time kept back to build and return the answer


def resize(photo_id):
    """Pretend work: resize one photo (about 0.1 s)."""
    time.sleep(0.1)


def handler(event, context):
    photos = event["photos"]
    processed = []
    for photo_id in photos:
        if context.get_remaining_time_in_millis() < PHOTO_MS + SAFETY_MS:
            break  # not enough time for one more: stop while we can still answer
        resize(photo_id)
        processed.append(photo_id)
    return {"processed": processed, "unprocessed": photos[len(processed):]}
