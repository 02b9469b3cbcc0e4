"""Reads its configuration at import, and the variable is not set: a KeyError during Init."""

import os

DATABASE_URL = os.environ["DATABASE_URL"]


def handler(event, context):
    return DATABASE_URL
