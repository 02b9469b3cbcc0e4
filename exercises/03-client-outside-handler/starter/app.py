"""Look up a user's profile."""

from clients import ProfileClient


def handler(event, context):
    client = ProfileClient()
    return client.get_profile(event["user_id"])
