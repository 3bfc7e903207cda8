"""What each feature family adds: drop-one-family refits pooled over windows and seeds.

A feature family is the ``<family>__`` prefix of a column (``pricing``, ``complaints``,
``buyers``, ``account``, ``activity``, ``text``, ``network``, or any prefix of a user
table). :func:`family_ablation` runs :func:`riskscore.modeling.prequential` once with every
feature and once without each family (and each given pair of families, for families that
overlap such as ``network`` and ``buyers``), on the same rolling windows and the same
seeds, and pairs the test-window PR-AUCs: ``lost = PR-AUC(full) - PR-AUC(without)``.

With 10-20 positives per window one window cannot decide whether a family helps, so the
differences are pooled over windows × seeds and reported with a 95 % interval:

* fewer than :data:`T_INTERVAL_BELOW` pairs: a Student t-interval on the mean of the paired
  differences (a bootstrap over so few pairs is too narrow);
* otherwise a paired percentile bootstrap over the pairs.

The verdict is ``helps`` when the interval lies above 0, ``hurts`` when it lies below 0,
and ``within noise`` otherwise (also when there is a single pair, whose interval is
undefined). :func:`families_to_leave_out` names the families whose interval lies entirely
below zero; nothing calls it by default.
"""

from __future__ import annotations

import difflib
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from riskscore._progress import status, track
from riskscore._validation import check_int, fail
from riskscore.exceptions import TrainingError

__all__ = ["T_INTERVAL_BELOW", "families_to_leave_out", "family_ablation", "pool_ablation"]

#: Below this many (window, seed) pairs the interval is a t-interval, else a bootstrap.
T_INTERVAL_BELOW = 30

#: Resamples of the paired bootstrap.
N_BOOTSTRAP = 2000

_DEFAULT_PAIRS: tuple[tuple[str, str], ...] = (("network", "buyers"),)


def _without(group: tuple[str, list[str]]) -> str:
    """Name a left-out group in a progress line: ``without network+buyers``."""
    return f"without {group[0]}"


_COLUMNS = [
    "family",
    "n_features",
    "n_pairs",
    "pr_auc_full",
    "pr_auc_without",
    "pr_auc_lost",
    "lost_lo",
    "lost_hi",
    "interval",
    "verdict",
]


def _family(column: str) -> str | None:
    head, sep, tail = column.partition("__")
    return head if sep and head and tail else None


def _interval(diffs: np.ndarray, seed: int) -> tuple[float, float, str]:
    n = diffs.size
    if n < 2:
        return float("nan"), float("nan"), "none (1 pair)"
    if n < T_INTERVAL_BELOW:
        from scipy import stats

        half = float(stats.t.ppf(0.975, n - 1) * diffs.std(ddof=1) / np.sqrt(n))
        mean = float(diffs.mean())
        return mean - half, mean + half, "t"
    rng = np.random.default_rng(seed)
    means = diffs[rng.integers(0, n, size=(N_BOOTSTRAP, n))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi), "paired bootstrap"


def _verdict(lo: float, hi: float) -> str:
    if lo > 0:
        return "helps"
    if hi < 0:
        return "hurts"
    return "within noise"


def _check_family(name: str, known: Sequence[str], what: str) -> None:
    if name not in known:
        close = difflib.get_close_matches(name, known, n=1)
        hint = f" — did you mean '{close[0]}'?" if close else ""
        raise TrainingError(
            f"unknown feature family '{name}' in {what}; the table's families (column "
            f"prefixes before '__') are {list(known)}{hint}"
        )


