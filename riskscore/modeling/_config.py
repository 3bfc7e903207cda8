"""One training configuration shared by ``train``, ``prequential``, the CLI and the registry.

:class:`TrainConfig` is a frozen dataclass: every training default is written here once.
:func:`riskscore.modeling.train` takes a ``TrainConfig`` and/or keyword arguments named
after its fields (``train(table, capacity=25)`` is ``train(table, TrainConfig(capacity=25))``);
:func:`riskscore.modeling.prequential` and the ``riskscore train`` / ``riskscore evaluate``
commands build the same object, so a default cannot drift between them.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

import pandas as pd

from riskscore._config import DEFAULT_SEED
from riskscore.exceptions import TrainingError

__all__ = ["MIN_POSITIVES", "TrainConfig"]

#: Minimum positives on the training side unless ``min_positives`` says otherwise.
MIN_POSITIVES = 30

_CALIBRATIONS = ("auto", "platt", "isotonic", "none")


def _tuple(value: Any, name: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        raise TrainingError(
            f"{name} must be a list of column names; got the string {value!r}. "
            f"Pass [{value!r}] (or a comma-separated --option on the command line)"
        )
    try:
        return tuple(str(v) for v in value)
    except TypeError:
        raise TrainingError(
            f"{name} must be a list of column names; got {type(value).__name__}"
        ) from None


def _whole(value: Any, name: str, low: int) -> int:
    try:
        number = operator.index(value) if not isinstance(value, bool) else None
    except TypeError:
        number = None
    if number is None or number < low:
        raise TrainingError(f"{name} must be a whole number of at least {low}; got {value!r}")
    return int(number)


@dataclass(frozen=True)
class TrainConfig:
    """Everything :func:`riskscore.modeling.train` needs besides the table.

    Parameters
    ----------
    id_col, time_col, label_col : str
        Column names. ``time_col=None`` falls back to a stratified split (with a warning).
    feature_cols : sequence of str, optional
        Features in model order; default every other column (minus ``segment_cols``).
    entity, target : str
        What is scored and predicted (``seller`` / ``fraud``); names the model.
    seed : int
        Seeds the split, LightGBM, the search and the bootstrap.
    params : mapping, optional
        LightGBM parameter overrides (see :data:`riskscore.modeling.DEFAULT_PARAMS`).
    class_weight : {"balanced"} or float, optional
        Positive class weight; default none (the calibrator fixes probabilities anyway).
    calibration : {"auto", "platt", "isotonic", "none"}
    capacity : int, default 100
        Reviews per cutoff (training sets) or per day (event tables).
    cost_ratio : float, optional
        Cost of a missed positive over the cost of a wasted review; when given the bands
        come from it instead of ``capacity``.
    search_iter : int, default 0
        Trials of the random hyperparameter search (0 or 1: no search).
    search_budget_seconds : float, optional
        Stop the search after this long.
    test_windows, valid_windows, fractions, gap, entity_disjoint
        The split (see :func:`riskscore.modeling.time_split`).
    num_threads : int, optional
        LightGBM threads (default ``RISKSCORE_NUM_THREADS`` or 2).
    num_boost_round, early_stopping_rounds : int
    n_bootstrap : int, default 200
        Bootstrap replicates for the metric intervals (0: none).
    min_positives : int, default 30
        Fewest positive rows on the train side.
    segment_cols : sequence of str
        Columns to slice the test metrics by (never features).
    fpr_floor : float, default 1e-4
        FPR at risk score 1000.
    refit : bool, default True
        Deploy a model refitted on every labelled row (calibrated out of fold).
    allow_leaky : sequence of str
        Features allowed to separate the training labels almost perfectly on their own.
    family_report : bool, default True
        Measure what each feature family adds (drop-one-family refits on the train side,
        scored on the validation side, with paired-bootstrap intervals).

    Examples
    --------
    >>> cfg = TrainConfig(capacity=25)
    >>> cfg.replace(seed=3).seed, cfg.capacity
    (3, 25)
    >>> TrainConfig(capacity=0)
    Traceback (most recent call last):
    ...
    riskscore.exceptions.TrainingError: capacity must be a whole number of at least 1; got 0
    """

    id_col: str = "entity_id"
    time_col: str | None = "cutoff"
    label_col: str = "label"
    feature_cols: tuple[str, ...] | None = None
    entity: str = "custom"
    target: str = "label"
    seed: int = DEFAULT_SEED
    params: Mapping[str, Any] | None = None
    class_weight: str | float | None = None
    calibration: Literal["auto", "platt", "isotonic", "none"] = "auto"
    capacity: int = 100
    cost_ratio: float | None = None
    search_iter: int = 0
    search_budget_seconds: float | None = 600.0
    test_windows: int = 1
    valid_windows: int = 1
    fractions: tuple[float, ...] | None = None
    gap: str | None = None
    entity_disjoint: bool = True
    num_threads: int | None = None
    num_boost_round: int = 2000
    early_stopping_rounds: int = 50
    n_bootstrap: int = 200
    min_positives: int = MIN_POSITIVES
    segment_cols: tuple[str, ...] = ()
    fpr_floor: float = 1e-4
    refit: bool = True
    allow_leaky: tuple[str, ...] = ()
    family_report: bool = True

    def __post_init__(self) -> None:
        put = object.__setattr__
        if self.feature_cols is not None:
            put(self, "feature_cols", _tuple(self.feature_cols, "feature_cols"))
        put(self, "segment_cols", _tuple(self.segment_cols, "segment_cols"))
        put(self, "allow_leaky", _tuple(self.allow_leaky, "allow_leaky"))
        if self.fractions is not None:
            put(self, "fractions", tuple(float(f) for f in self.fractions))
        if self.gap is not None:
            try:
                put(self, "gap", str(pd.Timedelta(self.gap)))
            except (TypeError, ValueError):
                raise TrainingError(
                    f"gap must be a duration such as '60D'; got {self.gap!r}"
                ) from None
        for name in ("id_col", "label_col", "entity", "target"):
            value = getattr(self, name)
            if not isinstance(value, str) or not value:
                raise TrainingError(f"{name} must be a non-empty string; got {value!r}")
        if self.time_col is not None and (not isinstance(self.time_col, str) or not self.time_col):
            raise TrainingError(f"time_col must be a column name or None; got {self.time_col!r}")
        for name, low in (
            ("capacity", 1),
            ("test_windows", 1),
            ("valid_windows", 1),
            ("num_boost_round", 1),
            ("early_stopping_rounds", 1),
            ("min_positives", 1),
            ("n_bootstrap", 0),
            ("search_iter", 0),
            ("seed", 0),
        ):
            put(self, name, _whole(getattr(self, name), name, low))
        if self.num_threads is not None:
            put(self, "num_threads", _whole(self.num_threads, "num_threads", 1))
        if self.calibration not in _CALIBRATIONS:
            raise TrainingError(
                f"calibration must be one of {list(_CALIBRATIONS)}; got {self.calibration!r}"
            )
        weight = self.class_weight
        if weight is not None and weight != "balanced":
            ok = isinstance(weight, int | float) and not isinstance(weight, bool)
            if not ok or not math.isfinite(float(weight)) or float(weight) <= 0:
                raise TrainingError(
                    f"class_weight must be 'balanced' or a positive number; got "
                    f"{self.class_weight!r}"
                )
        for name in ("cost_ratio", "search_budget_seconds"):
            value = getattr(self, name)
            if value is not None and (
                isinstance(value, bool)
                or not isinstance(value, int | float)
                or not math.isfinite(value)
                or value <= 0
            ):
                raise TrainingError(f"{name} must be a positive number or None; got {value!r}")
        if not (isinstance(self.fpr_floor, int | float) and 0 < self.fpr_floor < 1):
            raise TrainingError(f"fpr_floor must be between 0 and 1; got {self.fpr_floor!r}")
        if self.params is not None and not isinstance(self.params, Mapping):
            raise TrainingError(
                f"params must be a mapping of LightGBM parameters; got {type(self.params).__name__}"
            )

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        """Return the names of the settings (the keyword arguments ``train`` accepts)."""
        return tuple(f.name for f in dataclasses.fields(cls) if not f.name.startswith("_"))

    @classmethod
    def build(cls, config: TrainConfig | None = None, **changes: Any) -> TrainConfig:
        """Return ``config`` (default: the defaults) with ``changes`` applied.

        An unknown name is a :class:`~riskscore.exceptions.TrainingError` suggesting the
        closest setting.

        Examples
        --------
        >>> TrainConfig.build(capacity=5).capacity
        5
        >>> TrainConfig.build(capcity=5)
        Traceback (most recent call last):
        ...
        riskscore.exceptions.TrainingError: unknown training setting 'capcity' (did you mean ...
        """
        if config is not None and not isinstance(config, TrainConfig):
            raise TrainingError(
                f"config must be a TrainConfig; got {type(config).__name__}. Pass settings "
                "as keyword arguments or build TrainConfig(...)"
            )
        base = config if config is not None else cls()
        if not changes:
            return base
        return base.replace(**changes)

    def replace(self, **changes: Any) -> TrainConfig:
        """Return a copy with ``changes`` applied (unknown names are refused)."""
        known = self.fields()
        for name in changes:
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                raise TrainingError(
                    f"unknown training setting '{name}'{hint}; the settings are {', '.join(known)}"
                )
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict[str, Any]:
        """Return the settings as a JSON-ready dict (logged as run parameters).

        Examples
        --------
        >>> TrainConfig(segment_cols=["region"]).to_dict()["segment_cols"]
        ['region']
        """
        out: dict[str, Any] = {}
        for name in self.fields():
            value = getattr(self, name)
            if isinstance(value, tuple):
                value = list(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            out[name] = value
        return out

    def split_options(self) -> dict[str, Any]:
        """Return the keyword arguments of :func:`riskscore.modeling.make_split`."""
        out: dict[str, Any] = {}
        if self.fractions is not None:
            out["fractions"] = self.fractions
        if self.time_col is not None:
            out.update(
                test_windows=self.test_windows,
                valid_windows=self.valid_windows,
                gap=self.gap,
                entity_disjoint=self.entity_disjoint,
            )
        return out
