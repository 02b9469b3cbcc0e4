"""Reacts to new photos: the bucket sends an S3 event notification to this function for each upload."""

from urllib.parse import unquote_plus


def handler(event, context):
    objects = []
    for record in event["Records"]:
        bucket = record["s3"]["bucket"]["name"]
        key = unquote_plus(record["s3"]["object"]["key"])  # "my+cat%281%29.jpg" -> "my cat(1).jpg"
        print(f"new object: s3://{bucket}/{key}")
        objects.append({"bucket": bucket, "key": key})
    return {"objects": objects}