def family_ablation(
    table: pd.DataFrame,
    *,
    families: Sequence[str] | None = None,
    pairs: Sequence[Sequence[str]] = _DEFAULT_PAIRS,
    n_windows: int = 3,
    seeds: Sequence[int] = (0,),
    id_col: str = "entity_id",
    time_col: str = "cutoff",
    label_col: str = "label",
    **train_kwargs: Any,
) -> pd.DataFrame:
    """PR-AUC lost when each feature family (and pair of families) is left out.

    For each seed, :func:`riskscore.modeling.prequential` runs with every feature and
    without each family, on the same ``n_windows`` rolling windows; the differences of
    test-window PR-AUC are paired by (window, seed) and pooled.

    Parameters
    ----------
    table : pandas.DataFrame
        A training table (id, time, label and ``<family>__<feature>`` columns). Feature
        columns without a family prefix stay in every fit.
    families : sequence of str, optional
        Families to leave out one at a time (default: every prefix, in column order).
    pairs : sequence of (str, str), default (("network", "buyers"),)
        Families left out together. The default pair is skipped when the table lacks one
        of its families; a pair you pass must name known families.
    n_windows : int, default 3
        Prequential test windows per seed.
    seeds : sequence of int, default (0,)
        Model (and split) seeds; every fit of a seed uses the same split.
    id_col, time_col, label_col : str
    **train_kwargs
        Passed to :func:`riskscore.modeling.prequential` (e.g. ``capacity``,
        ``valid_windows``, ``params``, ``feature_cols`` to restrict the full model).

    Returns
    -------
    pandas.DataFrame
        One row per family then per pair (``"a+b"``), in that order, with columns
        ``family``, ``n_features``, ``n_pairs``, ``pr_auc_full``, ``pr_auc_without``
        (means), ``pr_auc_lost`` (mean paired difference), ``lost_lo`` / ``lost_hi`` (95 %
        interval), ``interval`` (``"t"``, ``"paired bootstrap"`` or ``"none (1 pair)"``) and
        ``verdict`` (``helps`` / ``hurts`` / ``within noise``). ``.attrs["pairs"]`` holds
        the per (family, seed, window) PR-AUCs.

    Raises
    ------
    TrainingError
        When no feature column has a family prefix, a family or pair is unknown, or
        leaving a family out would leave no feature.

    Examples
    --------
    >>> from riskscore.modeling import make_training_table
    >>> t = make_training_table(600, 4, positive_rate=0.1, seed=0)
    >>> out = family_ablation(t, families=["noise", "network"], pairs=(), n_windows=1,
    ...                       capacity=20, num_boost_round=100, num_threads=1)
    >>> out["family"].tolist(), out["n_pairs"].tolist()
    (['noise', 'network'], [1, 1])
    """
    from riskscore.modeling._train import TrainingWarning, prequential

    if not isinstance(table, pd.DataFrame):
        raise TrainingError(
            f"family_ablation expects a pandas DataFrame; got {type(table).__name__}"
        )
    if not seeds:
        raise TrainingError("seeds is empty; pass at least one seed, e.g. seeds=(0,)")
    base_cols = train_kwargs.pop("feature_cols", None)
    segment_cols = set(train_kwargs.get("segment_cols", ()))
    exclude = {id_col, time_col, label_col, *segment_cols}
    if base_cols is None:
        features = [str(c) for c in table.columns if c not in exclude]
    else:
        features = [str(c) for c in base_cols]
    by_family: dict[str, list[str]] = {}
    for c in features:
        fam = _family(c)
        if fam is not None:
            by_family.setdefault(fam, []).append(c)
    known = list(by_family)
    if not known:
        raise TrainingError(
            f"no feature column has a family prefix: columns {features[:10]} do not look "
            "like '<family>__<feature>'. Rename them (e.g. 'pricing__price_ratio') so that "
            "families can be left out"
        )
    chosen = known if families is None else [str(f) for f in families]
    if not chosen and not pairs:
        raise TrainingError("families and pairs are both empty: nothing to leave out")
    for f in chosen:
        _check_family(f, known, "families")
    groups: list[tuple[str, list[str]]] = [(f, [f]) for f in chosen]
    for pair in pairs:
        names = [str(p) for p in pair]
        if len(names) < 2:
            raise TrainingError(f"a pair names two families or more; got {list(pair)}")
        if pairs is _DEFAULT_PAIRS and not all(n in by_family for n in names):
            continue
        for n in names:
            _check_family(n, known, "pairs")
        groups.append(("+".join(names), names))
    for name, fams in groups:
        left = [c for c in features if _family(c) not in fams]
        if not left:
            raise TrainingError(
                f"leaving out '{name}' leaves no feature column; the table has only "
                f"families {known}"
            )

    records: list[dict[str, Any]] = []

    def pr_aucs(cols: list[str], seed: int) -> pd.Series:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", TrainingWarning)
            out = prequential(
                table,
                n_windows=n_windows,
                feature_cols=cols,
                seed=seed,
                id_col=id_col,
                time_col=time_col,
                label_col=label_col,
                **train_kwargs,
            )
        return out["pr_auc"].drop(["mean", "std"])

    for seed in seeds:
        status(f"ablation: all families, seed {seed}")
        full = pr_aucs(features, seed)
        for name, fams in track(groups, f"ablation seed {seed}", describe=_without):
            without = pr_aucs([c for c in features if _family(c) not in fams], seed)
            for window in full.index:
                records.append(
                    {
                        "family": name,
                        "seed": int(seed),
                        "window": str(window),
                        "pr_auc_full": float(full[window]),
                        "pr_auc_without": float(without[window]),
                    }
                )
    long = pd.DataFrame.from_records(records)
    long["lost"] = long["pr_auc_full"] - long["pr_auc_without"]
    sizes = {name: sum(len(by_family[f]) for f in fams) for name, fams in groups}
    long.insert(1, "n_features", long["family"].map(sizes).astype(np.int64))
    return pool_ablation(long, seed=int(seeds[0]))


