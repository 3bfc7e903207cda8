"""Time-aware, entity-disjoint splits of a training table.

A training table has one row per (entity, time). :func:`time_split` cuts it into four
sides:

``train``
    the older windows; the model is fitted here.
``valid``
    the window(s) just after training; early stopping watches this side.
``calib``
    the same window(s) as ``valid`` but other entities; the calibrator is fitted here.
``test``
    the newest window(s); every reported metric and the promotion gate use this side.

Windows
-------
When the time column holds few distinct values (at most ``max_cutoffs``, the usual case
for a training set built at cutoffs) each distinct value is a window. Otherwise (an event
table with a timestamp per row) rows are cut into ``n_time_windows`` windows of roughly
equal row counts at quantiles of time; rows with the same timestamp stay together.
An optional ``gap`` drops training rows whose time is less than ``gap`` before the first
validation time: pass the label horizon so that no training label was observed after the
validation cutoff. (Validation and calibration labels may still overlap the test period;
they choose the number of trees and the calibration map, not the trees themselves.)

Entities seen at several cutoffs
--------------------------------
A seller present at every cutoff would otherwise sit on all four sides, and a model that
memorises a seller from its training rows looks better on the test window than it will on
new sellers. With ``entity_disjoint=True`` (the default) **each entity is assigned to
exactly one side**, chosen among the sides its rows fall in, at random with probability
proportional to ``fractions`` (a seeded hash of the id, so the choice does not depend on
row order). Its rows on the other sides are dropped. An entity kept on ``train`` keeps
all its older cutoffs (several rows of one entity on one side are fine). A table with one
row per entity therefore loses nothing, and a table with every entity at every cutoff
splits its entities about 60/10/10/20 by default. ``Split.dropped`` counts the dropped
rows. With ``entity_disjoint=False`` only time separates the sides (``valid`` and
``calib`` stay entity-disjoint since they share a window).

Without a time column :func:`stratified_split` assigns whole entities to the sides at
random, stratified by whether the entity ever has a positive label, and warns that such
metrics are optimistic when the data drifts. :func:`make_split` picks one of the two.
"""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from riskscore._validation import check_columns, check_int, check_option, fail
from riskscore.exceptions import TrainingError

__all__ = [
    "SIDES",
    "Split",
    "make_split",
    "naming_window",
    "rolling_splits",
    "stratified_split",
    "time_split",
    "window_name",
]

#: Names of the sides of a split, in time order.
SIDES: tuple[str, ...] = ("train", "valid", "calib", "test")

#: Default share of entities per side (train, valid, calib, test).
DEFAULT_FRACTIONS: tuple[float, float, float, float] = (0.6, 0.1, 0.1, 0.2)


@dataclass(frozen=True)
class Split:
    """Row positions of each side of a split, and how it was made.

    Attributes
    ----------
    train, valid, calib, test : numpy.ndarray of int
        Sorted row positions (``iloc``) into the split table.
    mode : {"time", "stratified"}
    windows : dict
        Side → ``(first, last)`` time of its rows (``None`` in stratified mode).
    dropped : int
        Rows dropped to keep entities on one side or to respect ``gap``.
    description : str
        One sentence saying how the split was made, for logs and the model card.
    """

    train: np.ndarray
    valid: np.ndarray
    calib: np.ndarray
    test: np.ndarray
    mode: Literal["time", "stratified"]
    windows: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    dropped: int = 0
    description: str = ""

    def side(self, name: str) -> np.ndarray:
        """Row positions of side ``name`` (one of :data:`SIDES`)."""
        check_option(name, "name", "Split.side", SIDES, error=TrainingError)
        return np.asarray(getattr(self, name))

    def summary(self, frame: pd.DataFrame, *, id_col: str, label_col: str) -> pd.DataFrame:
        """Rows, entities, positives and time range per side.

        Examples
        --------
        >>> from riskscore.modeling import make_training_table
        >>> t = make_training_table(200, 6, seed=0)
        >>> s = time_split(t, id_col="entity_id", time_col="cutoff")
        >>> s.summary(t, id_col="entity_id", label_col="label")["entities"].tolist()
        [126, 15, 23, 36]
        """
        check_columns(frame, [id_col, label_col], "Split.summary", error=TrainingError)
        rows = []
        for name in SIDES:
            part = frame.iloc[self.side(name)]
            first, last = self.windows.get(name, (None, None))
            rows.append(
                {
                    "side": name,
                    "rows": len(part),
                    "entities": int(part[id_col].nunique()),
                    "positives": int(part[label_col].sum()),
                    "first": first,
                    "last": last,
                }
            )
        return pd.DataFrame(rows).set_index("side")


