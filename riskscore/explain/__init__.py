"""Explanations: exact TreeSHAP contributions, reason codes, plots and evidence files.

- :func:`contributions` — exact TreeSHAP contributions from LightGBM itself
  (``pred_contrib=True``), per feature and per family, in log-odds.
- :class:`Explainer` — reason codes (top features up/down, one per signal, impact band,
  value and a sentence in English or Chinese), as a tidy frame or a JSON-ready dict.
- :mod:`plots <riskscore.explain._plots>` — ``shap`` beeswarm, bar, dependence and
  waterfall plots saved as PNG (``shap`` and ``matplotlib`` are imported only there).
- :func:`build_evidence` — the evidence file for one seller (score, band, reasons and
  the records behind each reason) as Markdown, HTML or JSON.
"""

from __future__ import annotations

from riskscore.explain._contrib import (
    FAMILY_SEPARATOR,
    Contributions,
    booster_of,
    contributions,
    family_of,
)
from riskscore.explain._evidence import EVIDENCE_SECTIONS, Evidence, build_evidence
from riskscore.explain._plots import (
    bar_plot,
    beeswarm_plot,
    dependence_plot,
    png_bytes,
    save_model_plots,
    save_png,
    top_features,
    waterfall_plot,
)
from riskscore.explain._reasons import (
    IMPACT_THRESHOLDS,
    LANGUAGES,
    REASON_COLUMNS,
    Direction,
    Explainer,
    Language,
    frame_to_records,
    impact_band,
)

__all__ = [
    "EVIDENCE_SECTIONS",
    "FAMILY_SEPARATOR",
    "IMPACT_THRESHOLDS",
    "LANGUAGES",
    "REASON_COLUMNS",
    "Contributions",
    "Direction",
    "Evidence",
    "Explainer",
    "Language",
    "bar_plot",
    "beeswarm_plot",
    "booster_of",
    "build_evidence",
    "contributions",
    "dependence_plot",
    "family_of",
    "frame_to_records",
    "impact_band",
    "png_bytes",
    "save_model_plots",
    "save_png",
    "top_features",
    "waterfall_plot",
]
