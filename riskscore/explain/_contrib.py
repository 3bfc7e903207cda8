"""Exact TreeSHAP contributions from LightGBM, per feature and per feature family.

LightGBM computes exact (path-dependent) TreeSHAP values itself with
``Booster.predict(X, pred_contrib=True)``: the same numbers as
``shap.TreeExplainer(booster).shap_values(X)``, with no ``shap`` import, so a scoring
service explains with what it already loaded. Values are in log-odds (the raw score of a
binary model): for every row, the feature contributions plus the base value equal the raw
score. Summing the contributions of the features of one family (the ``<family>__`` prefix
of a feature name, or the catalog's ``family`` column) gives that family's contribution.

One row given as a 1-D numpy array or a mapping takes a fast path: no pandas, and
LightGBM runs on one thread (waking a thread pool costs more than one row's work).
"""

from __future__ import annotations

import difflib
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from riskscore.exceptions import ExplanationError

__all__ = [
    "FAMILY_SEPARATOR",
    "Contributions",
    "booster_of",
    "contributions",
    "family_of",
]

#: Separates a feature's family from its name: ``pricing__median_price_ratio``.
FAMILY_SEPARATOR = "__"

#: How many names an error message lists at most.
N_EXAMPLES = 5


def family_of(feature: str) -> str:
    """Return the family of a feature name: the part before ``"__"`` (else ``"other"``).

    Examples
    --------
    >>> family_of("pricing__median_price_ratio")
    'pricing'
    >>> family_of("age_days")
    'other'
    """
    if not isinstance(feature, str):
        raise ExplanationError(
            "The 'feature' parameter of family_of must be a feature name (str), e.g. "
            f"'pricing__median_price_ratio'. Got {type(feature).__name__} "
            f"{str(feature)[:40]!r} instead."
        )
    head, sep, _ = feature.partition(FAMILY_SEPARATOR)
    return head if sep and head else "other"


def booster_of(model: Any) -> Any:
    """Return the LightGBM booster of ``model``.

    Parameters
    ----------
    model : lightgbm.Booster or object
        A booster, or a trained model holding one as ``booster`` (a
        :class:`riskscore.modeling.RiskModel`), or a fitted ``LGBMClassifier``
        (``booster_``).

    Raises
    ------
    ExplanationError
        When no booster can be found, or the booster is not a binary (one tree per
        iteration) model.

    Examples
    --------
    >>> booster_of(object())
    Traceback (most recent call last):
    ...
    riskscore.exceptions.ExplanationError: cannot explain a object: expected a LightGBM ...
    """
    import lightgbm as lgb

    booster = model
    if not isinstance(booster, lgb.Booster):
        booster = getattr(model, "booster", None)
        if booster is None or not isinstance(booster, lgb.Booster):
            booster = getattr(model, "booster_", None)
    if not isinstance(booster, lgb.Booster):
        raise ExplanationError(
            f"cannot explain a {type(model).__name__}: expected a LightGBM Booster or a "
            "trained riskscore model holding one (attribute 'booster')"
        )
    if booster.num_model_per_iteration() != 1:
        raise ExplanationError(
            "only binary LightGBM models can be explained; this booster has "
            f"{booster.num_model_per_iteration()} trees per iteration (multiclass)"
        )
    return booster