def _hash_uniform(ids: pd.Series | pd.Index, seed: int, salt: str = "") -> np.ndarray:
    """Return a uniform number in [0, 1) per id, stable across row orders and platforms."""
    key = f"{seed:016d}"[-16:] if seed >= 0 else f"{-seed:015d}n"[-16:]
    values = np.asarray(pd.Index(ids).astype("str"), dtype=object)
    if salt:
        values = np.asarray([salt + v for v in values], dtype=object)
    h = pd.util.hash_array(values, hash_key=key, categorize=False)
    return (h >> np.uint64(11)).astype(np.float64) / float(2**53)


def _fmt_time(value: Any) -> str:
    if isinstance(value, pd.Timestamp) and value == value.normalize():
        return str(value.date())
    return str(value)


def _check_fractions(fractions: Sequence[float]) -> np.ndarray:
    try:
        w = np.asarray(fractions, dtype=np.float64)
    except (TypeError, ValueError):
        w = np.zeros(0)
    if w.shape != (4,) or not np.isfinite(w).all() or (w <= 0).any():
        raise TrainingError(
            "fractions must be four positive numbers (train, valid, calib, test). "
            f"Got {fractions!r} instead."
        )
    return w / w.sum()


def _check_gap(gap: object, where: str) -> pd.Timedelta | None:
    if gap is None:
        return None
    delta: Any = None
    with contextlib.suppress(TypeError, ValueError, OverflowError):
        delta = pd.Timedelta(gap)  # type: ignore[arg-type]
    if not isinstance(delta, pd.Timedelta) or delta < pd.Timedelta(0):
        raise fail(
            "gap",
            where,
            "a non-negative time span such as '60D' (the label horizon)",
            gap,
            error=TrainingError,
        )
    return delta


def _entity_codes(frame: pd.DataFrame, id_col: str) -> tuple[np.ndarray, pd.Index]:
    """Integer code per row and the distinct ids; every row needs a hashable id."""
    ids = frame[id_col].reset_index(drop=True)
    n_missing = int(ids.isna().sum())
    if n_missing:
        raise TrainingError(
            f"id column '{id_col}' has {n_missing} missing value(s); every row needs an entity "
            "id (drop those rows or fill them)"
        )
    try:
        codes, uniques = pd.factorize(ids)
    except TypeError as err:
        raise TrainingError(
            f"id column '{id_col}' holds values that cannot be ids ({err}); use str or int ids"
        ) from None
    return np.asarray(codes, dtype=np.int64), pd.Index(uniques)


def _check_times(times: pd.Series, name: str) -> None:
    """Refuse a time column whose values cannot be ordered (mixed types, dicts, ...)."""
    try:
        pd.factorize(times, sort=True)
    except TypeError as err:
        raise TrainingError(
            f"time column '{name}' holds values that cannot be ordered ({err}); give it one "
            "type (datetimes, or numbers)"
        ) from None


