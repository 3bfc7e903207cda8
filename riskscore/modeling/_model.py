"""The deployable risk model: booster, calibrator, risk scale, bands and what they were trained on.

A :class:`RiskModel` is everything scoring needs and nothing else: no training data, no
scikit-learn objects. It saves to, and loads from, a plain folder::

    <dir>/
      riskmodel.json   format version, feature names and order, categories of categorical
                       features, calibrator, risk scale, bands, metadata (entity, target,
                       training window, data fingerprint, parameters, metrics)
      model.txt        the LightGBM booster in LightGBM's own text format
      thresholds.csv   the threshold table measured on the test window (optional)
      catalog.csv      the feature catalog snapshot the model was trained with (optional)

Every file is text; ``model.txt`` and ``riskmodel.json`` hold no timestamps, so the same
data and seed give byte-identical files.

Fast path
---------
:meth:`RiskModel.raw_score`, :meth:`RiskModel.predict_score` (the 1-D calibrated
probability), :meth:`RiskModel.predict_proba` (scikit-learn's ``(n, 2)`` layout) and
:meth:`RiskModel.scores_from_raw` take and return numpy arrays only (no pandas), and use
one thread for small inputs (LightGBM's thread wake-up dominates a single-row call).
:meth:`RiskModel.to_matrix` turns a DataFrame or a single record (a mapping of column to
value, no pandas involved) into the float64 matrix they expect, through the one feature
encoder (:mod:`riskscore.modeling._encoding`, shared with scoring); column order in the
input does not matter, missing columns raise :class:`~riskscore.exceptions.ScoringError`
with a diff of expected vs received columns.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from riskscore.exceptions import ModelNotFoundError, ScoringError
from riskscore.modeling._bands import Bands, RiskScale
from riskscore.modeling._calibration import Calibrator
from riskscore.modeling._encoding import FeatureLayout, column_diff, encode_frame, encode_record

# column_diff, encode_frame and encode_record live in riskscore.modeling._encoding (the one
# feature encoder); they stay importable from here.
__all__ = ["FORMAT_VERSION", "RiskModel", "column_diff", "encode_frame", "encode_record"]

#: Version of the folder format written by :meth:`RiskModel.save`.
FORMAT_VERSION = 1

SPEC_FILE = "riskmodel.json"
BOOSTER_FILE = "model.txt"
THRESHOLDS_FILE = "thresholds.csv"
CATALOG_FILE = "catalog.csv"

#: Inputs with at most this many rows are scored on one thread.
SINGLE_THREAD_ROWS = 16


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, Path):
        return str(value)
    raise TypeError(f"cannot store {type(value).__name__} in riskmodel.json")


def _clean(value: Any) -> Any:
    """Replace NaN/inf floats by None so the JSON is strict."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