def pool_ablation(pairs: pd.DataFrame, *, seed: int = 0) -> pd.DataFrame:
    """Pool per-(seed, window) PR-AUC differences into one row per family.

    This is the last step of :func:`family_ablation`; call it on the concatenated
    ``.attrs["pairs"]`` of several runs (e.g. one per simulated marketplace) to pool them.

    Parameters
    ----------
    pairs : pandas.DataFrame
        Columns ``family``, ``n_features``, ``seed``, ``window``, ``pr_auc_full``,
        ``pr_auc_without`` (one row per family, seed and window).
    seed : int, default 0
        Seed of the bootstrap (used from :data:`T_INTERVAL_BELOW` pairs on).

    Returns
    -------
    pandas.DataFrame
        As :func:`family_ablation`, families in order of first appearance.

    Examples
    --------
    >>> p = pd.DataFrame({"family": ["a"] * 3, "n_features": 2, "seed": 0,
    ...                   "window": ["w1", "w2", "w3"], "pr_auc_full": [0.5, 0.6, 0.7],
    ...                   "pr_auc_without": [0.3, 0.45, 0.5]})
    >>> out = pool_ablation(p)
    >>> round(float(out.loc[0, "pr_auc_lost"]), 3), out.loc[0, "verdict"]
    (0.183, 'helps')
    """
    needed = ["family", "n_features", "seed", "window", "pr_auc_full", "pr_auc_without"]
    if not isinstance(pairs, pd.DataFrame):
        raise fail(
            "pairs",
            "pool_ablation",
            "the .attrs['pairs'] DataFrame of family_ablation",
            pairs,
            error=TrainingError,
        )
    seed = check_int(seed, "seed", "pool_ablation", minimum=0, error=TrainingError)
    missing = [c for c in needed if c not in pairs.columns]
    if missing:
        raise TrainingError(
            f"pool_ablation expects the .attrs['pairs'] frame of family_ablation; columns "
            f"{missing} are missing"
        )
    try:
        lost_all = (pairs["pr_auc_full"] - pairs["pr_auc_without"]).astype(np.float64)
    except (TypeError, ValueError):
        raise TrainingError(
            "pool_ablation: columns 'pr_auc_full' and 'pr_auc_without' must hold numbers; "
            f"got dtypes {pairs['pr_auc_full'].dtype} and {pairs['pr_auc_without'].dtype}. Pass "
            "the .attrs['pairs'] frame of family_ablation"
        ) from None
    rows = []
    for i, name in enumerate(dict.fromkeys(pairs["family"])):
        mask = (pairs["family"] == name).to_numpy()
        part = pairs[mask]
        diffs = lost_all[mask].to_numpy(dtype=np.float64)
        lo, hi, how = _interval(diffs, seed=seed + i)
        try:
            n_features = int(part["n_features"].iloc[0])
        except (TypeError, ValueError, OverflowError):
            raise TrainingError(
                "pool_ablation: column 'n_features' must hold whole numbers; got "
                f"{part['n_features'].iloc[0]!r} for family '{name}'. Pass the .attrs['pairs'] "
                "frame of family_ablation"
            ) from None
        rows.append(
            {
                "family": str(name),
                "n_features": n_features,
                "n_pairs": int(diffs.size),
                "pr_auc_full": float(part["pr_auc_full"].mean()),
                "pr_auc_without": float(part["pr_auc_without"].mean()),
                "pr_auc_lost": float(diffs.mean()),
                "lost_lo": lo,
                "lost_hi": hi,
                "interval": how,
                "verdict": _verdict(lo, hi) if diffs.size > 1 else "within noise",
            }
        )
    result = pd.DataFrame(rows, columns=_COLUMNS)
    result.attrs["pairs"] = pairs
    return result


def families_to_leave_out(ablation: pd.DataFrame) -> list[str]:
    """Families whose pooled interval of PR-AUC lost lies entirely below zero.

    Only single families are named (not pairs), and only when the evidence is clear:
    ``lost_hi < 0``. A family ``within noise`` is kept. Nothing calls this by default.

    Parameters
    ----------
    ablation : pandas.DataFrame
        The output of :func:`family_ablation`.

    Returns
    -------
    list of str

    Examples
    --------
    >>> a = pd.DataFrame({"family": ["noise", "network", "network+buyers"],
    ...                   "lost_lo": [-0.05, -0.01, -0.04], "lost_hi": [-0.01, 0.02, -0.01]})
    >>> families_to_leave_out(a)
    ['noise']
    """
    if not isinstance(ablation, pd.DataFrame):
        raise fail(
            "ablation",
            "families_to_leave_out",
            "the DataFrame family_ablation returns",
            ablation,
            error=TrainingError,
        )
    missing = [c for c in ("family", "lost_lo", "lost_hi") if c not in ablation.columns]
    if missing:
        raise TrainingError(
            f"families_to_leave_out expects the output of family_ablation; columns "
            f"{missing} are missing"
        )
    out = []
    highs = pd.to_numeric(ablation["lost_hi"], errors="coerce").to_numpy(dtype=np.float64)
    for fam, hi in zip(ablation["family"], highs, strict=True):
        if "+" not in str(fam) and np.isfinite(hi) and hi < 0:
            out.append(str(fam))
    return out