def _window_index(
    times: pd.Series, max_cutoffs: int, n_time_windows: int
) -> tuple[np.ndarray, int]:
    """Window number of each row (0 = oldest) and the number of windows."""
    if times.isna().any():
        raise TrainingError(
            f"time column '{times.name}' has {int(times.isna().sum())} missing value(s); "
            "every row needs a time (drop those rows or fill them)"
        )
    codes, uniques = pd.factorize(times, sort=True)
    if len(uniques) <= max_cutoffs:
        return np.asarray(codes, dtype=np.int64), len(uniques)
    # event table: equal-count windows at quantiles of the distinct times' cumulative counts
    counts = np.bincount(codes, minlength=len(uniques))
    cum = np.cumsum(counts) / counts.sum()
    window_of_unique = np.minimum(
        (cum * n_time_windows - 1e-9).astype(np.int64), n_time_windows - 1
    )
    window_of_unique = np.maximum.accumulate(window_of_unique)
    _, dense = np.unique(window_of_unique, return_inverse=True)
    return np.asarray(dense[codes], dtype=np.int64), int(dense.max()) + 1


def time_split(
    frame: pd.DataFrame,
    *,
    id_col: str,
    time_col: str,
    test_windows: int = 1,
    valid_windows: int = 1,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    gap: pd.Timedelta | str | None = None,
    entity_disjoint: bool = True,
    seed: int = 0,
    max_cutoffs: int = 24,
    n_time_windows: int = 5,
    end_window: int | None = None,
) -> Split:
    """Split by time: train on older windows, validate/calibrate on the next, test on the newest.

    Parameters
    ----------
    frame : pandas.DataFrame
        The training table.
    id_col, time_col : str
        Entity id and cutoff (or event time) columns.
    test_windows, valid_windows : int, default 1
        Number of newest windows for ``test``, and of windows before them for
        ``valid`` + ``calib``.
    fractions : four floats, default (0.6, 0.1, 0.1, 0.2)
        Relative chance of an entity seen on several sides to be kept on train, valid,
        calib, test. Also splits the validation window between ``valid`` and ``calib``.
    gap : timedelta or str, optional
        Drop training rows less than ``gap`` before the validation window starts (pass
        the label horizon, e.g. ``"60D"``).
    entity_disjoint : bool, default True
        Keep each entity on one side only (see the module notes).
    seed : int, default 0
        Seed of the entity assignment.
    max_cutoffs : int, default 24
        Up to this many distinct times, each one is a window; above it, the table is an
        event table cut into ``n_time_windows`` equal-count windows.
    n_time_windows : int, default 5
    end_window : int, optional
        Ignore windows after this one (0-based, oldest first); used by
        :func:`rolling_splits` to go back in time.

    Returns
    -------
    Split

    Raises
    ------
    TrainingError
        When there are too few windows for the asked sides.

    Examples
    --------
    >>> from riskscore.modeling import make_training_table
    >>> t = make_training_table(200, 6, seed=0)
    >>> s = time_split(t, id_col="entity_id", time_col="cutoff")
    >>> t.iloc[s.train]["cutoff"].max() < t.iloc[s.valid]["cutoff"].min()
    True
    >>> sides = [set(t.iloc[s.side(n)]["entity_id"]) for n in ("train", "valid", "calib", "test")]
    >>> any(a & b for i, a in enumerate(sides) for b in sides[i + 1:])
    False
    """
    where = "time_split"
    if not isinstance(frame, pd.DataFrame):
        raise fail("frame", where, "a pandas DataFrame", frame, error=TrainingError)
    for col in (id_col, time_col):
        if col not in frame.columns:
            raise TrainingError(
                f"column '{col}' is not in the table; columns are {list(frame.columns)}"
            )
    if frame.empty:
        raise TrainingError(f"{where} got a table with no rows; pass the training table")
    w = _check_fractions(fractions)
    test_windows = check_int(test_windows, "test_windows", where, minimum=1, error=TrainingError)
    valid_windows = check_int(valid_windows, "valid_windows", where, minimum=1, error=TrainingError)
    max_cutoffs = check_int(max_cutoffs, "max_cutoffs", where, minimum=1, error=TrainingError)
    n_time_windows = check_int(
        n_time_windows, "n_time_windows", where, minimum=1, error=TrainingError
    )
    seed = check_int(seed, "seed", where, error=TrainingError)
    delta = _check_gap(gap, where)
    times = frame[time_col].reset_index(drop=True)
    _check_times(times, time_col)
    window, n_windows = _window_index(times, max_cutoffs, n_time_windows)
    if end_window is not None:
        end_window = check_int(end_window, "end_window", where, error=TrainingError)
        if end_window >= n_windows:
            raise fail(
                "end_window",
                where,
                f"a window number below {n_windows} (the windows found)",
                end_window,
                error=TrainingError,
            )
    last = n_windows - 1 if end_window is None else end_window
    first_test = last - test_windows + 1
    first_valid = first_test - valid_windows
    if first_valid < 1 or test_windows < 1 or valid_windows < 1:
        raise TrainingError(
            f"time column '{time_col}' has {n_windows} window(s) up to the asked end, but a time "
            f"split needs at least {test_windows + valid_windows + 1} (train, "
            f"{valid_windows} validation, {test_windows} test); add cutoffs, lower "
            "test_windows/valid_windows, or train without a time column (stratified split)"
        )
    # candidate side per row: 0 train, 1 valid-or-calib, 3 test, -1 outside
    row_side = np.full(len(frame), -1, dtype=np.int64)
    row_side[window < first_valid] = 0
    row_side[(window >= first_valid) & (window < first_test)] = 1
    row_side[(window >= first_test) & (window <= last)] = 3
    if delta is not None:
        t_valid0 = times[row_side == 1].min()
        row_side[(row_side == 0) & (times + delta > t_valid0).to_numpy()] = -1

    ent_codes, ent_uniques = _entity_codes(frame, id_col)
    n_ent = len(ent_uniques)
    u = _hash_uniform(ent_uniques, seed)
    presence = np.zeros((n_ent, 4), dtype=bool)
    inside = row_side >= 0
    presence[ent_codes[inside], row_side[inside]] = True
    presence[:, 2] = presence[:, 1]  # the validation window offers valid and calib
    if entity_disjoint:
        weights = presence * w
    else:
        # only choose between valid and calib; train/test follow the row's window
        weights = np.zeros((n_ent, 4))
        weights[:, 1:3] = w[1:3]
    total = weights.sum(axis=1, keepdims=True)
    total[total == 0] = 1.0
    cum = np.cumsum(weights / total, axis=1)
    chosen = np.argmax(cum > u[:, None], axis=1)
    ent_side = chosen[ent_codes]
    if entity_disjoint:
        keep_side = np.where(
            (row_side == 0) & (ent_side == 0),
            0,
            np.where(
                (row_side == 1) & np.isin(ent_side, (1, 2)),
                ent_side,
                np.where((row_side == 3) & (ent_side == 3), 3, -1),
            ),
        )
    else:
        keep_side = np.where(row_side == 1, ent_side, row_side)
    parts = {name: np.flatnonzero(keep_side == i) for i, name in enumerate(SIDES)}
    windows = {
        name: (times.iloc[idx].min(), times.iloc[idx].max()) if idx.size else (None, None)
        for name, idx in parts.items()
    }
    empty = [name for name, idx in parts.items() if idx.size == 0]
    if empty:
        raise TrainingError(
            f"the time split on '{time_col}' leaves no rows on side(s) {empty}"
            + (f" once rows within gap={gap} of the next side are dropped" if gap else "")
            + "; add entities or cutoffs, lower the gap, or change fractions"
        )
    outside = int((row_side < 0).sum())
    dropped = int((keep_side < 0).sum())

    def span(name: str) -> str:
        a, b = (_fmt_time(x) for x in windows[name])
        return a if a == b else f"{a} .. {b}"

    descr = (
        f"time split on '{time_col}' ({n_windows} windows): train {span('train')}, "
        f"validation/calibration {span('valid')}, test {span('test')}; "
        + (
            f"each entity on one side only ({dropped - outside} rows of entities kept on "
            "another side dropped"
            if entity_disjoint
            else "entities may appear on several sides (entity_disjoint=False"
        )
        + (f", {outside} rows outside the windows or in the gap)" if outside else ")")
    )
    return Split(
        train=parts["train"],
        valid=parts["valid"],
        calib=parts["calib"],
        test=parts["test"],
        mode="time",
        windows=windows,
        dropped=dropped,
        description=descr,
    )


