"""A photo API behind API Gateway (REST API, Lambda proxy integration)."""


def handler(event, context):
    photo_id = event["pathParameters"]["photoId"]
    return {"photo": photo_id}
