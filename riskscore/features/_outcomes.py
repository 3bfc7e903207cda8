"""Which label rows are positives at a moment: confirmed, and not yet reversed.

A label row's ``outcome`` (optional; without the column every row is confirmed) says what
the review decided: only ``confirmed`` is a positive; ``cleared`` never is; ``reversed``
was a positive from ``decided_at`` until ``reversed_at``, when an appeal overturned it.
Features as of a moment and training targets read labels through :func:`positive_labels`
so the two agree.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import narwhals as nw

__all__ = ["positive_labels"]


def positive_labels(labels: Any, moment: datetime | nw.Expr | None = None) -> Any:
    """Keep the label rows that count as positives at ``moment``.

    ``labels`` is a native frame (returned native) or a narwhals frame (returned as one).

    ``moment`` is a datetime or a narwhals time literal; ``moment=None`` means "as known
    now": every dated reversal applies. A reversed row still counts at a moment before
    its ``reversed_at`` (what was known then).

    Examples
    --------
    >>> import pandas as pd
    >>> labels = pd.DataFrame({"seller_id": ["S1", "S2", "S3"],
    ...     "outcome": ["confirmed", "cleared", "reversed"],
    ...     "reversed_at": pd.to_datetime([None, None, "2024-05-01"])})
    >>> positive_labels(labels)["seller_id"].tolist()
    ['S1']
    >>> positive_labels(labels, datetime(2024, 4, 1))["seller_id"].tolist()
    ['S1', 'S3']
    """
    wrapped = isinstance(labels, nw.DataFrame | nw.LazyFrame)
    frame = labels if wrapped else nw.from_native(labels)
    names = frame.collect_schema().names()
    if "outcome" not in names:
        return labels
    confirmed = nw.col("outcome") == "confirmed"
    if "reversed_at" in names and moment is not None:
        still = (nw.col("outcome") == "reversed") & (nw.col("reversed_at") >= moment)
        keep = confirmed | still.fill_null(False)
    else:
        keep = confirmed
    kept = frame.filter(keep.fill_null(True))
    return kept if wrapped else kept.to_native()