def stratified_split(
    frame: pd.DataFrame,
    *,
    id_col: str,
    label_col: str,
    fractions: Sequence[float] = DEFAULT_FRACTIONS,
    seed: int = 0,
) -> Split:
    """Assign whole entities to sides at random, stratified by "ever positive".

    The fallback for tables without a time column. Metrics from it assume the future looks
    like the past; a warning says so when it is chosen by :func:`make_split`.

    Examples
    --------
    >>> from riskscore.modeling import make_training_table
    >>> t = make_training_table(300, 1, seed=0)
    >>> s = stratified_split(t, id_col="entity_id", label_col="label")
    >>> sorted(len(s.side(n)) for n in ("train", "valid", "calib", "test"))
    [30, 30, 60, 180]
    """
    where = "stratified_split"
    check_columns(frame, [id_col, label_col], where, error=TrainingError)
    if frame.empty:
        raise TrainingError(f"{where} got a table with no rows; pass the training table")
    w = _check_fractions(fractions)
    seed = check_int(seed, "seed", where, error=TrainingError)
    codes, uniques = _entity_codes(frame, id_col)
    ever = np.zeros(len(uniques), dtype=bool)
    ever[codes[frame[label_col].to_numpy() == 1]] = True
    u = _hash_uniform(uniques, seed, salt="strat:")
    side_of_entity = np.zeros(len(uniques), dtype=np.int64)
    bounds = np.cumsum(w)
    for cls in (False, True):
        idx = np.flatnonzero(ever == cls)
        order = idx[np.argsort(u[idx], kind="stable")]
        pos = (np.arange(order.size) + 0.5) / max(order.size, 1)
        side_of_entity[order] = np.searchsorted(bounds, pos, side="right").clip(0, 3)
    row_side = side_of_entity[codes]
    parts = {name: np.flatnonzero(row_side == i) for i, name in enumerate(SIDES)}
    return Split(
        train=parts["train"],
        valid=parts["valid"],
        calib=parts["calib"],
        test=parts["test"],
        mode="stratified",
        windows={name: (None, None) for name in SIDES},
        dropped=0,
        description=(
            "stratified random split by entity (no time column): metrics assume the future "
            "looks like the past and are optimistic when fraud patterns drift"
        ),
    )


