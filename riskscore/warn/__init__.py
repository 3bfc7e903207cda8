"""Early warning for buyers: who is still exposed to flagged shops, and a draft message.

Fake phone shops sell at half price, take the money and vanish; anti-fraud centres warn
would-be victims before the money is gone. :func:`warn_buyers` takes flagged sellers
(model band at or above a level, or a decision of hold/block) and lists, as of a time,
the buyers with open orders at them: paid but not delivered within N days, bought far
below the market price, or buyers of several flagged shops. One row per (buyer, order)
with the amount, the seller, the reasons and a message in English or Chinese.

**Nothing is sent by riskscore.** The list is for a person who checks it and signs off;
contacting buyers is the platform's own process. See ``docs/buyer-warnings.md`` for the
rules, the measured reach on the simulator and the sign-off workflow.

Examples
--------
>>> import pandas as pd
>>> from riskscore.warn import warn_buyers
>>> ts = pd.Timestamp
>>> tables = {
...     "listings": pd.DataFrame({"listing_id": ["L1"], "seller_id": ["S1"],
...         "product_id": [None], "category": ["phones"], "brand": ["Apple"],
...         "title": ["iPhone"], "price": [3000.0], "currency": ["CNY"],
...         "created_at": [ts("2024-05-01")]}),
...     "orders": pd.DataFrame({"order_id": ["O1"], "listing_id": ["L1"],
...         "seller_id": ["S1"], "buyer_id": ["B1"], "quantity": [1],
...         "amount": [3000.0], "created_at": [ts("2024-06-01")],
...         "ship_address_id": ["A1"], "status": ["shipped"], "delivered_at": [pd.NaT]}),
...     "sellers": pd.DataFrame({"seller_id": ["S1"],
...         "registered_at": [ts("2024-04-01")], "region": ["Fujian"]}),
... }
>>> rows = warn_buyers(tables, ["S1"], as_of="2024-06-20", language="zh")
>>> rows[["buyer_id", "order_id", "days_open", "reason_codes"]].to_dict("records")
[{'buyer_id': 'B1', 'order_id': 'O1', 'days_open': 19, 'reason_codes': 'NOT_DELIVERED'}]
>>> rows["reason_text"].iloc[0]
'已付款19天仍未收到货（时限为7天）'
"""

from __future__ import annotations

from riskscore.warn._flags import flagged_sellers
from riskscore.warn._messages import MESSAGE_TEMPLATES, REASONS, WarningReason
from riskscore.warn._open import orders_before
from riskscore.warn._summary import SIGN_OFF_NOTE, summarize_warnings
from riskscore.warn._warn import WARNING_COLUMNS, warn_buyers

__all__ = [
    "MESSAGE_TEMPLATES",
    "REASONS",
    "SIGN_OFF_NOTE",
    "WARNING_COLUMNS",
    "WarningReason",
    "flagged_sellers",
    "orders_before",
    "summarize_warnings",
    "warn_buyers",
]
