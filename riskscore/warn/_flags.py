"""Which sellers are flagged: from a scores or decisions frame, or a list of seller ids.

A scores frame is what ``riskscore score`` and :meth:`riskscore.scoring.Scorer.score_many`
write (``seller_id``, ``band``, ``as_of``, and with a rule set ``action``); a decisions
frame is :meth:`riskscore.rules.Decision.to_dict` rows (``entity_id``, ``band``,
``action``). A seller is flagged when its band is ``min_band`` or above, or its action is
one of ``actions``. A missing band (a decision made without a model) never meets
``min_band``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

import pandas as pd

from riskscore.exceptions import ParameterError
from riskscore.modeling._bands import BANDS
from riskscore.rules._decision import ACTIONS
from riskscore.warn._open import as_of_time

__all__ = ["FLAG_COLUMNS", "flagged_sellers"]

#: Columns of :func:`flagged_sellers` output.
FLAG_COLUMNS: tuple[str, ...] = ("seller_id", "seller_band", "seller_action")

_WHERE = "warn_buyers"
_N_EXAMPLES = 5


def flagged_sellers(
    flagged: Any,
    *,
    min_band: str | None = "high",
    actions: Sequence[str] | None = None,
    as_of: Any = None,
) -> pd.DataFrame:
    """Return the flagged sellers: ``seller_id``, ``seller_band``, ``seller_action``.

    Parameters
    ----------
    flagged : DataFrame or iterable of str
        A scores / decisions frame (see the module docstring), or seller ids that are
        flagged as they are (then ``min_band`` and ``actions`` are not used).
    min_band : {"low", "medium", "high", "critical"} or None, default "high"
        Flag sellers whose ``band`` is this or above. None: bands are not used.
    actions : sequence of {"allow", "review", "hold", "block"}, optional
        Flag sellers whose ``action`` is one of these (e.g. ``("hold", "block")``).
    as_of : timestamp-like, optional
        When the frame has an ``as_of`` column, every value must be at or before this
        time (flags from the future would leak).

    Returns
    -------
    pandas.DataFrame
        One row per flagged seller, sorted by ``seller_id``.

    Raises
    ------
    ParameterError
        No id column, a band or action column needed but missing, unknown band or
        action values, duplicated ids, or scores made after ``as_of``.

    Examples
    --------
    >>> import pandas as pd
    >>> scores = pd.DataFrame({"seller_id": ["S1", "S2", "S3"],
    ...                        "band": ["low", "high", "critical"]})
    >>> flagged_sellers(scores, min_band="high")["seller_id"].tolist()
    ['S2', 'S3']
    >>> flagged_sellers(["S9"])["seller_id"].tolist()
    ['S9']
    """
    if min_band is not None and min_band not in BANDS:
        raise ParameterError(
            f"The 'min_band' parameter of {_WHERE} must be one of {list(BANDS)} or None. "
            f"Got {min_band!r} instead."
        )
    wanted = _check_actions(actions)
    moment = None if as_of is None else as_of_time(as_of, "flagged_sellers")
    if isinstance(flagged, pd.DataFrame):
        return _from_frame(flagged, min_band, wanted, moment)
    if isinstance(flagged, str | bytes) or not isinstance(flagged, Iterable):
        raise ParameterError(
            f"The 'flagged' parameter of {_WHERE} must be a scores or decisions DataFrame "
            f"or a list of seller ids. Got {type(flagged).__name__} instead."
        )
    ids = sorted({str(s) for s in flagged})
    return pd.DataFrame(
        {"seller_id": pd.Series(ids, dtype="str"), "seller_band": None, "seller_action": None}
    ).astype({"seller_band": "object", "seller_action": "object"})


def _check_actions(actions: Sequence[str] | None) -> tuple[str, ...] | None:
    if actions is None:
        return None
    if isinstance(actions, str):
        actions = [actions]
    wanted = tuple(actions)
    bad = [a for a in wanted if a not in ACTIONS]
    if bad or not wanted:
        raise ParameterError(
            f"The 'actions' parameter of {_WHERE} must be a non-empty list of actions from "
            f"{list(ACTIONS)}, e.g. ('hold', 'block'). Got {actions!r} instead."
        )
    return wanted


def _from_frame(
    frame: pd.DataFrame,
    min_band: str | None,
    actions: tuple[str, ...] | None,
    as_of: datetime | None,
) -> pd.DataFrame:
    id_col = next((c for c in ("seller_id", "entity_id") if c in frame.columns), None)
    if id_col is None:
        raise ParameterError(
            f"{_WHERE}: the flagged frame has no 'seller_id' (scores) or 'entity_id' "
            f"(decisions) column; its columns are {list(frame.columns)[:12]}. Pass seller "
            "scores (riskscore score with a seller model) or seller decisions."
        )
    if min_band is None and actions is None:
        raise ParameterError(
            f"{_WHERE}: nothing decides which sellers are flagged; pass min_band (e.g. "
            "'high') or actions (e.g. ('hold', 'block')), or a list of seller ids."
        )
    needed = (["band"] if min_band is not None else []) + (["action"] if actions else [])
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ParameterError(
            f"{_WHERE}: the flagged frame has no column(s) {missing}; its columns are "
            f"{list(frame.columns)[:12]}. Use scores with bands for min_band, decisions "
            "(riskscore score --rules) for actions, or drop the option."
        )
    ids = frame[id_col]
    if ids.isna().any():
        rows = ids.index[ids.isna()].tolist()
        raise ParameterError(
            f"{_WHERE}: {len(rows)} row(s) of the flagged frame have no {id_col} (rows "
            f"{rows[:_N_EXAMPLES]}); drop them or fill the id."
        )
    ids = ids.astype("str")
    dup = ids[ids.duplicated()].unique().tolist()
    if dup:
        raise ParameterError(
            f"{_WHERE}: {len(dup)} seller id(s) appear more than once in the flagged frame "
            f"(e.g. {dup[:_N_EXAMPLES]}); pass one score or decision per seller."
        )
    if as_of is not None and "as_of" in frame.columns:
        _check_as_of(frame["as_of"], ids, as_of)
    band = _values(frame, "band", ids, BANDS)
    action = _values(frame, "action", ids, ACTIONS)
    flag = pd.Series(False, index=frame.index)
    if min_band is not None:
        rank = band.map({b: i for i, b in enumerate(BANDS)})
        flag |= rank.ge(BANDS.index(min_band)).fillna(False).astype(bool)
    if actions is not None:
        flag |= action.isin(actions)
    out = pd.DataFrame(
        {
            "seller_id": ids[flag].to_numpy(),
            "seller_band": band[flag].astype("object").to_numpy(),
            "seller_action": action[flag].astype("object").to_numpy(),
        }
    )
    out["seller_id"] = out["seller_id"].astype("str")
    return out.sort_values("seller_id", kind="stable").reset_index(drop=True)


def _values(frame: pd.DataFrame, column: str, ids: pd.Series, allowed: Sequence[str]) -> pd.Series:
    """Return ``frame[column]`` (None when absent); raise on values outside ``allowed``."""
    if column not in frame.columns:
        return pd.Series(None, index=frame.index, dtype="object")
    values = frame[column].astype("object").where(frame[column].notna(), None)
    bad = values.notna() & ~values.isin(list(allowed))
    if bad.any():
        examples = [f"{i}: {v!r}" for i, v in zip(ids[bad], values[bad], strict=True)]
        raise ParameterError(
            f"{_WHERE}: column '{column}' of the flagged frame has {int(bad.sum())} value(s) "
            f"that are not one of {list(allowed)} (e.g. {examples[:_N_EXAMPLES]}); pass "
            "riskscore's own scores or decisions."
        )
    return values


def _check_as_of(stamps: pd.Series, ids: pd.Series, as_of: datetime) -> None:
    times = pd.to_datetime(stamps, errors="coerce", utc=True).dt.tz_localize(None)
    late = times > pd.Timestamp(as_of)
    if late.any():
        examples = [f"{i}: {t}" for i, t in zip(ids[late], stamps[late], strict=True)]
        raise ParameterError(
            f"{_WHERE}: {int(late.sum())} score(s) were made as of a time after as_of="
            f"{pd.Timestamp(as_of).isoformat()} (e.g. {examples[:_N_EXAMPLES]}); a warning "
            "as of a time may use only what was known then: score as of that time or "
            "earlier."
        )
