"""Input checks of the scoring layer: the model's one feature encoder, re-exported.

The encoder lives in :mod:`riskscore.modeling._encoding` so that training and scoring
read inputs with the same code (scoring imports modeling, never the reverse).
:class:`FeatureLayout` and :func:`column_diff` stay importable from here.
"""

from __future__ import annotations

from riskscore.modeling._encoding import (
    MAX_DIFF_LINES,
    N_EXAMPLES,
    FeatureLayout,
    FloatMatrix,
    column_diff,
)

__all__ = ["MAX_DIFF_LINES", "N_EXAMPLES", "FeatureLayout", "FloatMatrix", "column_diff"]