class RiskModel:
    """A trained risk model, ready to score.

    Parameters
    ----------
    booster : lightgbm.Booster
        The trained booster (its raw score is the log-odds of the positive class).
    feature_names : sequence of str
        Features in the order the booster expects them.
    calibrator : Calibrator
        Raw score → probability.
    scale : RiskScale
        Raw score → 0–1000 risk score.
    bands : Bands
        Risk score → ``low`` / ``medium`` / ``high`` / ``critical``.
    categories : mapping of str to list of str, optional
        Levels of each categorical feature; a value's position is its code.
    metadata : dict, optional
        Entity, target, windows, fingerprint, parameters, metrics (JSON-ready).
    catalog : pandas.DataFrame, optional
        Snapshot of the feature catalog.
    threshold_table : pandas.DataFrame, optional
        See :func:`riskscore.modeling.threshold_table`.
    num_threads : int, optional
        Threads for large inputs (default: ``RISKSCORE_NUM_THREADS`` or 2).

    Examples
    --------
    >>> from riskscore.modeling import make_training_table, train
    >>> t = make_training_table(1500, 6, positive_rate=0.08, seed=0)
    >>> result = train(t, id_col="entity_id", time_col="cutoff", label_col="label",
    ...                entity="seller", target="fraud", capacity=20, n_bootstrap=0)
    >>> model = result.model
    >>> X = model.to_matrix(t.head(3))
    >>> model.predict_score(X).shape, model.name
    ((3,), 'riskscore-seller-fraud')
    >>> proba = model.predict_proba(X)  # scikit-learn's layout: [1 - p, p] per row
    >>> proba.shape, bool((proba[:, 1] == model.predict_score(X)).all())
    ((3, 2), True)
    >>> sorted(model.scores_from_raw(model.raw_score(X)))
    ['band', 'risk_score', 'score']
    """

    def __init__(
        self,
        booster: Any,
        *,
        feature_names: Sequence[str],
        calibrator: Calibrator,
        scale: RiskScale,
        bands: Bands,
        categories: Mapping[str, Sequence[str]] | None = None,
        metadata: Mapping[str, Any] | None = None,
        catalog: pd.DataFrame | None = None,
        threshold_table: pd.DataFrame | None = None,
        num_threads: int | None = None,
    ) -> None:
        self.booster = booster
        self.feature_names = [str(n) for n in feature_names]
        self.calibrator = calibrator
        self.scale = scale
        self.bands = bands
        self.categories = {str(k): [str(v) for v in vals] for k, vals in (categories or {}).items()}
        self.metadata = dict(metadata or {})
        self.catalog = catalog
        self.threshold_table = threshold_table
        self.num_threads = num_threads

    # ------------------------------------------------------------------ identity
    @property
    def entity(self) -> str:
        """Entity the model scores (``seller``, ``listing``, ...)."""
        return str(self.metadata.get("entity", "custom"))

    @property
    def target(self) -> str:
        """Target the model predicts (``fraud``, ``counterfeit``, ...)."""
        return str(self.metadata.get("target", "label"))

    @property
    def name(self) -> str:
        """Registered model name, ``riskscore-<entity>-<target>``."""
        return f"riskscore-{self.entity}-{self.target}"

    @property
    def n_features(self) -> int:
        """Number of input features."""
        return len(self.feature_names)

    def __repr__(self) -> str:
        trees = self.booster.num_trees() if self.booster is not None else 0
        return (
            f"RiskModel(name={self.name!r}, features={self.n_features}, trees={trees}, "
            f"calibration={self.calibrator.method!r}, bands={self.bands.thresholds})"
        )

    # ------------------------------------------------------------------ inputs
    @property
    def layout(self) -> FeatureLayout:
        """The model's :class:`~riskscore.modeling._encoding.FeatureLayout` (its encoder).

        Built from :attr:`feature_names`, :attr:`categories` and the catalog snapshot
        (which features may be NaN, which may be absent and their fill), once; rebuilt if
        one of the three is replaced.
        """
        key = (id(self.feature_names), id(self.categories), id(self.catalog))
        cached = self.__dict__.get("_layout")
        if cached is None or cached[0] != key:
            layout = FeatureLayout.from_catalog(
                self.feature_names, self.catalog, f"{self.entity}_id", self.categories
            )
            cached = (key, layout)
            self.__dict__["_layout"] = cached
        return cached[1]

    def to_matrix(self, data: pd.DataFrame | Mapping[str, Any] | np.ndarray) -> np.ndarray:
        """Return the float64 feature matrix for a DataFrame, a single record, or an array.

        The model's :attr:`layout` encodes the input, as the scorer does: columns by name
        (order and extra columns have no effect), categorical levels as codes, features the
        catalog marks optional filled when absent. A record (mapping of column to value)
        becomes one row without going through pandas. An array must already have the
        model's columns in the model's order. Values are not checked here (NaN and inf pass
        through); :class:`riskscore.scoring.Scorer` refuses invalid values.

        Raises
        ------
        ScoringError
            A feature column is missing (with a diff of expected vs received columns) or
            holds text; the input is of another type.
        """
        if isinstance(data, np.ndarray):
            return self._check_matrix(data)
        if isinstance(data, pd.DataFrame):
            return self.layout.matrix_from_frame(data)
        if isinstance(data, Mapping):
            return self.layout.encode_record(data)
        raise ScoringError(
            "expected a pandas DataFrame, a mapping of column to value, or a numpy array; "
            f"got {type(data).__name__}"
        )

    def _check_matrix(self, X: npt.ArrayLike) -> np.ndarray:
        arr = np.asarray(X, dtype=np.float64)
        if arr.ndim == 1:
            arr = arr.reshape(1, -1)
        if arr.ndim != 2 or arr.shape[1] != self.n_features:
            raise ScoringError(
                f"the model expects {self.n_features} feature columns in the order of "
                f"RiskModel.feature_names; got an array of shape {np.shape(X)}"
            )
        return arr

    def _threads(self, n_rows: int) -> int:
        if n_rows <= SINGLE_THREAD_ROWS:
            return 1
        if self.num_threads:
            return int(self.num_threads)
        return int(os.environ.get("RISKSCORE_NUM_THREADS", "2"))

    # ------------------------------------------------------------------ scores
    def raw_score(self, X: npt.ArrayLike) -> np.ndarray:
        """Log-odds from the booster, one per row (float64, numpy in and out)."""
        arr = self._check_matrix(X)
        out: np.ndarray = self.booster.predict(
            arr, raw_score=True, num_threads=self._threads(arr.shape[0])
        )
        return out

    def predict_score(self, X: npt.ArrayLike) -> np.ndarray:
        """Calibrated probability of the positive class, one per row (a 1-D array).

        The ``score`` column of :class:`riskscore.scoring.Scorer` output.
        """
        return self.calibrator.transform(self.raw_score(X))

    def predict_proba(self, X: npt.ArrayLike) -> np.ndarray:
        """Calibrated class probabilities as scikit-learn returns them: ``(n_rows, 2)``.

        Column 0 is the negative class, column 1 the positive class
        (:meth:`predict_score`); each row sums to 1. See the class example.
        """
        p = self.predict_score(X)
        return np.column_stack([1.0 - p, p])

    def risk_score(self, X: npt.ArrayLike) -> np.ndarray:
        """Risk score 0–1000 (int64), see :class:`~riskscore.modeling.RiskScale`."""
        return self.scale.transform(self.raw_score(X))

    def scores_from_raw(self, raw: npt.ArrayLike) -> dict[str, np.ndarray]:
        """``score`` (probability), ``risk_score`` and ``band`` for raw scores.

        Scoring computes the raw score once (or takes it from the contributions, whose
        row sums equal it) and derives everything else here.
        """
        r = np.asarray(raw, dtype=np.float64)
        risk = self.scale.transform(r)
        return {
            "score": self.calibrator.transform(r),
            "risk_score": risk,
            "band": self.bands.assign(risk),
        }

    def contributions(self, X: npt.ArrayLike) -> np.ndarray:
        """Exact TreeSHAP contributions in log-odds: ``(n_rows, n_features + 1)``.

        The last column is the expected value; each row sums to :meth:`raw_score`.
        """
        arr = self._check_matrix(X)
        out: np.ndarray = self.booster.predict(
            arr, pred_contrib=True, num_threads=self._threads(arr.shape[0])
        )
        return out

    # ------------------------------------------------------------------ storage
    def to_dict(self) -> dict[str, Any]:
        """Return the content of ``riskmodel.json``."""
        return _clean(
            {
                "format_version": FORMAT_VERSION,
                "name": self.name,
                "feature_names": self.feature_names,
                "categories": self.categories,
                "calibrator": self.calibrator.to_dict(),
                "risk_scale": self.scale.to_dict(),
                "bands": self.bands.to_dict(),
                "metadata": json.loads(json.dumps(self.metadata, default=_json_default)),
            }
        )

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the model folder (created if needed; existing model files are replaced).

        Returns
        -------
        pathlib.Path
            The folder.
        """
        folder = Path(path)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / BOOSTER_FILE).write_text(self.booster.model_to_string(), encoding="utf-8")
        spec = json.dumps(self.to_dict(), indent=2, sort_keys=True, allow_nan=False)
        (folder / SPEC_FILE).write_text(spec + "\n", encoding="utf-8")
        if self.threshold_table is not None:
            self.threshold_table.to_csv(folder / THRESHOLDS_FILE, index=False, lineterminator="\n")
        if self.catalog is not None:
            self.catalog.to_csv(folder / CATALOG_FILE, index=False, lineterminator="\n")
        return folder

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> RiskModel:
        """Read a folder written by :meth:`save`.

        Raises
        ------
        ModelNotFoundError
            When the folder or one of its two required files is missing.
        """
        import lightgbm as lgb

        folder = Path(path)
        spec_path, booster_path = folder / SPEC_FILE, folder / BOOSTER_FILE
        if not spec_path.is_file() or not booster_path.is_file():
            raise ModelNotFoundError(
                f"no riskscore model in '{folder}': expected {SPEC_FILE} and {BOOSTER_FILE} "
                "(written by RiskModel.save)"
            )
        spec = json.loads(spec_path.read_text(encoding="utf-8"))
        version = int(spec.get("format_version", 0))
        if version > FORMAT_VERSION:
            raise ModelNotFoundError(
                f"the model in '{folder}' has format version {version}, newer than this "
                f"riskscore understands ({FORMAT_VERSION}); upgrade riskscore"
            )
        booster = lgb.Booster(model_str=booster_path.read_text(encoding="utf-8"))
        thresholds = (
            pd.read_csv(folder / THRESHOLDS_FILE) if (folder / THRESHOLDS_FILE).is_file() else None
        )
        catalog = pd.read_csv(folder / CATALOG_FILE) if (folder / CATALOG_FILE).is_file() else None
        return cls(
            booster,
            feature_names=spec["feature_names"],
            calibrator=Calibrator.from_dict(spec["calibrator"]),
            scale=RiskScale.from_dict(spec["risk_scale"]),
            bands=Bands.from_dict(spec["bands"]),
            categories=spec.get("categories", {}),
            metadata=spec.get("metadata", {}),
            catalog=catalog,
            threshold_table=thresholds,
        )