def make_split(
    frame: pd.DataFrame,
    *,
    id_col: str,
    time_col: str | None,
    label_col: str,
    seed: int = 0,
    **kwargs: Any,
) -> Split:
    """:func:`time_split` when there is a time column, else :func:`stratified_split` with a warning.

    Examples
    --------
    >>> import warnings
    >>> from riskscore.modeling import make_training_table
    >>> t = make_training_table(100, 2, seed=0)
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     s = make_split(t, id_col="entity_id", time_col=None, label_col="label")
    >>> s.mode, "no time column" in str(caught[0].message)
    ('stratified', True)
    """
    _check_kwargs(kwargs, "make_split")
    if time_col is None:
        warnings.warn(
            "no time column given: using a stratified random split by entity. Metrics assume "
            "the future looks like the past; pass a time column (--time) for an honest "
            "time-aware evaluation",
            UserWarning,
            stacklevel=2,
        )
        allowed = {"fractions"}
        return stratified_split(
            frame,
            id_col=id_col,
            label_col=label_col,
            seed=seed,
            **{k: v for k, v in kwargs.items() if k in allowed},
        )
    return time_split(frame, id_col=id_col, time_col=time_col, seed=seed, **kwargs)


def _check_kwargs(kwargs: dict[str, Any], where: str, exclude: Sequence[str] = ()) -> None:
    """Refuse keyword arguments that :func:`time_split` does not take."""
    import inspect

    taken = [
        name
        for name, p in inspect.signature(time_split).parameters.items()
        if p.kind is p.KEYWORD_ONLY and name not in ("id_col", "time_col", "seed", *exclude)
    ]
    unknown = sorted(set(kwargs) - set(taken))
    if unknown:
        raise TrainingError(
            f"{where} got unknown keyword argument(s) {unknown}; it passes on only "
            f"{taken} (see time_split)"
        )


