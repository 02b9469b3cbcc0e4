"""Lambda@Edge, viewer request: the blog moved from /old-blog/ to /blog/."""

OLD_PREFIX = "/old-blog/"
NEW_PREFIX = "/blog/"


def handler(event, context):
    request = event["Records"][0]["cf"]["request"]
    uri = request["uri"]
    if uri.startswith(OLD_PREFIX):
        new_uri = NEW_PREFIX + uri[len(OLD_PREFIX):]
        # Answer with a redirect instead of fetching the page.
        # (Written the way a web framework would take it: does CloudFront?)
        return {"status": 301, "headers": {"Location": new_uri}}
    return request
