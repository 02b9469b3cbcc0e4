"""The shop's payment and warehouse services (leave this file as it is).

They stand in for real services: each call is written to a table (lambdalab.services) that every execution
environment of the run shares. So that you, and the checks, see a mistake that would hurt a customer, they
refuse it: charging an order twice, shipping it twice, or refunding an order that was not charged or was
already refunded.
"""

from lambdalab.services import ConditionalCheckFailedException, Table


class DuplicateCharge(Exception):
    """The order was already charged: this call would take the customer's money a second time."""


class RefusedByWarehouse(Exception):
    """The order was already shipped, or refunded: this shipment or refund would be a second one."""


def charge(order_id: str, amount: int) -> dict:
    try:
        Table("charges", key="order_id").put({"order_id": order_id, "amount": amount}, if_new=True)
    except ConditionalCheckFailedException:
        raise DuplicateCharge(f"order {order_id} was already charged") from None
    return {"order_id": order_id, "charged": amount}


def ship(order_id: str) -> str:
    _once("shipments", order_id, "shipped")
    return f"parcel-{order_id}"


def refund(order_id: str) -> dict:
    charged = Table("charges", key="order_id").get(order_id)
    if charged is None:
        raise RefusedByWarehouse(f"order {order_id} was never charged: nothing to refund")
    _once("refunds", order_id, "refunded")
    return {"order_id": order_id, "refunded": charged["amount"]}


def _once(table: str, order_id: str, done: str) -> None:
    try:
        Table(table, key="order_id").put({"order_id": order_id}, if_new=True)
    except ConditionalCheckFailedException:
        raise RefusedByWarehouse(f"order {order_id} was already {done}") from None