def rolling_splits(
    frame: pd.DataFrame,
    *,
    id_col: str,
    time_col: str,
    n_windows: int = 3,
    **kwargs: Any,
) -> list[Split]:
    """Prequential evaluation: the last ``n_windows`` splits, each test window one step older.

    Split ``i`` (0 = newest) tests on the window ``i`` steps before the newest and trains
    only on what came before its validation window, so every split is an honest replay of
    a past training day.

    Examples
    --------
    >>> from riskscore.modeling import make_training_table
    >>> t = make_training_table(100, 6, seed=0)
    >>> splits = rolling_splits(t, id_col="entity_id", time_col="cutoff", n_windows=3)
    >>> [str(s.windows["test"][0].date()) for s in splits]
    ['2024-06-01', '2024-05-01', '2024-04-01']
    """
    where = "rolling_splits"
    _check_kwargs(kwargs, where, exclude=("end_window",))
    check_columns(frame, [id_col, time_col], where, error=TrainingError)
    n_windows = check_int(n_windows, "n_windows", where, minimum=1, error=TrainingError)
    times = frame[time_col].reset_index(drop=True)
    _check_times(times, time_col)
    _, n_total = _window_index(
        times, kwargs.get("max_cutoffs", 24), kwargs.get("n_time_windows", 5)
    )
    test_windows = int(kwargs.get("test_windows", 1))
    return [
        time_split(
            frame,
            id_col=id_col,
            time_col=time_col,
            end_window=n_total - 1 - i * test_windows,
            **kwargs,
        )
        for i in range(n_windows)
    ]


def window_name(split: Split) -> str:
    """``test window <first test time>``: how progress and errors name a rolling split.

    Examples
    --------
    >>> from riskscore.modeling import make_training_table
    >>> t = make_training_table(100, 6, seed=0)
    >>> window_name(rolling_splits(t, id_col="entity_id", time_col="cutoff")[1])
    'test window 2024-05-01'
    """
    first = split.windows["test"][0]
    return f"test window {first.date() if isinstance(first, pd.Timestamp) else first}"


@contextlib.contextmanager
def naming_window(where: str, split: Split, i: int, n_windows: int) -> Any:
    """Prefix a :class:`TrainingError` raised inside with the rolling window it came from.

    ``i`` counts from 1 (the newest window); older windows train on less history, so a
    fit that cannot train is usually the oldest one.

    Examples
    --------
    >>> from riskscore.modeling import make_training_table
    >>> t = make_training_table(100, 6, seed=0)
    >>> split = rolling_splits(t, id_col="entity_id", time_col="cutoff")[2]
    >>> with naming_window("prequential", split, 3, 3):
    ...     raise TrainingError("too few positives")
    Traceback (most recent call last):
    ...
    riskscore.exceptions.TrainingError: prequential test window 2024-04-01 (3 of 3; ...
    """
    try:
        yield
    except TrainingError as err:
        raise TrainingError(
            f"{where} {window_name(split)} ({i} of {n_windows}; older windows train on "
            f"less history): {err}"
        ) from None
