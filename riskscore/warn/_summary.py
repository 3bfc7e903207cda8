"""A short printed summary of a warning list, for the CLI and the demo."""

from __future__ import annotations

import pandas as pd

from riskscore._validation import check_frame, check_int
from riskscore.exceptions import ParameterError

__all__ = ["SIGN_OFF_NOTE", "summarize_warnings"]

#: The line every printed list ends with.
SIGN_OFF_NOTE = "nothing was sent: a person must check the list and sign off first"


def summarize_warnings(rows: pd.DataFrame, n: int = 5) -> str:
    """Return a few lines: totals, the ``n`` largest orders with reasons, the sign-off note.

    Parameters
    ----------
    rows : pandas.DataFrame
        Output of :func:`riskscore.warn.warn_buyers`.
    n : int, default 5
        Orders to show (largest amount first; 0 shows none).

    Examples
    --------
    >>> rows = pd.DataFrame({"buyer_id": ["B1"], "order_id": ["O1"], "seller_id": ["S1"],
    ...     "amount": [2700.0], "currency": ["CNY"], "reason_codes": ["NOT_DELIVERED"],
    ...     "as_of": [pd.Timestamp("2024-06-30")]})
    >>> print(summarize_warnings(rows))
    1 order(s) of 1 buyer(s) at 1 flagged seller(s), amount 2,700.00, as of 2024-06-30
      B1  O1  S1  2,700.00 CNY  NOT_DELIVERED
    nothing was sent: a person must check the list and sign off first
    """
    n = check_int(n, "n", "summarize_warnings", minimum=0)
    needed = ["buyer_id", "order_id", "seller_id", "amount", "currency", "reason_codes"]
    check_frame(rows, "rows", "summarize_warnings")
    missing = [c for c in [*needed, "as_of"] if c not in rows.columns]
    if missing:
        raise ParameterError(
            f"summarize_warnings: the warning list has no column(s) {missing}; pass the "
            "frame warn_buyers returns"
        )
    when = "" if rows.empty else f", as of {pd.Timestamp(rows['as_of'].iloc[0]):%Y-%m-%d}"
    lines = [
        f"{len(rows)} order(s) of {rows['buyer_id'].nunique()} buyer(s) at "
        f"{rows['seller_id'].nunique()} flagged seller(s), amount "
        f"{float(rows['amount'].sum()):,.2f}{when}"
    ]
    top = rows.sort_values(["amount", "order_id"], ascending=[False, True]).head(n)
    for r in top.to_dict("records"):
        currency = r["currency"] if isinstance(r["currency"], str) else ""
        lines.append(
            f"  {r['buyer_id']}  {r['order_id']}  {r['seller_id']}  "
            f"{float(r['amount']):,.2f} {currency}  {r['reason_codes']}".rstrip()
        )
    lines.append(SIGN_OFF_NOTE)
    return "\n".join(lines)
