import time

time.sleep(0.3)  # an expensive import: the Init phase


def handler(event, context):
    return "ready"
