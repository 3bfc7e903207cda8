"""``build_training_set``: features at several cutoffs with the labels that followed.

A row is (entity, cutoff). Its features are those of :func:`build_features` at the cutoff;
its label is 1 when a label of the target kind is decided in
``(cutoff + label_delay, cutoff + label_delay + horizon]``. Entities labelled (same kind)
before the cutoff are left out: they are already known. The leakage guard refuses
precomputed features whose timestamps are not strictly before their cutoff.

Features that would read the latest state of the tables instead of their state at the
cutoff (see :func:`~riskscore.features.not_point_in_time`: refund and cancel rates when the
orders table has only the latest ``status``) are left out unless
``allow_not_point_in_time=True``; the training set records what happened in
``attrs["riskscore_point_in_time"]``, and the model card trained on it says so.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from datetime import timedelta
from typing import Any

import narwhals as nw
import numpy as np
import pandas as pd

from riskscore._config import DEFAULT_WINDOWS
from riskscore._deprecation import keyword_only_after
from riskscore._validation import fail
from riskscore.exceptions import FeatureError, LeakageError
from riskscore.features import _backend
from riskscore.features._build import TimeLike, _check_entity, build_features, parse_time
from riskscore.features._catalog import Entity, catalog
from riskscore.features._context import DEFAULT_PRIOR_WEIGHT, KEYS
from riskscore.features._outcomes import positive_labels
from riskscore.schema import LABEL_KINDS

__all__ = [
    "POINT_IN_TIME_ATTR",
    "build_training_set",
    "check_leakage",
    "default_cutoffs",
    "label_events",
    "point_in_time_text",
]

#: Key of ``DataFrame.attrs`` where a training set records its features that are not
#: point-in-time on the tables it came from, and whether they were kept.
POINT_IN_TIME_ATTR = "riskscore_point_in_time"

#: How many offending rows a leakage error shows.
_N_EXAMPLES = 5


def _check_target(target: Any) -> str:
    if target not in LABEL_KINDS:
        raise FeatureError(f"unknown target {target!r}; use one of {', '.join(LABEL_KINDS)}")
    return str(target)


def _duration(value: Any, what: str, *, positive: bool) -> pd.Timedelta:
    try:
        delta = pd.Timedelta(value)
    except (TypeError, ValueError) as err:
        raise FeatureError(
            f"{what}={value!r} is not a duration; use e.g. '60D', '12h' or a timedelta"
        ) from err
    if delta is pd.NaT or (delta <= pd.Timedelta(0) if positive else delta < pd.Timedelta(0)):
        bound = "> 0" if positive else ">= 0"
        raise FeatureError(f"{what} must be a duration {bound}; got {value!r}")
    return delta


def _cutoffs(cutoffs: Any) -> list[pd.Timestamp]:
    if cutoffs is None or isinstance(cutoffs, str) or not isinstance(cutoffs, Iterable):
        raise FeatureError(
            "cutoffs must be a list of timestamps, e.g. ['2024-03-31', '2024-06-30']; "
            f"got {cutoffs!r}"
        )
    parsed = sorted({pd.Timestamp(parse_time(c, "cutoff")) for c in cutoffs})
    if not parsed:
        raise FeatureError("cutoffs is empty; pass at least one cutoff timestamp")
    return parsed


def _naive_utc(series: pd.Series) -> pd.Series:
    if isinstance(series.dtype, pd.DatetimeTZDtype):
        series = series.dt.tz_convert("UTC").dt.tz_localize(None)
    return series.astype("datetime64[us]")


def _pandas_table(native: Any, columns: Sequence[str]) -> pd.DataFrame:
    frame = nw.from_native(native)
    present = [c for c in columns if c in frame.collect_schema().names()]
    return _backend.to_pandas(frame.select(present).to_native()).reset_index(drop=True)


def label_events(tables: Mapping[str, Any], entity: Entity, target: str) -> pd.DataFrame:
    """Return ``entity_id, decided_at`` of every label of kind ``target`` for ``entity``.

    Only confirmed outcomes count: rows whose ``outcome`` is ``cleared`` or ``reversed``
    are not positives (a target is read with what is known now, so every dated reversal
    applies; features as of a moment count a reversed row until its ``reversed_at``).
    Seller labels are the rows without a ``listing_id``. A listing is labelled by a row
    naming it, or by a seller row for its seller: a seller found selling counterfeits
    taints every listing it has (so a listing model learns from both kinds of evidence).

    Examples
    --------
    >>> import pandas as pd
    >>> labels = pd.DataFrame({"seller_id": ["S1", "S2"], "listing_id": [None, "L9"],
    ...     "label": ["fraud", "counterfeit"],
    ...     "decided_at": pd.to_datetime(["2024-03-01", "2024-04-01"])})
    >>> label_events({"labels": labels}, "seller", "fraud")["entity_id"].tolist()
    ['S1']
    """
    if "labels" not in tables:
        raise FeatureError(
            "a training set needs the 'labels' table (enforcement outcomes with decided_at)"
        )
    labels = _pandas_table(
        tables["labels"],
        ["seller_id", "listing_id", "label", "decided_at", "outcome", "reversed_at"],
    )
    labels = positive_labels(labels)  # cleared and reversed rows are not positives
    if "listing_id" not in labels.columns:
        labels["listing_id"] = pd.Series(pd.NA, index=labels.index, dtype="str")
    labels = labels[labels["label"] == target]
    labels = labels.assign(decided_at=_naive_utc(labels["decided_at"]))
    on_seller = labels["listing_id"].isna()
    sellers = labels.loc[on_seller, ["seller_id", "decided_at"]]
    if entity == "seller":
        events = sellers.rename(columns={"seller_id": "entity_id"})
    else:
        owners = _pandas_table(tables["listings"], ["listing_id", "seller_id"])
        via_seller = owners.merge(sellers, on="seller_id")[["listing_id", "decided_at"]]
        own = labels.loc[~on_seller, ["listing_id", "decided_at"]]
        events = pd.concat([own, via_seller], ignore_index=True).rename(
            columns={"listing_id": "entity_id"}
        )
    return events.astype({"entity_id": "str"}).reset_index(drop=True)


def check_leakage(
    features: pd.DataFrame, *, cutoff: str = "cutoff", key: str = "entity_id"
) -> None:
    """Raise :class:`~riskscore.exceptions.LeakageError` if features could see the future.

    Every timestamp column of ``features`` other than ``cutoff`` must be strictly before
    the row's cutoff (it tells when the data behind a feature was known), except a column
    named ``as_of``, which may equal it (features *as of* the cutoff use data before it).

    Examples
    --------
    >>> import pandas as pd
    >>> ok = pd.DataFrame({"entity_id": ["S1"], "cutoff": pd.to_datetime(["2024-06-30"]),
    ...     "last_order_at": pd.to_datetime(["2024-06-29"])})
    >>> check_leakage(ok)
    >>> bad = ok.assign(last_order_at=pd.to_datetime(["2024-07-02"]))
    >>> check_leakage(bad)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    riskscore.exceptions.LeakageError: ...
    """
    if cutoff not in features.columns:
        raise FeatureError(
            f"precomputed features need a '{cutoff}' column saying which cutoff each row is "
            f"for (got columns: {', '.join(map(str, features.columns))})"
        )
    cut = _naive_utc(features[cutoff])
    problems = []
    for column in features.columns:
        series = features[column]
        if column == cutoff or not pd.api.types.is_datetime64_any_dtype(series.dtype):
            continue
        values = _naive_utc(series)
        later = (values > cut) if column == "as_of" else (values >= cut)
        bad = later.fillna(False).to_numpy(dtype=bool)
        if bad.any():
            rows = features.loc[bad].head(_N_EXAMPLES)
            ids = rows[key] if key in rows.columns else rows.index.to_series()
            examples = ", ".join(
                f"{i} at cutoff {c:%Y-%m-%d} has {column}={v}"
                for i, c, v in zip(
                    ids, _naive_utc(rows[cutoff]), values[bad][:_N_EXAMPLES], strict=False
                )
            )
            relation = "after" if column == "as_of" else "at or after"
            problems.append(
                f"'{column}' is {relation} the cutoff in {int(bad.sum())} row(s), e.g. {examples}"
            )
    if problems:
        raise LeakageError(
            "features were computed from data at or after their cutoff: "
            + "; ".join(problems)
            + ". Recompute them with build_features(..., as_of=cutoff), which only reads "
            "rows strictly before the cutoff, or drop the leaking rows"
        )


def _precomputed(features: Any, entity: Entity) -> pd.DataFrame:
    frame = _backend.to_pandas(features)
    key = KEYS[entity]
    if frame.index.name in (key, "entity_id"):
        frame = frame.reset_index()
    if "entity_id" not in frame.columns:
        if key not in frame.columns:
            raise FeatureError(
                f"precomputed features need an 'entity_id' or '{key}' column "
                f"(got columns: {', '.join(map(str, frame.columns))})"
            )
        frame = frame.rename(columns={key: "entity_id"})
    check_leakage(frame)
    frame = frame.assign(
        cutoff=_naive_utc(frame["cutoff"]), entity_id=frame["entity_id"].astype("str")
    )
    dates = [
        c
        for c in frame.columns
        if c != "cutoff" and pd.api.types.is_datetime64_any_dtype(frame[c].dtype)
    ]
    return frame.drop(columns=dates)


def default_cutoffs(
    tables: Mapping[str, pd.DataFrame],
    horizon: str | timedelta = "60D",
    n_cutoffs: int = 6,
    freq: str = "MS",
) -> list[pd.Timestamp]:
    """Return ``n_cutoffs`` cutoffs at ``freq``, the last at least ``horizon`` before the data ends.

    The end of the data is the latest time in any contract table's time column, so every
    label window of :func:`build_training_set` closes inside the data (a window that
    ends later would miss the positives not decided yet).

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        Marketplace tables.
    horizon : str or timedelta, default "60D"
        The label horizon the training set will use.
    n_cutoffs : int, default 6
    freq : str, default "MS"
        A pandas frequency (``"MS"``: month starts, ``"W-MON"``: Mondays).

    Returns
    -------
    list of pandas.Timestamp

    Raises
    ------
    FeatureError
        No table has a time column with values.

    Examples
    --------
    >>> from riskscore.datasets import make_marketplace
    >>> tables = make_marketplace(n_sellers=50, seed=1)  # 2024-01-01 .. 2024-12-30
    >>> [c.strftime("%Y-%m-%d") for c in default_cutoffs(tables, "60D", 3)]
    ['2024-08-01', '2024-09-01', '2024-10-01']
    """
    from riskscore.schema import CONTRACT

    if n_cutoffs < 1:
        raise FeatureError(f"n_cutoffs must be at least 1; got {n_cutoffs}")
    ends = []
    for name, spec in CONTRACT.items():
        if name in tables and spec.time_column and spec.time_column in tables[name].columns:
            col = pd.to_datetime(tables[name][spec.time_column])
            if col.notna().any():
                ends.append(col.max())
    if not ends:
        raise FeatureError(
            "the tables have no time columns to place cutoffs in; pass the cutoffs yourself"
        )
    last = (max(ends) - pd.Timedelta(horizon)).normalize()
    grid = pd.date_range(end=last, periods=n_cutoffs + 1, freq=freq)
    return list(grid[-n_cutoffs:])


@keyword_only_after(2, legacy=4)
def build_training_set(
    tables: Mapping[str, Any],
    entity: Entity = "seller",
    *,
    target: str = "counterfeit",
    cutoffs: Sequence[TimeLike] = (),
    horizon: str | timedelta = "60D",
    label_delay: str | timedelta = "0D",
    backend: str | None = None,
    windows: Sequence[int] = DEFAULT_WINDOWS,
    prior_weight: float = DEFAULT_PRIOR_WEIGHT,
    features: Any = None,
    allow_not_point_in_time: bool = False,
) -> pd.DataFrame:
    """Stack features at several cutoffs with the labels decided after each one.

    Every argument after ``entity`` is keyword-only. Passing ``target``, ``cutoffs``,
    ``horizon`` or ``label_delay`` by position still works for one release, with a
    ``DeprecationWarning`` naming the keywords to use.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Marketplace tables (see :func:`build_features`), including ``labels``.
    entity : {"seller", "listing"}
        One row per entity existing at a cutoff (and not labelled before it).
    target : {"counterfeit", "fraud"}
        The label kind to predict. A seller's labels are the ``labels`` rows without a
        ``listing_id``. A listing's are the rows naming it **or** its seller's rows: a
        seller caught selling counterfeits taints all its listings.
    cutoffs : sequence of timestamps
        Moments at which features are taken (deduplicated, sorted).
    horizon : str or timedelta, default "60D"
        Length of the label window.
    label_delay : str or timedelta, default "0D"
        Gap between the cutoff and the label window. The label of an entity at cutoff
        ``t`` is 1 when a label of ``target`` is decided in
        ``(t + label_delay, t + label_delay + horizon]``, else 0 (a decision within the
        delay itself counts as 0 at this cutoff).
    backend : {"pandas", "polars", "duckdb", "spark"}, optional
        Where features are computed (see :func:`build_features`); the result is pandas.
    windows, prior_weight
        Passed to :func:`build_features`.
    features : DataFrame, optional
        Precomputed features instead of building them: one row per entity and cutoff,
        with ``entity_id`` (or ``seller_id`` / ``listing_id``) and ``cutoff`` columns.
        Timestamp columns are checked by the leakage guard and then dropped.
    allow_not_point_in_time : bool, default False
        Keep features that are not point-in-time on ``tables`` (see
        :func:`~riskscore.features.not_point_in_time`), e.g. the refund rate when the
        orders table has no ``refunded_at``: it then counts refunds that happened after
        the cutoff, so validation metrics flatter the model and scoring today sees a
        different distribution. Default False: they are left out, with a warning. Only
        for features built here (not for ``features=``).

    Returns
    -------
    pandas.DataFrame
        Columns ``entity_id`` (str), ``cutoff`` (datetime64[us]), ``label`` (int64, 0/1)
        and the feature columns, sorted by cutoff then entity id.
        ``attrs["riskscore_point_in_time"]`` holds ``{"not_point_in_time": [...],
        "missing_columns": [...], "kept": bool}`` (empty lists when every feature is
        point-in-time); :func:`riskscore.modeling.train` copies it to the model card.

    Raises
    ------
    FeatureError
        Unknown entity or target, no ``labels`` table, bad cutoffs, horizon or delay.
    LeakageError
        When precomputed features carry a timestamp at or after their cutoff.

    Warns
    -----
    UserWarning
        When a label window ends after the last label decision in the data: positives
        decided later are not there yet, so some labels there are missing.
    UserWarning
        When features are not point-in-time on ``tables``: naming them, the columns
        that would make them so, and whether they were left out.

    Examples
    --------
    >>> from riskscore.datasets import make_marketplace
    >>> tables = make_marketplace(n_sellers=40, seed=0)
    >>> train = build_training_set(tables, "seller", target="counterfeit",
    ...                            cutoffs=["2024-05-01", "2024-08-01"], horizon="60D")
    >>> list(train.columns[:3])
    ['entity_id', 'cutoff', 'label']
    >>> sorted(train["label"].unique().tolist()) in ([0], [0, 1])
    True
    """
    if not isinstance(tables, Mapping):
        raise fail(
            "tables",
            "build_training_set",
            "a mapping of table name to DataFrame (sellers, listings, orders, labels, ...)",
            tables,
            fix="Pass the marketplace tables, e.g. riskscore.io.load_tables(folder).",
            error=FeatureError,
        )
    entity = _check_entity(entity)
    target = _check_target(target)
    moments = _cutoffs(cutoffs)
    window = _duration(horizon, "horizon", positive=True)
    delay = _duration(label_delay, "label_delay", positive=False)
    events = label_events(tables, entity, target)
    decided = _pandas_table(tables["labels"], ["decided_at"])["decided_at"]
    _warn_censored(_naive_utc(decided).max(), moments, delay + window)
    given = _precomputed(features, entity) if features is not None else None
    record = _point_in_time(tables, entity, windows, given is None, allow_not_point_in_time)
    parts = []
    for moment in moments:
        if given is None:
            built = build_features(
                tables,
                entity,
                as_of=moment,
                backend=backend,
                windows=windows,
                prior_weight=prior_weight,
            )
            frame = _backend.to_pandas(built)
            frame = (frame.reset_index() if frame.index.name else frame).rename(
                columns={KEYS[entity]: "entity_id"}
            )
            frame = frame.assign(entity_id=frame["entity_id"].astype("str"))
            frame.insert(1, "cutoff", moment)
        else:
            frame = given[given["cutoff"] == moment]
        parts.append(_label(frame, events, moment, delay, window))
    out = pd.concat(parts, ignore_index=True)
    front = ["entity_id", "cutoff", "label"]
    out = out[front + [c for c in out.columns if c not in front]]
    out["cutoff"] = out["cutoff"].astype("datetime64[us]")
    if not record["kept"]:
        out = out.drop(columns=[c for c in record["not_point_in_time"] if c in out.columns])
    out = out.sort_values(["cutoff", "entity_id"], kind="stable").reset_index(drop=True)
    out.attrs[POINT_IN_TIME_ATTR] = record
    return out


def point_in_time_text(record: Mapping[str, Any]) -> str:
    """Return one plain sentence on a training set's point-in-time record (for model cards).

    ``record`` is ``attrs["riskscore_point_in_time"]`` of a :func:`build_training_set`
    result.

    Examples
    --------
    >>> point_in_time_text({"not_point_in_time": [], "missing_columns": [], "kept": False})
    'every feature was computed from data known at its cutoff'
    >>> print(point_in_time_text({"not_point_in_time": ["complaints__refund_rate"],
    ...     "missing_columns": ["orders.refunded_at"], "kept": False}))  # doctest: +ELLIPSIS
    not point-in-time on the training tables, so left out: complaints__refund_rate (without ...
    """
    names = list(record.get("not_point_in_time", []))
    if not names:
        return "every feature was computed from data known at its cutoff"
    missing = ", ".join(record.get("missing_columns", []))
    why = (
        f"(without {missing} they read each order's latest status, which counts refunds "
        "and cancellations that happened after the cutoff)"
    )
    if record.get("kept"):
        return (
            f"not point-in-time, kept on request (allow_not_point_in_time=True): "
            f"{', '.join(names)} {why}; the metrics flatter them, and scores today see "
            "a different distribution"
        )
    return (
        f"not point-in-time on the training tables, so left out: {', '.join(names)} {why}; "
        "add the column(s) to use them"
    )


def _point_in_time(
    tables: Mapping[str, Any], entity: Entity, windows: Sequence[int], built: bool, allow: bool
) -> dict[str, Any]:
    """Which features are not point-in-time on ``tables``; warn and say what happens."""
    if not built:
        return {"not_point_in_time": [], "missing_columns": [], "kept": True}
    table = catalog(entity, windows, tables=tables)
    late = table.loc[~table["point_in_time"]].drop_duplicates("name")
    names = late["name"].tolist()
    missing = sorted({n for needs in late["point_in_time_needs"] for n in needs.split(",")})
    if names:
        what = (
            "they are kept as asked (allow_not_point_in_time=True): validation metrics "
            "will flatter them"
            if allow
            else "they are left out of the training set; add the column(s), or pass "
            "allow_not_point_in_time=True to keep them anyway"
        )
        warnings.warn(
            f"{len(names)} feature(s) are not point-in-time on these tables: "
            f"{', '.join(names)}. Without {', '.join(missing)} they read each order's latest "
            "status, which at a past cutoff counts refunds and cancellations that happened "
            f"later; {what}",
            UserWarning,
            stacklevel=4,  # caller of build_training_set (past its keyword-only shim)
        )
    return {"not_point_in_time": names, "missing_columns": missing, "kept": allow}


def _label(
    frame: pd.DataFrame,
    events: pd.DataFrame,
    moment: pd.Timestamp,
    delay: pd.Timedelta,
    window: pd.Timedelta,
) -> pd.DataFrame:
    decided = events["decided_at"]
    known = pd.Index(events.loc[decided < moment, "entity_id"].unique())
    start, end = moment + delay, moment + delay + window
    positive = pd.Index(events.loc[(decided > start) & (decided <= end), "entity_id"].unique())
    frame = frame[~frame["entity_id"].isin(known)]
    label = frame["entity_id"].isin(positive).to_numpy().astype(np.int64)
    return frame.assign(label=label)


def _warn_censored(last: Any, moments: list[pd.Timestamp], span: pd.Timedelta) -> None:
    """Warn about label windows ending after the last decision of any kind in the data."""
    if pd.isna(last):
        return
    late = [m for m in moments if m + span > last]
    if late:
        shown = ", ".join(f"{m:%Y-%m-%d}" for m in late[:5])
        warnings.warn(
            f"the label window of cutoff(s) {shown} ends after the last label decision in "
            f"the data ({last:%Y-%m-%d}); entities decided later count as 0 there, so use "
            "earlier cutoffs or a shorter horizon for training",
            UserWarning,
            stacklevel=4,  # caller of build_training_set (past its keyword-only shim)
        )
