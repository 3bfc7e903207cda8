"""Reason codes and message templates of a buyer warning, in English and Chinese.

Each reason is declared once (:data:`REASONS`: code, English and Chinese text with
placeholders); :data:`MESSAGE_TEMPLATES` hold the message a person may send to the buyer
after signing off. The wording says that the *shop is under review*, never that it is a
fraud: the list is a warning, not a finding.

Placeholders: ``{days_open}`` (whole days since the order was paid),
``{undelivered_days}`` (the N of the rule), ``{price_ratio}`` (price / market price, a
fraction), ``{flagged_shops}`` (flagged shops the buyer ordered from), and in the
messages ``{order_id}``, ``{amount}``, ``{currency}``, ``{date}`` (the order's day,
``YYYY-MM-DD``), ``{seller_id}`` and ``{reasons}`` (the reason texts joined).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "LANGUAGES",
    "MESSAGE_TEMPLATES",
    "REASONS",
    "WarningReason",
    "render_message",
    "render_reasons",
]

#: Languages of the reason texts and messages.
LANGUAGES: tuple[str, ...] = ("en", "zh")


@dataclass(frozen=True)
class WarningReason:
    """Why one order is on the warning list.

    Parameters
    ----------
    code : str
        Stable code, written to the ``reason_codes`` column.
    text_en, text_zh : str
        The reason in English and Chinese, with ``str.format`` placeholders.
    """

    code: str
    text_en: str
    text_zh: str

    def text(self, language: str, **values: Any) -> str:
        """Return the reason in ``language`` with its placeholders filled.

        Examples
        --------
        >>> REASONS["NOT_DELIVERED"].text("en", days_open=9, undelivered_days=7)
        'Paid 9 days ago and still not delivered (the limit is 7 days)'
        """
        template = self.text_zh if language == "zh" else self.text_en
        return template.format(**values)


#: The reasons, by code, in the order they are listed on a row.
REASONS: dict[str, WarningReason] = {
    r.code: r
    for r in (
        WarningReason(
            "NOT_DELIVERED",
            "Paid {days_open} days ago and still not delivered (the limit is "
            "{undelivered_days} days)",
            "已付款{days_open}天仍未收到货（时限为{undelivered_days}天）",
        ),
        WarningReason(
            "PRICE_FAR_BELOW_MARKET",
            "Bought at {price_ratio:.0%} of the market price of the same product",
            "成交价仅为同款商品市场价的{price_ratio:.0%}",
        ),
        WarningReason(
            "SEVERAL_FLAGGED_SHOPS",
            "The buyer ordered from {flagged_shops} shops under review",
            "该买家曾在{flagged_shops}家受审核店铺下单",
        ),
    )
}

#: The message to the buyer, by language.
MESSAGE_TEMPLATES: dict[str, str] = {
    "en": (
        "Dear customer, your order {order_id} of {amount} {currency} placed on {date} is "
        "with shop {seller_id}, which our risk team is reviewing. {reasons}. Please do not "
        "pay this shop again or pay anyone outside the platform, keep your payment "
        "records, and if the goods have not arrived ask customer service for a refund."
    ),
    "zh": (
        "尊敬的用户：您于{date}在店铺{seller_id}下的订单{order_id}（{amount} {currency}）"
        "所在店铺正在接受平台风控审核。{reasons}。请勿再向该店铺付款，也不要向平台外的任何人"
        "转账；请保留付款凭证，如未收到货物，请联系客服申请退款。"
    ),
}


def render_reasons(codes: Sequence[str], language: str, values: Mapping[str, Any]) -> str:
    """Return the texts of ``codes`` in ``language``, joined by ``"; "`` (``"；"`` in zh).

    Examples
    --------
    >>> render_reasons(["PRICE_FAR_BELOW_MARKET"], "zh", {"price_ratio": 0.45})
    '成交价仅为同款商品市场价的45%'
    """
    sep = "；" if language == "zh" else "; "
    return sep.join(REASONS[code].text(language, **values) for code in codes)


def render_message(language: str, values: Mapping[str, Any]) -> str:
    """Return the buyer message in ``language`` with every placeholder filled.

    Examples
    --------
    >>> text = render_message("en", {"order_id": "O1", "amount": "2,500.00",
    ...     "currency": "CNY", "date": "2024-06-01", "seller_id": "S2", "reasons": "R"})
    >>> text[:60]
    'Dear customer, your order O1 of 2,500.00 CNY placed on 2024-'
    """
    return MESSAGE_TEMPLATES[language].format(**values)
