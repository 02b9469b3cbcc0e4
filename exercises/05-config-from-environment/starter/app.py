"""Record an order and greet the customer."""

from lambdalab.services import Table

TABLE_NAME = "orders-dev"
GREETING = "Hello"


def handler(event, context):
    orders = Table(TABLE_NAME, key="order_id")
    orders.put({"order_id": event["order_id"], "customer": event["name"]})
    return {"message": f"{GREETING}, {event['name']}!", "table": TABLE_NAME}