@dataclass(frozen=True)
class Contributions:
    """TreeSHAP contributions of some rows, in log-odds.

    Parameters
    ----------
    values : numpy.ndarray of shape (n_rows, n_features)
        Contribution of each feature to each row's raw score.
    base_value : float
        The model's expected raw score (the same for every row).
    feature_names : tuple of str
        Column names of ``values``, in the model's order.
    families : tuple of str
        Family of each feature, aligned with ``feature_names``.
    index : pandas.Index, optional
        Row labels (the input frame's index), when the rows came from a frame.

    Examples
    --------
    >>> c = Contributions(
    ...     values=np.array([[0.5, -0.25, 1.0]]), base_value=-2.0,
    ...     feature_names=("pricing__a", "pricing__b", "buyers__c"),
    ...     families=("pricing", "pricing", "buyers"),
    ... )
    >>> c.raw_score
    array([-0.75])
    >>> c.by_family()
       pricing  buyers  base_value
    0     0.25     1.0        -2.0
    """

    values: np.ndarray
    base_value: float
    feature_names: tuple[str, ...]
    families: tuple[str, ...]
    index: pd.Index | None = None

    @property
    def n_rows(self) -> int:
        """Number of explained rows."""
        return int(self.values.shape[0])

    @property
    def raw_score(self) -> np.ndarray:
        """Raw score (log-odds) of each row: contributions plus the base value."""
        return self.values.sum(axis=1) + self.base_value

    @property
    def family_names(self) -> tuple[str, ...]:
        """Families in the order their first feature appears."""
        return tuple(dict.fromkeys(self.families))

    def family_values(self) -> np.ndarray:
        """Return the contributions summed per family, shape (n_rows, n_families)."""
        names = self.family_names
        position = {f: i for i, f in enumerate(names)}
        groups = np.zeros((len(self.feature_names), len(names)))
        groups[np.arange(len(self.families)), [position[f] for f in self.families]] = 1.0
        return self.values @ groups

    def to_frame(self) -> pd.DataFrame:
        """Return one column per feature plus ``base_value``, one row per explained row."""
        frame = pd.DataFrame(self.values, columns=list(self.feature_names), index=self.index)
        frame["base_value"] = self.base_value
        return frame

    def by_family(self) -> pd.DataFrame:
        """Return one column per family plus ``base_value``; rows sum to the raw score."""
        frame = pd.DataFrame(
            self.family_values(), columns=list(self.family_names), index=self.index
        )
        frame["base_value"] = self.base_value
        return frame


def contributions(
    model: Any,
    X: Any,
    *,
    families: Sequence[str] | Mapping[str, str] | None = None,
    num_threads: int | None = None,
) -> Contributions:
    """Exact TreeSHAP contributions of ``X`` under ``model``, in log-odds.

    Parameters
    ----------
    model : lightgbm.Booster or trained riskscore model
        A binary LightGBM model (see :func:`booster_of`).
    X : numpy.ndarray, pandas.DataFrame or mapping
        Rows to explain. A 2-D array must have the model's features in the model's
        order; a 1-D array or a mapping (feature name to value) is one row. A frame is
        matched to the model's features by column name (order and extra columns do not
        matter).
    families : sequence or mapping of str, optional
        Family of each feature, aligned with the model's features or keyed by feature
        name (e.g. the catalog's ``family`` column). Default: the ``<family>__`` prefix.
    num_threads : int, optional
        LightGBM threads. Default: 1 for a single row, else LightGBM's default.

    Returns
    -------
    Contributions

    Raises
    ------
    ExplanationError
        A feature the model needs is missing (named), a value is not a number, or the
        matrix has the wrong number of columns.

    Examples
    --------
    >>> import lightgbm as lgb
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 2)); y = (X[:, 0] > 0).astype(int)
    >>> booster = lgb.train({"objective": "binary", "verbose": -1, "num_leaves": 4},
    ...                     lgb.Dataset(X, y, feature_name=["pricing__a", "buyers__b"]), 5)
    >>> c = contributions(booster, X[:3])
    >>> c.values.shape, c.family_names
    ((3, 2), ('pricing', 'buyers'))
    >>> bool(np.allclose(c.raw_score, booster.predict(X[:3], raw_score=True)))
    True
    """
    booster = booster_of(model)
    names = tuple(booster.feature_name())
    matrix, index = as_matrix(X, names)
    return contributions_of_matrix(
        booster, matrix, names, _families(names, families), index=index, num_threads=num_threads
    )


