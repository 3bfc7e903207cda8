"""The marketplace training recipe, written once: cutoffs, training set, segments, settings.

``riskscore train --data``, ``riskscore evaluate --data``, ``riskscore demo``, the model
quality benchmark and the notebooks all train on marketplace tables the same way:

* :data:`N_CUTOFFS` monthly cutoffs, the last a label horizon (:data:`HORIZON`) before
  the data ends (:func:`riskscore.features.default_cutoffs`);
* the point-in-time training set of :func:`riskscore.features.build_training_set` with the
  segment columns of :func:`riskscore.features.add_segments` (tenure, region, category,
  size) for sliced metrics — never features;
* :func:`marketplace_config`: two validation/calibration windows
  (:data:`VALID_WINDOWS`) and those segments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

from riskscore.exceptions import TrainingError
from riskscore.modeling._config import TrainConfig

__all__ = [
    "HORIZON",
    "N_CUTOFFS",
    "VALID_WINDOWS",
    "marketplace_config",
    "marketplace_training_set",
]

#: Label horizon after each cutoff.
HORIZON = "60D"

#: Monthly cutoffs of a marketplace training set.
N_CUTOFFS = 6

#: Validation/calibration windows. Rare positives and an entity-disjoint split leave one
#: window's calibration side with 1-3 fraud positives on a 5,000-seller marketplace (none
#: on some seeds); two windows hold about ten.
VALID_WINDOWS = 2


def _check_kind(entity: Any, target: Any) -> None:
    from riskscore.features._catalog import ENTITIES
    from riskscore.schema import LABEL_KINDS

    if entity not in ENTITIES:
        raise TrainingError(
            f"entity must be one of {list(ENTITIES)} for marketplace tables; got {entity!r}"
        )
    if target not in LABEL_KINDS:
        raise TrainingError(f"target must be one of {list(LABEL_KINDS)}; got {target!r}")


def marketplace_config(
    entity: str, target: str, config: TrainConfig | None = None, **settings: Any
) -> TrainConfig:
    """Return the training settings of the marketplace recipe for ``entity`` and ``target``.

    Parameters
    ----------
    entity, target : str
        ``seller`` / ``listing`` and ``fraud`` / ``counterfeit``.
    config : TrainConfig, optional
        Settings to start from (default: the defaults).
    **settings
        Fields of :class:`~riskscore.modeling.TrainConfig` to change on top.

    Examples
    --------
    >>> cfg = marketplace_config("seller", "fraud", capacity=25)
    >>> cfg.valid_windows, cfg.capacity, cfg.segment_cols[:2]
    (2, 25, ('segment__tenure', 'segment__region'))
    """
    from riskscore.features import SEGMENT_COLUMNS

    _check_kind(entity, target)
    recipe = {
        "entity": entity,
        "target": target,
        "valid_windows": VALID_WINDOWS,
        "segment_cols": tuple(SEGMENT_COLUMNS),
    }
    return TrainConfig.build(config, **{**recipe, **settings})


def marketplace_training_set(
    tables: Mapping[str, Any],
    entity: str,
    target: str,
    *,
    cutoffs: Sequence[Any] | None = None,
    horizon: str = HORIZON,
    n_cutoffs: int = N_CUTOFFS,
    freq: str = "MS",
    features: Any = None,
    segments: bool = True,
) -> pd.DataFrame:
    """Build the training set of the marketplace recipe from marketplace tables.

    Parameters
    ----------
    tables : mapping of str to DataFrame
        Marketplace tables (``riskscore.io.load_tables`` or
        ``riskscore.datasets.make_marketplace``).
    entity, target : str
    cutoffs : sequence of time, optional
        Default: :data:`N_CUTOFFS` cutoffs at ``freq``, the last ``horizon`` before the end.
    horizon : str, default "60D"
    n_cutoffs : int, default 6
    freq : str, default "MS"
    features : DataFrame, optional
        Features already built at these cutoffs (passed to ``build_training_set``).
    segments : bool, default True
        Add the segment columns for sliced metrics.

    Returns
    -------
    pandas.DataFrame
        ``entity_id``, ``cutoff``, ``label``, the features (and the segment columns).

    Examples
    --------
    >>> from riskscore.datasets import make_marketplace
    >>> tables = make_marketplace(n_sellers=200, seed=0)
    >>> frame = marketplace_training_set(tables, "seller", "fraud")
    >>> frame["cutoff"].nunique(), "segment__tenure" in frame.columns
    (6, True)
    """
    from riskscore.features import add_segments, build_training_set, default_cutoffs

    _check_kind(entity, target)
    if not isinstance(tables, Mapping) or "orders" not in tables:
        raise TrainingError(
            f"tables must be a mapping of marketplace tables (sellers, listings, orders, ...); "
            f"got {type(tables).__name__}. Load them with riskscore.io.load_tables(folder) or "
            "riskscore.datasets.make_marketplace()"
        )
    cut = (
        list(cutoffs) if cutoffs is not None else default_cutoffs(tables, horizon, n_cutoffs, freq)
    )
    frame = build_training_set(
        tables,
        entity,  # type: ignore[arg-type]
        target=target,
        cutoffs=cut,
        horizon=horizon,
        features=features,
    )
    return add_segments(frame, tables, entity) if segments else frame  # type: ignore[arg-type]
