"""Training-table preparation: checks, labels, feature encoding, time groups, side checks.

:func:`prepare` turns a user's table and a :class:`~riskscore.modeling.TrainConfig` into
a :class:`Prepared` (the encoded matrix, labels, features, time groups) or raises a
:class:`~riskscore.exceptions.TrainingError` that names the column and the fix;
:func:`check_sides` refuses a split whose sides cannot train, calibrate or test.
"""

from __future__ import annotations

import hashlib
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskscore.exceptions import TrainingError
from riskscore.modeling._checks import check_finite
from riskscore.modeling._config import TrainConfig
from riskscore.modeling._model import encode_frame
from riskscore.modeling._split import SIDES, Split

__all__ = [
    "MAX_CUTOFFS",
    "Prepared",
    "TrainingWarning",
    "check_sides",
    "fingerprint",
    "labels_of",
    "n_groups",
    "point_in_time",
    "prepare",
    "test_share",
    "warn",
]

#: A time column with at most this many distinct values is a set of cutoffs; more, days.
MAX_CUTOFFS = 24


class TrainingWarning(UserWarning):
    """Training went ahead, but something about the data deserves a look."""


@dataclass
class Prepared:
    frame: pd.DataFrame
    y: np.ndarray
    X: np.ndarray
    features: list[str]
    categories: dict[str, list[str]]
    id_col: str
    time_col: str | None
    label_col: str
    groups: np.ndarray | None
    group_by: str
    days_per_group: float
    dropped_features: dict[str, str]
    notes: list[str]


def warn(notes: list[str], message: str) -> None:
    """Record ``message`` in ``notes`` and raise it as a :class:`TrainingWarning`."""
    notes.append(message)
    warnings.warn(message, TrainingWarning, stacklevel=3)


def point_in_time(table: pd.DataFrame) -> dict[str, Any] | None:
    """Return the point-in-time record ``build_training_set`` left on ``table``, if any."""
    from riskscore.features._training_set import POINT_IN_TIME_ATTR

    record = table.attrs.get(POINT_IN_TIME_ATTR)
    return dict(record) if isinstance(record, Mapping) else None


def _point_in_time_text(record: Mapping[str, Any]) -> str:
    from riskscore.features._training_set import point_in_time_text

    return point_in_time_text(record)


def labels_of(frame: pd.DataFrame, label_col: str) -> np.ndarray:
    """Return the 0/1 labels of ``frame[label_col]`` as float64; refuse anything else."""
    col = frame[label_col]
    if col.isna().any():
        raise TrainingError(
            f"label column '{label_col}' has {int(col.isna().sum())} missing value(s); "
            "drop those rows or label them 0/1"
        )
    if pd.api.types.is_bool_dtype(col):
        return col.to_numpy(dtype=np.float64)
    values = pd.unique(col)
    if not pd.api.types.is_numeric_dtype(col) or not set(values.tolist()) <= {0, 1}:
        shown = sorted(map(str, values))[:5]
        raise TrainingError(
            f"label column '{label_col}' must hold 0/1 (or False/True); found values {shown}. "
            "Map your outcome to 1 (bad) and 0 (good) first"
        )
    return col.to_numpy(dtype=np.float64)


