"""Lambda@Edge, origin response: add security headers before CloudFront caches the response."""

SECURITY_HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains; preload",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "default-src 'self'",
}


def handler(event, context):
    response = event["Records"][0]["cf"]["response"]
    headers = response["headers"]
    for name, value in SECURITY_HEADERS.items():
        # CloudFront's format: the lower-case name, holding a list of {key, value}.
        # Assigning replaces whatever the origin sent under that name.
        headers[name.lower()] = [{"key": name, "value": value}]
    return response  # status, body and the origin's other headers unchanged
