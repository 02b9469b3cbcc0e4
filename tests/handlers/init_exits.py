"""Gives up during Init by exiting the process."""

import sys

sys.exit(3)


def handler(event, context):
    return "never"