def prepare(table: pd.DataFrame, config: TrainConfig) -> Prepared:
    """Check ``table`` against ``config`` and encode it for training."""
    id_col, time_col, label_col = config.id_col, config.time_col, config.label_col
    feature_cols, segment_cols = config.feature_cols, config.segment_cols
    if not isinstance(table, pd.DataFrame):
        raise TrainingError(
            f"train expects a pandas DataFrame; got {type(table).__name__} "
            "(convert it with .to_pandas())"
        )
    needed = [id_col, label_col] + ([time_col] if time_col else [])
    missing = [c for c in needed if c not in table.columns]
    if missing:
        raise TrainingError(
            f"column(s) {missing} are not in the table; its columns are {list(table.columns)[:20]}"
            " — pass id_col/time_col/label_col (--id/--time/--label) naming your columns"
        )
    frame = table.reset_index(drop=True)
    notes: list[str] = []
    record = point_in_time(table)
    if record is not None and record.get("not_point_in_time"):
        notes.append(_point_in_time_text(record))
    y = labels_of(frame, label_col)
    n_pos = int(y.sum())
    if n_pos == 0:
        raise TrainingError(
            f"no positive labels: all {len(y)} rows of '{label_col}' are 0. A model cannot "
            "learn a risk without examples of it; check the target, the label horizon, or "
            "the join of labels to entities"
        )
    if n_pos == len(y):
        raise TrainingError(
            f"every one of the {len(y)} rows of '{label_col}' is positive; a model needs "
            "negative examples too"
        )
    key = [id_col] + ([time_col] if time_col else [])
    dup = frame.duplicated(key, keep=False)
    if dup.any():
        examples = frame.loc[dup, key].drop_duplicates().head(3).to_dict("records")
        raise TrainingError(
            f"{int(dup.sum())} rows share their ({', '.join(key)}) with another row, e.g. "
            f"{examples}; a training table has one row per entity"
            + (" and time" if time_col else "")
            + " — deduplicate it"
        )
    exclude = {id_col, label_col, *(c for c in [time_col] if c), *segment_cols}
    if feature_cols is None:
        features = [str(c) for c in frame.columns if c not in exclude]
    else:
        features = [str(c) for c in feature_cols]
        unknown = [c for c in features if c not in frame.columns]
        if unknown:
            raise TrainingError(f"feature column(s) {unknown} are not in the table")
        clash = [c for c in features if c in {id_col, label_col, time_col}]
        if clash:
            raise TrainingError(f"column(s) {clash} cannot be both a feature and the id/time/label")
    bad_types = [
        c
        for c in features
        if pd.api.types.is_datetime64_any_dtype(frame[c])
        or pd.api.types.is_timedelta64_dtype(frame[c])
    ]
    if bad_types:
        raise TrainingError(
            f"feature column(s) {bad_types} hold dates or durations; derive numbers from them "
            "(e.g. account age in days) or leave them out with feature_cols"
        )
    check_finite(frame, features, table="training table", id_col=id_col)
    categories: dict[str, list[str]] = {}
    dropped: dict[str, str] = {}
    kept: list[str] = []
    for c in features:
        col = frame[c]
        if col.isna().all():
            dropped[c] = "all values missing"
            continue
        if col.nunique(dropna=False) <= 1:
            first = col.iloc[0]
            value = first.item() if isinstance(first, np.generic) else first
            dropped[c] = f"constant ({value!r})"
            continue
        if isinstance(col.dtype, pd.CategoricalDtype):
            categories[c] = [str(v) for v in col.cat.categories]
        elif not (pd.api.types.is_numeric_dtype(col) or pd.api.types.is_bool_dtype(col)):
            categories[c] = sorted(str(v) for v in col.dropna().unique())
        kept.append(c)
    if dropped:
        warn(
            notes,
            f"dropped {len(dropped)} feature column(s) that carry no information: "
            + "; ".join(f"'{k}' {v}" for k, v in dropped.items())
            + ". Check how they are built, or leave them out",
        )
    if not kept:
        raise TrainingError(
            "no usable feature columns: "
            + (
                "every candidate is missing or constant"
                if features
                else "the table has only the id, time and label columns"
            )
        )
    X = encode_frame(frame, kept, categories)
    groups, group_by, days = None, "none", 1.0
    if time_col is not None:
        times = frame[time_col]
        distinct = pd.Series(times.unique()).sort_values()
        if pd.api.types.is_datetime64_any_dtype(times):
            if len(distinct) <= MAX_CUTOFFS:
                groups, group_by = times.to_numpy(), "cutoff"
                if len(distinct) > 1:
                    spacing = pd.Timedelta(distinct.diff().dropna().median())
                    days = max(spacing / pd.Timedelta(days=1), 1.0)
            else:
                groups, group_by = times.dt.floor("D").to_numpy(), "day"
        else:
            groups, group_by = times.to_numpy(), "cutoff"
    return Prepared(
        frame=frame,
        y=y,
        X=X,
        features=kept,
        categories=categories,
        id_col=id_col,
        time_col=time_col,
        label_col=label_col,
        groups=groups,
        group_by=group_by,
        days_per_group=days,
        dropped_features=dropped,
        notes=notes,
    )


def fingerprint(prep: Prepared, split: Split) -> dict[str, Any]:
    cols = [
        prep.id_col,
        *([prep.time_col] if prep.time_col else []),
        prep.label_col,
        *prep.features,
    ]
    hashed = pd.util.hash_pandas_object(prep.frame[cols], index=False).to_numpy()
    digest = hashlib.sha256(hashed.tobytes() + "\x00".join(cols).encode()).hexdigest()
    out: dict[str, Any] = {
        "rows": len(prep.frame),
        "entities": int(prep.frame[prep.id_col].nunique()),
        "positives": int(prep.y.sum()),
        "label_rate": float(prep.y.mean()),
        "features": len(prep.features),
        "sha256": digest,
    }
    if prep.time_col is not None:
        times = prep.frame[prep.time_col]
        out["time_first"] = times.min()
        out["time_last"] = times.max()
        out["n_times"] = int(times.nunique())
    for side in SIDES:
        idx = split.side(side)
        out[f"{side}_rows"] = int(idx.size)
        out[f"{side}_positives"] = int(prep.y[idx].sum())
    return out


def check_sides(prep: Prepared, split: Split, min_positives: int, notes: list[str]) -> None:
    for side in SIDES:
        idx = split.side(side)
        pos = int(prep.y[idx].sum())
        first, last = split.windows.get(side, (None, None))
        where = f" ({first} .. {last})" if first is not None else ""
        if pos == 0 or pos == idx.size:
            cls = "positive" if pos == 0 else "negative"
            raise TrainingError(
                f"the {side} side{where} has {idx.size} rows and no {cls} label, so it cannot "
                f"be used to {'train' if side == 'train' else 'validate, calibrate or test'}. "
                "Add entities or cutoffs, use a longer label horizon, or widen the windows "
                "(test_windows / valid_windows / fractions)"
            )
    pos_train = int(prep.y[split.train].sum())
    if pos_train < min_positives:
        raise TrainingError(
            f"only {pos_train} positive rows on the train side (of {split.train.size}); at least "
            f"min_positives={min_positives} are needed for a model and metrics that mean "
            "something. Add cutoffs or entities, use a longer label horizon, or lower "
            "min_positives knowingly"
        )
    pos_test = int(prep.y[split.test].sum())
    if pos_test < 10:
        warn(
            notes,
            f"the test side has only {pos_test} positive rows: its metrics are noisy, read the "
            "intervals",
        )


def test_share(prep: Prepared, split: Split) -> float:
    """Share of the test window's rows that are on the test side."""
    if split.mode != "time" or prep.time_col is None:
        return split.test.size / max(len(prep.frame), 1)
    first, last = split.windows["test"]
    times = prep.frame[prep.time_col]
    in_window = int(((times >= first) & (times <= last)).sum())
    return split.test.size / max(in_window, 1)


def n_groups(groups: np.ndarray | None) -> int:
    """Return the number of distinct time groups (1 without a time column)."""
    return 1 if groups is None else int(pd.Series(groups).nunique())
