"""Two models scored on the same rows: a paired entity bootstrap of their difference.

The promotion gate (:class:`riskscore.registry.Gate`) decides on a
:class:`PairedComparison`: a challenger and a champion scored on **the same rows**, pooled
over as many cutoffs as there are, with

* the difference ``challenger − champion`` of PR-AUC and of precision at review capacity
  with a percentile interval from a **paired** bootstrap that draws whole entities (an
  entity's label repeats across cutoffs, so rows are not independent);
* the flag rate and the false-positive rate at the flag band per slice for both models
  (Wilson intervals) and the FPR difference (paired bootstrap; Newcombe's interval when
  there are no replicates), from :mod:`riskscore.modeling._slices`.

Where the rows come from: :func:`paired_prequential` refits both configurations on each
of the last ``n_windows`` prequential windows and pools their test rows (the honest
source: neither model saw them); :func:`paired_frame` scores two fitted models on a
labelled table (the registry does this with the candidate's logged test window). Both
return the same *paired frame*, and :func:`compare_paired` measures it.

Why pool: with 15 positives the paired 95 % interval of an AP difference is about ±0.12,
and it shrinks as ``1/√positives``. One window cannot decide between two good models.

The bootstrap helpers (:func:`_cluster_weights`, :func:`_weighted_pr_auc`) are shared with
:func:`riskscore.modeling.family_value`.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from riskscore._progress import track
from riskscore.exceptions import TrainingError
from riskscore.metrics import pr_auc

__all__ = [
    "FLAG_BANDS",
    "PairedComparison",
    "compare_paired",
    "paired_frame",
    "paired_prequential",
]

#: Bands whose rows are flagged for review (the "flag band").
FLAG_BANDS = ("high", "critical")

#: Most replicates drawn per block (memory is bounded by ``_block_size``).
_BLOCK = 200


def _weighted_pr_auc(y: np.ndarray, s: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """Average precision of ``(y, s)`` under each row of ``weights`` (shape ``(B, n)``)."""
    order = np.argsort(-s, kind="stable")
    s_sorted, y_sorted = s[order], y[order]
    last = np.r_[np.flatnonzero(np.diff(s_sorted) != 0), y.size - 1]
    w = weights[:, order]
    tp = np.cumsum(w * y_sorted, axis=1)[:, last]
    total = np.cumsum(w, axis=1)[:, last]
    n_pos = tp[:, -1:]
    with np.errstate(invalid="ignore", divide="ignore"):
        precision = np.where(total > 0, tp / np.maximum(total, 1e-300), 0.0)
        recall = tp / n_pos
    steps = np.diff(np.c_[np.zeros((w.shape[0], 1)), recall], axis=1)
    out: np.ndarray = np.where(n_pos[:, 0] > 0, (steps * precision).sum(axis=1), np.nan)
    return out


def _cluster_weights(clusters: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """Row weights of ``n_boot`` bootstrap draws of whole clusters (entities)."""
    codes, uniques = pd.factorize(pd.Series(clusters), sort=True)
    n = len(uniques)
    rng = np.random.default_rng(seed)
    draws = rng.integers(0, n, size=(n_boot, n))
    flat = (draws + np.arange(n_boot)[:, None] * n).ravel()
    counts = np.bincount(flat, minlength=n_boot * n).reshape(n_boot, n)
    weights: np.ndarray = counts[:, codes].astype(np.float64)
    return weights


def _block_size(n_rows: int) -> int:
    """Replicates per block: at most ``_BLOCK``, and about 2 million weights per block."""
    return max(1, min(_BLOCK, 2_000_000 // max(1, n_rows)))


def _weight_blocks(clusters: np.ndarray, n_boot: int, seed: int) -> Iterator[np.ndarray]:
    """Yield the row weights of ``n_boot`` cluster-bootstrap draws, a block at a time.

    Memory stays at a few blocks of ``rows × block`` floats however many rows; the draws
    depend only on ``seed`` and the number of rows.
    """
    codes, uniques = pd.factorize(pd.Series(clusters), sort=True)
    n = len(uniques)
    rng = np.random.default_rng(seed)
    block = _block_size(len(codes))
    for start in range(0, n_boot, block):
        b = min(block, n_boot - start)
        draws = rng.integers(0, n, size=(b, n))
        flat = (draws + np.arange(b)[:, None] * n).ravel()
        counts = np.bincount(flat, minlength=b * n).reshape(b, n)
        yield counts[:, codes].astype(np.float64)


def _top_k(scores: np.ndarray, groups: np.ndarray | None, k: int) -> np.ndarray:
    """Mask of the ``k`` highest scores of each group (ties broken by row order)."""
    key = np.zeros(scores.size) if groups is None else pd.factorize(pd.Series(groups))[0]
    rank = pd.Series(-scores).groupby(key).rank(method="first").to_numpy()
    out: np.ndarray = rank <= k
    return out


@dataclass(frozen=True)
class PairedComparison:
    """Challenger vs champion on the same rows (see :func:`compare_paired`).

    Attributes
    ----------
    metrics : pandas.DataFrame
        Index ``pr_auc``, ``precision_at_k``; columns ``challenger``, ``champion``,
        ``delta`` (challenger − champion), ``delta_lo``, ``delta_hi``, ``half_width``.
    slices : pandas.DataFrame
        One row per segment level (see :func:`riskscore.modeling.slice_comparison`); empty
        without segment columns.
    n_rows, n_entities, n_positives, n_cutoffs : int
        What was pooled.
    k : int
        Reviews per cutoff behind ``precision_at_k``.
    level : float
        Confidence level of every interval.
    n_bootstrap : int
    source : str
        Where the rows came from, in words.
    audit : pandas.DataFrame
        Challenger and champion on the random-audit sample (precision, recall, flag rate,
        prevalence: inverse-probability weighted, with intervals) next to all labels
        (:func:`riskscore.modeling._audit.audit_paired`); empty without an audit.
    audit_note : str
        What the audit rows are, or "no audit sample: ...".
    """

    metrics: pd.DataFrame
    slices: pd.DataFrame
    n_rows: int
    n_entities: int
    n_positives: int
    n_cutoffs: int
    k: int
    level: float
    n_bootstrap: int
    source: str = ""
    notes: list[str] = field(default_factory=list)
    audit: pd.DataFrame = field(default_factory=pd.DataFrame)
    audit_note: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-ready dict (NaN as ``None``), as logged to MLflow."""
        return {
            "source": self.source,
            "n_rows": self.n_rows,
            "n_entities": self.n_entities,
            "n_positives": self.n_positives,
            "n_cutoffs": self.n_cutoffs,
            "k": self.k,
            "level": self.level,
            "n_bootstrap": self.n_bootstrap,
            "metrics": _records(self.metrics.reset_index(names="metric")),
            "slices": _records(self.slices),
            "notes": list(self.notes),
            "audit": _records(self.audit),
            "audit_note": self.audit_note,
        }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    out = []
    for record in frame.to_dict("records"):
        clean: dict[str, Any] = {}
        for key, value in record.items():
            if isinstance(value, float | np.floating):
                clean[str(key)] = None if not np.isfinite(value) else round(float(value), 6)
            elif isinstance(value, np.integer | np.bool_):
                clean[str(key)] = value.item()
            else:
                clean[str(key)] = value
        out.append(clean)
    return out


