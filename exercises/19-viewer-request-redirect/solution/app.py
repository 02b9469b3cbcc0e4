"""Lambda@Edge, viewer request: the blog moved from /old-blog/ to /blog/."""

OLD_PREFIX = "/old-blog/"
NEW_PREFIX = "/blog/"


def handler(event, context):
    request = event["Records"][0]["cf"]["request"]
    uri = request["uri"]
    if uri.startswith(OLD_PREFIX):
        new_uri = NEW_PREFIX + uri[len(OLD_PREFIX):]
        # A generated response: CloudFront answers the viewer with it and goes no further.
        return {
            "status": "301",
            "statusDescription": "Moved Permanently",
            "headers": {
                "location": [{"key": "Location", "value": new_uri}],
            },
        }
    return request  # anything else carries on, unchanged