def contributions_of_matrix(
    booster: Any,
    matrix: np.ndarray,
    names: tuple[str, ...],
    families: tuple[str, ...],
    *,
    index: pd.Index | None = None,
    num_threads: int | None = None,
) -> Contributions:
    """Run ``pred_contrib`` on a checked float64 matrix (the shared last step).

    ``num_threads`` defaults to 1 for a single row, else LightGBM's default.
    """
    if num_threads is None:
        num_threads = 1 if matrix.shape[0] == 1 else 0
    raw = booster.predict(matrix, pred_contrib=True, num_threads=num_threads)
    return Contributions(
        values=raw[:, :-1],
        base_value=float(raw[0, -1]) if len(raw) else math.nan,
        feature_names=names,
        families=families,
        index=index,
    )


def _families(
    names: tuple[str, ...], families: Sequence[str] | Mapping[str, str] | None
) -> tuple[str, ...]:
    if families is None:
        return tuple(family_of(n) for n in names)
    if isinstance(families, Mapping):
        return tuple(str(families.get(n, family_of(n))) for n in names)
    out = tuple(str(f) for f in families)
    if len(out) != len(names):
        raise ExplanationError(
            f"families has {len(out)} entries but the model has {len(names)} features; "
            "pass one family per feature or a mapping of feature name to family"
        )
    return out


def missing_features_message(
    missing: Sequence[str], expected: Sequence[str], received: Sequence[str]
) -> str:
    """Name the missing features and show the closest received name for each.

    Examples
    --------
    >>> missing_features_message(["pricing__a"], ["pricing__a", "b"], ["pricing_a", "b"])
    "1 feature(s) the model needs are missing: 'pricing__a' (did you mean 'pricing_a'?)"
    """
    shown = []
    for name in list(missing)[:N_EXAMPLES]:
        close = difflib.get_close_matches(name, [str(r) for r in received], n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ""
        shown.append(f"'{name}'{hint}")
    more = f" and {len(missing) - N_EXAMPLES} more" if len(missing) > N_EXAMPLES else ""
    return f"{len(missing)} feature(s) the model needs are missing: {', '.join(shown)}{more}"


def as_matrix(X: Any, names: Sequence[str]) -> tuple[np.ndarray, pd.Index | None]:
    """Return ``X`` as a C-contiguous float64 matrix in the order of ``names``.

    Parameters
    ----------
    X : numpy.ndarray, pandas.DataFrame or mapping
        See :func:`contributions`. Missing values (``None``, NaN) become NaN.
    names : sequence of str
        The model's features, in order.

    Returns
    -------
    matrix : numpy.ndarray of shape (n_rows, len(names))
    index : pandas.Index or None
        The frame's index when ``X`` is a frame.

    Examples
    --------
    >>> as_matrix({"b": 2, "a": None}, ["a", "b"])[0]
    array([[nan,  2.]])
    """
    from riskscore.exceptions import ScoringError
    from riskscore.modeling._encoding import FeatureLayout

    if isinstance(X, Mapping | pd.DataFrame):
        given = list(X) if isinstance(X, Mapping) else list(X.columns)
        missing = [n for n in names if n not in set(given)]
        if missing:
            raise ExplanationError(missing_features_message(missing, names, given))
        layout = FeatureLayout.plain(names)  # the one encoder training and scoring use
        try:
            if isinstance(X, Mapping):
                return layout.encode_record(X), None
            matrix = layout.matrix_from_frame(X)
        except ScoringError as err:
            raise ExplanationError(
                f"{err} (explain the rows the model scores: categories as their codes)"
            ) from None
        return np.ascontiguousarray(matrix), X.index
    if hasattr(X, "to_pandas") and not isinstance(X, np.ndarray):
        return as_matrix(X.to_pandas(), names)
    try:
        matrix = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise ExplanationError(f"rows to explain must be numbers: {err}") from None
    if matrix.ndim == 1:
        matrix = matrix.reshape(1, -1)
    if matrix.ndim != 2 or matrix.shape[1] != len(names):
        raise ExplanationError(
            f"rows to explain must have the model's {len(names)} features in its order; "
            f"got an array of shape {matrix.shape}"
        )
    return np.ascontiguousarray(matrix), None
