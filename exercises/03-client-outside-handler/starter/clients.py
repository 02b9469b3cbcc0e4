"""A stand-in for an expensive client, like boto3.client("dynamodb") or a database connection: creating
one loads configuration, resolves credentials and opens connections, which takes a while (here 0.2 s).
You do not need to change this file."""

import time


class ProfileClient:
    def __init__(self):
        print("creating client")
        time.sleep(0.2)

    def get_profile(self, user_id):
        return {"user_id": user_id, "plan": "pro" if user_id.endswith("7") else "free"}
