"""Which times a model has already seen: figures there are in-sample, not evidence.

A model's metadata names its split windows (``split.windows``). A refit (``fit: refit``,
the deployed default) learnt from every labelled row up to the end of its test window; an
evaluated fit from its train, validation and calibration windows. A row at a time up to
that end was fitted on (for a refit, the row itself, with its label); with the label
horizon known, a time before that end plus the horizon shares label windows with the fit.
Metrics, backtests and threshold tables there flatter the model: a refit evaluated on the
cutoffs it was trained on scored ROC-AUC 0.9998 and PR-AUC 0.98 where its evaluated fit
measured PR-AUC 0.40 on unseen sellers. :func:`in_sample_times` finds those times and
:func:`in_sample_note` says so in one sentence; ``evaluate`` and ``backtest`` both use it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pandas as pd

__all__ = ["fitted_until", "in_sample_note", "in_sample_times"]


def fitted_until(metadata: Mapping[str, Any]) -> tuple[pd.Timestamp, bool] | None:
    """Return the last time of the labelled rows a model was fitted on, and if it is a refit.

    ``None`` when the model names no time windows (a stratified split, another producer).

    Examples
    --------
    >>> windows = {"train": ["2024-05-01", "2024-07-01"], "calib": ["2024-08-01", "2024-09-01"],
    ...            "test": ["2024-10-01", "2024-10-01"]}
    >>> meta = {"fit": "refit", "split": {"mode": "time", "windows": windows}}
    >>> fitted_until(meta)
    (Timestamp('2024-10-01 00:00:00'), True)
    >>> fitted_until({**meta, "fit": "evaluated"})[0]
    Timestamp('2024-09-01 00:00:00')
    """
    split = metadata.get("split") or {}
    windows = split.get("windows") or {}
    refit = metadata.get("fit") == "refit"
    sides = ("train", "valid", "calib", "test") if refit else ("train", "valid", "calib")
    try:
        ends = [pd.Timestamp(windows[side][1]) for side in sides if side in windows]
    except (TypeError, ValueError, IndexError):  # no time windows
        return None
    ends = [e for e in ends if not pd.isna(e)]
    if split.get("mode") != "time" or not ends:
        return None
    return max(ends), refit


def in_sample_times(
    metadata: Mapping[str, Any], times: Iterable[Any], horizon: pd.Timedelta | None = None
) -> list[pd.Timestamp]:
    """Return the distinct ``times`` the model has seen, oldest first.

    Up to the end of its fitted windows; with ``horizon``, before that end plus the
    horizon (their label windows overlap the fit's).

    Examples
    --------
    >>> meta = {"fit": "refit", "split": {"mode": "time",
    ...         "windows": {"train": ["2024-05-01", "2024-09-01"]}}}
    >>> times = pd.to_datetime(["2024-09-01", "2024-10-01", "2025-01-01"])
    >>> [f"{t:%m-%d}" for t in in_sample_times(meta, times)]
    ['09-01']
    >>> [f"{t:%m-%d}" for t in in_sample_times(meta, times, pd.Timedelta("60D"))]
    ['09-01', '10-01']
    """
    fitted = fitted_until(metadata)
    return [] if fitted is None else _seen(fitted[0], times, horizon)


def _seen(
    end: pd.Timestamp, times: Iterable[Any], horizon: pd.Timedelta | None
) -> list[pd.Timestamp]:
    """Return the distinct ``times`` up to ``end`` (before ``end + horizon``), oldest first."""
    distinct = sorted({pd.Timestamp(t) for t in times if not pd.isna(t)})
    if horizon is None:
        return [t for t in distinct if t <= end]
    return [t for t in distinct if t < end + horizon]


def in_sample_note(
    metadata: Mapping[str, Any],
    times: Iterable[Any],
    *,
    name: str,
    what: str,
    instead: str,
    horizon: pd.Timedelta | None = None,
) -> str:
    """Return one sentence naming the ``times`` inside the model's fit; empty when none are.

    Parameters
    ----------
    metadata : mapping
        The model's metadata.
    times : iterable of time
        The cutoffs (or times) the figures are computed at.
    name : str
        The model as the reader knows it (``name@version``).
    what : str
        What the figures would be (``a backtest``, ``an evaluation``).
    instead : str
        What to do instead, after "; ".
    horizon : Timedelta, optional
        The label horizon; without it only times up to the fit's end count.

    Examples
    --------
    >>> meta = {"fit": "refit", "split": {"mode": "time",
    ...         "windows": {"train": ["2024-05-01", "2024-09-01"]}}}
    >>> note = in_sample_note(meta, pd.to_datetime(["2024-09-01", "2025-01-01"]), name="m@3",
    ...                       what="an evaluation", instead="evaluate later cutoffs")
    >>> note[:note.index(":")]
    'm@3 was fitted on every labelled row of cutoffs up to 2024-09-01'
    >>> note[note.index("its"):note.index(" are")]
    'its figures at 1 cutoff(s) (2024-09-01 .. 2024-09-01)'
    >>> note[note.index("are"):]
    'are in-sample, not an evaluation; evaluate later cutoffs'
    """
    fitted = fitted_until(metadata)
    if fitted is None:
        return ""
    seen, refit = fitted
    inside = _seen(seen, times, horizon)
    if not inside:
        return ""
    how = "every labelled row of" if refit else "its train, validation and calibration"
    labels = "" if horizon is None else f" (labels to {seen + horizon:%Y-%m-%d})"
    return (
        f"{name} was fitted on {how} cutoffs up to {seen:%Y-%m-%d}{labels}: its figures at "
        f"{len(inside)} cutoff(s) ({inside[0]:%Y-%m-%d} .. {inside[-1]:%Y-%m-%d}) are "
        f"in-sample, not {what}; {instead}"
    )
