"""Flag rate per slice now against training: are new or small sellers flagged more often.

A model whose overall flagged share is stable can still flag three times as many new
sellers as it did at training — a shift in who is new, or in how the model treats them.
At training, :func:`slice_profile` stores, per slice (``segment__*`` column and level:
tenure, region, main category, size — :data:`riskscore.features.SEGMENT_COLUMNS`), the
rows, the rows flagged and, with labels, the negatives and the negatives flagged (counts
only: bytes, no raw rows). After a scoring run, :func:`compare_slices` puts each
slice's flag rate now next to the reference's, both with Wilson intervals
(:func:`riskscore.modeling.wilson_interval`), and returns a finding for a **protected**
slice (new and small sellers by default,
:data:`riskscore.modeling._slices.PROTECTED_SLICES`) whose flag rate rose so far that
the two intervals no longer overlap and the ratio crossed the flagged-share thresholds
(1.5x watch, 2x act). Levels are matched by name; levels beyond the stored ones count
as ``other``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "SEGMENT_PREFIX",
    "SLICE_TABLE_COLUMNS",
    "compare_slices",
    "find_segments",
    "slice_label",
    "slice_profile",
]

#: Columns whose name starts with this are slices (never model features).
SEGMENT_PREFIX = "segment__"
#: Levels kept per slice column in a reference; the others are pooled as ``other``.
MAX_LEVELS = 30
#: Columns of the table :func:`compare_slices` returns.
SLICE_TABLE_COLUMNS: tuple[str, ...] = (
    "segment",
    "level",
    "protected",
    "n_ref",
    "flag_rate_ref",
    "flag_rate_ref_lo",
    "flag_rate_ref_hi",
    "n_now",
    "flag_rate_now",
    "flag_rate_now_lo",
    "flag_rate_now_hi",
    "ratio",
)


def find_segments(frames: Sequence[pd.DataFrame | None], n: int) -> pd.DataFrame | None:
    """Return the ``segment__*`` columns of the first frame of ``n`` rows holding some.

    Examples
    --------
    >>> a = pd.DataFrame({"score": [0.1, 0.2]})
    >>> b = pd.DataFrame({"segment__size": ["small", "large"], "x": [1, 2]})
    >>> list(find_segments([a, b], 2).columns)
    ['segment__size']
    >>> find_segments([a], 2) is None
    True
    """
    for frame in frames:
        if frame is None or len(frame) != n:
            continue
        cols = [c for c in frame.columns if str(c).startswith(SEGMENT_PREFIX)]
        if cols:
            return frame[cols].reset_index(drop=True)
    return None


def slice_label(segment: str, level: str) -> str:
    """``segment=level`` as the gate and the findings name a slice (prefix kept)."""
    return f"{segment}={level}"


def _aligned(segments: Any, flagged: Any, where: str) -> np.ndarray:
    """Check the slice columns and the flags line up; return the flags as bool."""
    from riskscore.monitor._errors import MonitorError

    if not isinstance(segments, pd.DataFrame):
        raise MonitorError(
            f"{where} expects the slice columns as a pandas DataFrame (segment__* columns); "
            f"got {type(segments).__name__}"
        )
    f = np.asarray(flagged)
    if f.ndim != 1 or f.size != len(segments):
        raise MonitorError(
            f"{where}: segments ({len(segments)} rows) and flagged ({f.size} values) must be "
            "aligned row for row"
        )
    return f.astype(bool)


def _levels(values: pd.Series) -> np.ndarray:
    return values.astype("str").where(values.notna(), "missing").to_numpy(dtype=object)


def slice_profile(
    segments: pd.DataFrame, flagged: np.ndarray, y_true: np.ndarray | None = None
) -> dict[str, dict[str, dict[str, int]]]:
    """Count rows, flagged rows and (with labels) negatives and false positives per slice.

    Parameters
    ----------
    segments : pandas.DataFrame
        ``segment__*`` columns aligned with ``flagged``.
    flagged : array of bool
        Whether each row is in the flag band.
    y_true : array of {0, 1}, optional
        Labels; adds ``negatives`` and ``false_positives``.

    Returns
    -------
    dict
        ``{segment: {level: {"n", "flagged"[, "negatives", "false_positives"]}}}``, the
        :data:`MAX_LEVELS` most frequent levels per segment (the rest as ``other``).

    Examples
    --------
    >>> seg = pd.DataFrame({"segment__tenure": ["new", "new", "old", "old"]})
    >>> slice_profile(seg, np.array([True, False, False, False]), np.array([0, 0, 1, 0]))
    ... # doctest: +NORMALIZE_WHITESPACE
    {'segment__tenure': {'new': {'n': 2, 'flagged': 1, 'negatives': 2, 'false_positives': 1},
                         'old': {'n': 2, 'flagged': 0, 'negatives': 1, 'false_positives': 0}}}
    """
    from riskscore.monitor._errors import MonitorError

    f = _aligned(segments, flagged, "slice_profile")
    y = None
    if y_true is not None:
        y = pd.to_numeric(pd.Series(np.asarray(y_true).ravel()), errors="coerce").to_numpy(float)
        if y.size != f.size or not np.isin(y, (0.0, 1.0)).all():
            raise MonitorError(
                f"slice_profile: y_true must hold 0/1 labels aligned with flagged ({f.size} "
                f"rows); got {y.size} value(s), {int((~np.isin(y, (0.0, 1.0))).sum())} not 0/1"
            )
    out: dict[str, dict[str, dict[str, int]]] = {}
    for col in segments.columns:
        labels = _levels(segments[col].reset_index(drop=True))
        freq = pd.Series(labels).value_counts()
        keep = set(freq.index[:MAX_LEVELS])
        labels = np.where(np.isin(labels, list(keep)), labels, "other")
        per: dict[str, dict[str, int]] = {}
        for level in sorted(set(labels.tolist())):
            m = labels == level
            entry = {"n": int(m.sum()), "flagged": int((f & m).sum())}
            if y is not None:
                neg = m & (y == 0)
                entry["negatives"] = int(neg.sum())
                entry["false_positives"] = int((f & neg).sum())
            per[str(level)] = entry
        out[str(col)] = per
    return out


def _is_protected(segment: str, level: str, protected: Sequence[str]) -> bool:
    for spec in protected:
        seg, _, lev = spec.partition("=")
        if lev == level and segment in (seg, f"{SEGMENT_PREFIX}{seg}"):
            return True
    return False


def compare_slices(
    profile: Mapping[str, Mapping[str, Mapping[str, int]]],
    segments: pd.DataFrame,
    flagged: np.ndarray,
    *,
    watch: float = 1.5,
    act: float = 2.0,
    protected: Sequence[str] = (),
) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """Flag rate per slice now against the reference, with findings for protected slices.

    Parameters
    ----------
    profile : mapping
        :func:`slice_profile` of the reference window (``Reference.slices``).
    segments : pandas.DataFrame
        The run's ``segment__*`` columns, aligned with ``flagged``.
    flagged : array of bool
    watch, act : float, default 1.5 and 2.0
        Ratio of the flag rate now to the reference's at which a protected slice's rise
        is worth watching / acting on (only when the Wilson intervals do not overlap).
    protected : sequence of str
        ``segment=level`` slices that get findings.

    Returns
    -------
    (pandas.DataFrame, list of dict)
        The table (:data:`SLICE_TABLE_COLUMNS`, one row per slice in both) and the
        findings as dicts with ``level``, ``subject``, ``value`` and ``message``.

    Examples
    --------
    >>> seg = pd.DataFrame({"segment__tenure": ["new"] * 500 + ["old"] * 500})
    >>> ref = slice_profile(seg, np.arange(1000) % 25 == 0)          # 4% everywhere
    >>> now = np.where(np.arange(1000) < 500, np.arange(1000) % 8 == 0, np.arange(1000) % 25 == 0)
    >>> table, found = compare_slices(ref, seg, now, protected=["tenure=new"])
    >>> table[["level", "flag_rate_ref", "flag_rate_now"]].values.tolist()
    [['new', 0.04, 0.126], ['old', 0.04, 0.04]]
    >>> found[0]["level"], found[0]["subject"], round(found[0]["value"], 2)
    ('act', 'segment__tenure=new', 3.15)
    >>> found[0]["message"][:62]
    'Protected slice segment__tenure=new is flagged 3.1x as often a'

    """
    from riskscore.modeling._slices import wilson_interval

    f = _aligned(segments, flagged, "compare_slices")
    rows, findings = [], []
    for col in segments.columns:
        stored = profile.get(str(col))
        if not stored:
            continue
        labels = _levels(segments[col].reset_index(drop=True))
        labels = np.where(np.isin(labels, list(stored)), labels, "other")
        for level, ref in stored.items():
            m = labels == level
            n_now, k_now = int(m.sum()), int((f & m).sum())
            n_ref, k_ref = int(ref["n"]), int(ref["flagged"])
            p_ref = k_ref / n_ref if n_ref else math.nan
            p_now = k_now / n_now if n_now else math.nan
            ref_lo, ref_hi = wilson_interval(k_ref, n_ref)
            now_lo, now_hi = wilson_interval(k_now, n_now)
            ratio = p_now / p_ref if p_ref > 0 else (math.inf if p_now > 0 else math.nan)
            is_protected = _is_protected(str(col), level, protected)
            rows.append(
                {
                    "segment": str(col),
                    "level": level,
                    "protected": is_protected,
                    "n_ref": n_ref,
                    "flag_rate_ref": p_ref,
                    "flag_rate_ref_lo": ref_lo,
                    "flag_rate_ref_hi": ref_hi,
                    "n_now": n_now,
                    "flag_rate_now": p_now,
                    "flag_rate_now_lo": now_lo,
                    "flag_rate_now_hi": now_hi,
                    "ratio": ratio,
                }
            )
            if not (is_protected and n_now and n_ref and now_lo > ref_hi):
                continue
            grade = "act" if ratio >= act else "watch" if ratio >= watch else "ok"
            if grade == "ok":
                continue
            name = slice_label(str(col), level)
            times = f"{ratio:.1f}x" if math.isfinite(ratio) else "newly"
            findings.append(
                {
                    "level": grade,
                    "subject": name,
                    "value": ratio,
                    "message": (
                        f"Protected slice {name} is flagged {times} as often as at the "
                        f"reference ({p_now:.1%} [{now_lo:.1%}, {now_hi:.1%}] of {n_now:,} "
                        f"rows now vs {p_ref:.1%} [{ref_lo:.1%}, {ref_hi:.1%}] of {n_ref:,}); "
                        "check the slice's false-positive rate once labels mature."
                    ),
                }
            )
    return pd.DataFrame(rows, columns=list(SLICE_TABLE_COLUMNS)), findings