def compare_paired(
    frame: pd.DataFrame,
    *,
    label_col: str = "label",
    id_col: str | None = "entity_id",
    time_col: str | None = "cutoff",
    k: int = 20,
    segment_cols: Sequence[str] | None = None,
    n_bootstrap: int = 1000,
    level: float = 0.95,
    seed: int = 0,
    source: str = "",
    audit: pd.DataFrame | None = None,
) -> PairedComparison:
    """Measure a paired frame: metric differences and slice rates with intervals.

    Parameters
    ----------
    frame : pandas.DataFrame
        One row per (entity, cutoff) scored by both models: the label, ``score_challenger``
        and ``score_champion`` (higher is riskier) and ``flag_challenger`` /
        ``flag_champion`` (flagged for review: the flag band), optionally the id, time and
        segment columns — as :func:`paired_frame` and :func:`paired_prequential` return.
    label_col, id_col, time_col : str
        ``id_col`` names the bootstrap's clusters (default: rows), ``time_col`` the groups
        of ``k`` reviews (default: one group). Missing columns fall back to the defaults.
    k : int, default 20
        Reviews per cutoff on these rows, for ``precision_at_k``.
    segment_cols : sequence of str, optional
        Slice columns; default every column starting with ``segment__``.
    n_bootstrap : int, default 1000
        Paired replicates (0: no intervals on the differences).
    level : float, default 0.95
    seed : int
    audit : pandas.DataFrame, optional
        The random-audit sample of the rows' cutoffs
        (:func:`riskscore.modeling.audit_sample`): both models' precision, recall and
        flag rate on it, with intervals, next to all labels (``audit``); without it the
        comparison says "no audit sample".

    Returns
    -------
    PairedComparison

    Raises
    ------
    TrainingError
        A needed column is missing, labels are not 0/1, or there is no positive.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> y = (rng.random(2000) < 0.1).astype(int)
    >>> champ = y + rng.normal(size=2000)
    >>> f = pd.DataFrame({"entity_id": np.arange(2000), "cutoff": np.arange(2000) % 4,
    ...                   "label": y, "score_champion": champ, "score_challenger": champ,
    ...                   "flag_champion": champ > 1.5, "flag_challenger": champ > 1.5})
    >>> c = compare_paired(f, k=50, n_bootstrap=200)
    >>> c.n_positives, c.n_cutoffs, float(c.metrics.loc["pr_auc", "delta"])
    (210, 4, 0.0)
    """
    need = [label_col, *_PAIR_COLS]
    missing = [c for c in need if c not in frame.columns]
    if missing:
        raise TrainingError(
            f"compare_paired needs columns {need}; missing {missing}. Build the frame with "
            "paired_frame(...) or paired_prequential(...)"
        )
    y = pd.to_numeric(frame[label_col], errors="coerce").to_numpy(dtype=np.float64)
    bad = ~np.isin(y, (0.0, 1.0))
    if bad.any():
        raise TrainingError(
            f"label column '{label_col}' must hold 0/1; {int(bad.sum())} row(s) do not "
            f"(e.g. rows {np.flatnonzero(bad)[:5].tolist()}). Drop unlabelled rows first"
        )
    n_pos = int(y.sum())
    if n_pos == 0:
        raise TrainingError(
            f"compare_paired found no positive in '{label_col}' over {len(frame)} rows: "
            "nothing to compare. Pool more cutoffs"
        )
    a = frame["score_challenger"].to_numpy(dtype=np.float64)
    b = frame["score_champion"].to_numpy(dtype=np.float64)
    clusters = frame[id_col].to_numpy() if id_col and id_col in frame.columns else np.arange(len(y))
    groups = frame[time_col].to_numpy() if time_col and time_col in frame.columns else None
    top_a, top_b = _top_k(a, groups, k), _top_k(b, groups, k)
    point = {
        "pr_auc": (pr_auc(y, a), pr_auc(y, b)),
        "precision_at_k": (float(y[top_a].mean()), float(y[top_b].mean())),
    }
    diffs: dict[str, list[np.ndarray]] = {name: [] for name in point}
    block = _block_size(len(clusters))
    blocks = track(
        _weight_blocks(clusters, n_bootstrap, seed),
        "paired bootstrap",
        total=-(-int(n_bootstrap) // block),
        describe=lambda w: f"{len(w)} replicates",
    )
    for w in blocks:
        diffs["pr_auc"].append(_weighted_pr_auc(y, a, w) - _weighted_pr_auc(y, b, w))
        with np.errstate(invalid="ignore", divide="ignore"):
            pa = (w @ (y * top_a)) / (w @ top_a)
            pb = (w @ (y * top_b)) / (w @ top_b)
        diffs["precision_at_k"].append(pa - pb)
    tail = 100 * (1 - level) / 2
    rows = {}
    for name, (va, vb) in point.items():
        lo = hi = float("nan")
        d = np.concatenate(diffs[name]) if diffs[name] else np.empty(0)
        d = d[np.isfinite(d)]
        if d.size:
            lo, hi = (float(v) for v in np.percentile(d, [tail, 100 - tail]))
        rows[name] = {
            "challenger": va,
            "champion": vb,
            "delta": va - vb,
            "delta_lo": lo,
            "delta_hi": hi,
            "half_width": (hi - lo) / 2,
        }
    metrics = pd.DataFrame.from_dict(rows, orient="index")
    from riskscore.modeling._slices import slice_comparison

    seg = (
        [c for c in frame.columns if str(c).startswith("segment__")]
        if segment_cols is None
        else list(segment_cols)
    )
    slices = slice_comparison(
        frame[seg],
        y,
        frame["flag_challenger"].to_numpy(dtype=bool),
        frame["flag_champion"].to_numpy(dtype=bool),
        clusters=clusters,
        n_bootstrap=n_bootstrap,
        level=level,
        seed=seed,
    )
    from riskscore.modeling._audit import audit_paired

    audit_table, audit_note = audit_paired(
        frame, audit, label_col=label_col, n_bootstrap=n_bootstrap, level=level, seed=seed
    )
    return PairedComparison(
        metrics=metrics,
        slices=slices,
        n_rows=int(y.size),
        n_entities=int(pd.Series(clusters).nunique()),
        n_positives=n_pos,
        n_cutoffs=1 if groups is None else int(pd.Series(groups).nunique()),
        k=int(k),
        level=float(level),
        n_bootstrap=int(n_bootstrap),
        source=source,
        audit=audit_table,
        audit_note=audit_note,
    )


_PAIR_COLS = ("score_challenger", "score_champion", "flag_challenger", "flag_champion")


def paired_frame(
    challenger: Any,
    champion: Any,
    table: pd.DataFrame,
    *,
    segment_cols: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Score ``table`` with two fitted :class:`~riskscore.modeling.RiskModel` s, row for row.

    Parameters
    ----------
    challenger, champion : RiskModel
        Fits that never saw the rows of ``table`` (evaluated fits, not refits).
    table : pandas.DataFrame
        Labelled rows with both models' feature columns, the id, time and label columns
        named as in ``challenger``'s metadata.
    segment_cols : sequence of str, optional
        Slice columns to carry over; default every ``segment__*`` column of ``table``.

    Returns
    -------
    pandas.DataFrame
        Id, time, label, ``score_*`` (calibrated probabilities), ``flag_*`` (band high or
        critical of each model's own bands) and the segment columns.
    """
    for name, model in (("challenger", challenger), ("champion", champion)):
        if not all(hasattr(model, a) for a in ("metadata", "raw_score", "to_matrix")):
            raise TrainingError(
                f"paired_frame: the {name} must be a riskscore RiskModel (e.g. "
                f"load_risk_model(uri).model); got {type(model).__name__}"
            )
    if not isinstance(table, pd.DataFrame):
        raise TrainingError(
            f"paired_frame: table must be a DataFrame of labelled rows; got {type(table).__name__}"
        )
    meta = challenger.metadata
    keep = [
        c
        for c in (meta.get("id_col", "entity_id"), meta.get("time_col"), meta.get("label_col"))
        if c and c in table.columns
    ]
    seg = (
        [c for c in table.columns if str(c).startswith("segment__")]
        if segment_cols is None
        else list(segment_cols)
    )
    out = table[keep + [c for c in seg if c not in keep]].reset_index(drop=True)
    for name, model in (("challenger", challenger), ("champion", champion)):
        scored = model.scores_from_raw(model.raw_score(model.to_matrix(table)))
        out[f"score_{name}"] = np.asarray(scored["score"], dtype=np.float64)
        out[f"flag_{name}"] = np.isin(np.asarray(scored["band"]).astype(str), FLAG_BANDS)
    return out


def paired_prequential(
    table: pd.DataFrame,
    challenger: Any,
    champion: Any,
    *,
    n_windows: int = 3,
    segment_cols: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Refit two configurations on each of the last ``n_windows`` windows; pool test rows.

    Split ``i`` tests on the window ``i`` steps before the newest and both configurations
    are fitted only on what came before it (as :func:`riskscore.modeling.prequential`), so
    both score the same unseen rows. The split options (windows, gap, entity-disjoint
    test side) are the challenger's; the champion is fitted on the same split.

    Parameters
    ----------
    table : pandas.DataFrame
        The labelled training table (id, time, label, features, optional segments).
    challenger, champion : TrainConfig
        The two configurations (features, parameters, calibration...).
    n_windows : int, default 3
    segment_cols : sequence of str, optional
        Slice columns of ``table`` carried over (never features); default every
        ``segment__*`` column.

    Returns
    -------
    pandas.DataFrame
        A paired frame for :func:`compare_paired`; ``attrs["k"]`` holds the reviews per
        cutoff on the test side (capacity × test share).

    Examples
    --------
    >>> from riskscore.modeling import TrainConfig, make_training_table
    >>> t = make_training_table(400, 5, positive_rate=0.1, seed=0)
    >>> quick = TrainConfig(capacity=20, num_boost_round=40, num_threads=1)
    >>> champ = quick.replace(feature_cols=("profile__account_age_days",))
    >>> f = paired_prequential(t, quick, champ, n_windows=2)
    >>> sorted(f["cutoff"].astype(str).str[:10].unique())
    ['2024-04-01', '2024-05-01']
    >>> c = compare_paired(f, k=f.attrs["k"], n_bootstrap=100)
    >>> bool(c.metrics.loc["pr_auc", "delta"] > 0)
    True
    """
    from riskscore.modeling._config import TrainConfig
    from riskscore.modeling._fit import fit_evaluated
    from riskscore.modeling._prepare import TrainingWarning, prepare
    from riskscore.modeling._split import naming_window, rolling_splits

    configs = {}
    for name, cfg in (("challenger", challenger), ("champion", champion)):
        if not isinstance(cfg, TrainConfig):
            raise TrainingError(
                f"paired_prequential expects a TrainConfig for the {name}; got "
                f"{type(cfg).__name__}. Build one with TrainConfig(...)"
            )
        configs[name] = cfg
    base = configs["challenger"]
    if base.time_col is None:
        raise TrainingError("paired_prequential needs a time column: set time_col on the config")
    seg = (
        tuple(c for c in table.columns if str(c).startswith("segment__"))
        if segment_cols is None
        else tuple(segment_cols)
    )
    preps = {}
    for name, cfg in configs.items():
        cfg = cfg.replace(n_bootstrap=0, refit=False, family_report=False, segment_cols=seg)
        configs[name] = cfg
        preps[name] = prepare(table, cfg)
    split_options = {k: v for k, v in base.split_options().items() if v is not None}
    keys = [base.id_col, base.time_col]
    splits = rolling_splits(
        preps["challenger"].frame,
        id_col=base.id_col,
        time_col=base.time_col,
        n_windows=n_windows,
        **split_options,
    )
    parts = []
    k_eff = 1
    for i, split in enumerate(splits, start=1):
        scored = {}
        for name in ("challenger", "champion"):
            where = f"paired_prequential ({name})"
            with warnings.catch_warnings(), naming_window(where, split, i, len(splits)):
                warnings.simplefilter("ignore", TrainingWarning)
                result = fit_evaluated(
                    preps[name],
                    split,
                    configs[name].replace(segment_cols=()),
                    diagnostics=False,
                    with_baseline=False,
                )
            p = result.predictions
            scored[name] = pd.DataFrame(
                {
                    **{c: p[c].to_numpy() for c in (*keys, base.label_col)},
                    f"score_{name}": p["score"].to_numpy(dtype=np.float64),
                    f"flag_{name}": p["band"].astype(str).isin(FLAG_BANDS).to_numpy(),
                }
            )
            if name == "challenger":
                k_eff = int(result.model.metadata.get("capacity_test", k_eff))
        both = scored["challenger"].merge(
            scored["champion"].drop(columns=[base.label_col]), on=keys, how="inner"
        )
        if len(both) != len(scored["challenger"]):
            raise TrainingError(
                "paired_prequential: the two configurations tested different rows "
                f"({len(scored['challenger'])} vs {len(scored['champion'])}); give both the "
                "same id, time and label columns and split options"
            )
        parts.append(both)
    out = pd.concat(parts, ignore_index=True)
    if seg:
        segments = table[[*keys, *seg]].drop_duplicates(keys)
        out = out.merge(segments, on=keys, how="left")
    out.attrs["k"] = k_eff
    return out
