"""Thumbnail jobs from an SQS queue, delivered in batches by an event source mapping."""

import json

SIZES = {"small": 128, "medium": 512, "large": 1024}


def make_thumbnail(job):
    """Checks one job and "renders" it; raises ValueError for a job that can never succeed."""
    photo_id = job.get("photoId")
    if not photo_id:
        raise ValueError("the job has no photoId")
    if job.get("size") not in SIZES:
        raise ValueError(f"unknown size {job.get('size')!r} for {photo_id}")
    return f"thumbnails/{photo_id}-{SIZES[job['size']]}.jpg"


def handler(event, context):
    for record in event["Records"]:
        job = json.loads(record["body"])
        path = make_thumbnail(job)
        print(f"{record['messageId']}: wrote {path}")
