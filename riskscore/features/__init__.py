"""Point-in-time feature builders for sellers and listings.

Every feature is declared once (:class:`FeatureSpec`) by its family and computed as of a
cutoff from rows strictly before it, with the same narwhals code on pandas, Polars,
DuckDB and PySpark. :func:`catalog` lists the declarations (with ``tables=``, also which
are point-in-time on those tables; :func:`not_point_in_time` names the others);
:func:`build_features` computes them at one cutoff (for every entity, or for ``ids=``
only against the :class:`MarketStats` of :func:`market_stats`); :func:`build_training_set`
stacks them over cutoffs with labels from a horizon after each cutoff.

``as_of`` and ``cutoff`` are one moment seen from two sides. ``as_of`` is the time
features are computed at: they read only rows strictly before it (a feature at ``as_of``
never sees an event at ``as_of`` itself). A ``cutoff`` is the ``as_of`` of one training
row, paired with a label window after it: the label is 1 when a decision falls in
``(cutoff + label_delay, cutoff + label_delay + horizon]``. Scoring today uses
``as_of``; training on history uses several cutoffs.

Families, one module each: ``pricing``, ``complaints``, ``buyers``, ``account``,
``activity``, ``text``, ``network`` (registered in ``_catalog.FAMILY_MODULES``).
:func:`neighbour_features` computes graph features on any entity table and edge list;
:func:`select_graph_features` keeps them only when they help on validation.
"""

from __future__ import annotations

from riskscore.features._build import build_features, market_stats
from riskscore.features._catalog import Family, FeatureSpec, catalog, not_point_in_time
from riskscore.features._context import AsOfContext, FeatureParams, MarketStats
from riskscore.features._graph import neighbour_features
from riskscore.features._graph_selection import GraphFeatureChoice, select_graph_features
from riskscore.features._segments import SEGMENT_COLUMNS, add_segments
from riskscore.features._training_set import build_training_set, default_cutoffs

__all__ = [
    "SEGMENT_COLUMNS",
    "AsOfContext",
    "Family",
    "FeatureParams",
    "FeatureSpec",
    "GraphFeatureChoice",
    "MarketStats",
    "add_segments",
    "build_features",
    "build_training_set",
    "catalog",
    "default_cutoffs",
    "market_stats",
    "neighbour_features",
    "not_point_in_time",
    "select_graph_features",
]
