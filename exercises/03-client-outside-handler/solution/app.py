"""Look up a user's profile."""

from clients import ProfileClient

# Created once, during Init, and reused by every request this execution environment serves.
client = ProfileClient()


def handler(event, context):
    return client.get_profile(event["user_id"])
