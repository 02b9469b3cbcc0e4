"""A photo API behind API Gateway (REST API, Lambda proxy integration)."""

import json


def handler(event, context):
    photo_id = (event.get("pathParameters") or {}).get("photoId")
    if not photo_id:
        return _answer(400, {"error": "the path has no photo id"})
    return _answer(200, {"photo": photo_id})


def _answer(status, body):
    return {"statusCode": status, "headers": {"Content-Type": "application/json"}, "body": json.dumps(body)}
