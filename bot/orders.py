"""A catalogue order as a person reads it: its lines and total, from the connector's facts.

The facts are connector/webhook/types.Order as a dict (metadata.whatsapp.order in Rasa's tracker):
{"catalog_id", "text", "items": [{"product_retailer_id", "quantity", "item_price", "currency"}]}.
Meta's item_price is the price of one unit. One owner for the arithmetic and the wording, so the
queue row (actions/order.py, connector/channel/turns.py) and the history's order card
(console/desk/history.py) show the same total.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any, Mapping

CENTS = Decimal("0.01")


@dataclass(frozen=True)
class OrderLine:
    product: str
    quantity: int | None
    price: Decimal | None
    currency: str

    @property
    def subtotal(self) -> Decimal | None:
        return None if self.quantity is None or self.price is None else self.price * self.quantity

    @property
    def price_text(self) -> str:
        return money(self.price, self.currency)

    @property
    def subtotal_text(self) -> str:
        return money(self.subtotal, self.currency)


@dataclass(frozen=True)
class OrderSummary:
    lines: tuple[OrderLine, ...]
    note: str = ""
    # Per currency (a catalogue has one; Meta does not promise it). Empty when a line lacks its
    # quantity or price: a total of the rest would look complete and be wrong.
    totals: tuple[tuple[str, Decimal], ...] = ()

    @property
    def total_text(self) -> str:
        return " + ".join(money(amount, currency) for currency, amount in self.totals) or "unknown"

    @property
    def text(self) -> str:
        """One line for the queue row and the handoff's preview; the total first, as the queue
        cuts long previews."""
        items = "; ".join(f"{line.quantity if line.quantity is not None else '?'} × {line.product}"
                          for line in self.lines)
        note = f" · “{self.note}”" if self.note else ""
        return f"Order, total {self.total_text}: {items or 'no items'}{note}"


def money(amount: Decimal | None, currency: str) -> str:
    return "?" if amount is None else f"{currency} {amount.quantize(CENTS):,}".strip()


def summarize(order: Mapping[str, Any]) -> OrderSummary:
    lines = tuple(
        OrderLine(str(item.get("product_retailer_id") or "?"), _quantity(item.get("quantity")),
                  _price(item.get("item_price")), str(item.get("currency") or ""))
        for item in order.get("items") or () if isinstance(item, Mapping))
    totals: dict[str, Decimal] = {}
    for line in lines:
        if line.subtotal is None:
            totals = {}
            break
        totals[line.currency] = totals.get(line.currency, Decimal(0)) + line.subtotal
    return OrderSummary(lines, str(order.get("text") or "").strip(), tuple(totals.items()) if lines else ())


def preview(order: Any) -> str | None:
    """The queue row's text for a message carrying `order` facts; None for any other message."""
    return summarize(order).text if isinstance(order, Mapping) else None


def _quantity(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _price(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        price = Decimal(str(value))  # via str: 30.1 stays 30.1, not its binary neighbour
    except InvalidOperation:
        return None
    return price if price.is_finite() and price >= 0 else None
