"""Reacts to new photos: the bucket sends an S3 event notification to this function for each upload."""


def handler(event, context):
    record = event["Records"][0]
    bucket = record["s3"]["bucket"]["name"]
    key = record["s3"]["object"]["key"]
    print(f"new object: s3://{bucket}/{key}")
    return {"objects": [{"bucket": bucket, "key": key}]}
