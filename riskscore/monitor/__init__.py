"""Watch a model in production: compare each scoring run with a reference from training.

At training, :func:`build_reference` (or :func:`reference_from_result` for a
:class:`~riskscore.modeling.TrainResult`) stores a compact :class:`Reference`: per-feature
quantile bins, missing shares and category frequencies on the training and test windows,
the score distribution, band volumes and the calibration curve — kilobytes of JSON, no raw
rows, saved as :data:`REFERENCE_FILE` next to the model version.

After each scoring run, :func:`compare` measures the population stability index (PSI) of
every feature and of the score on the reference bins, the shift in band volumes and in the
share flagged, new categories, missing-share jumps and rows outside the training range,
and returns a :class:`MonitorReport` whose findings are plain sentences, with a status
``ok`` / ``watch`` / ``act`` (thresholds in :class:`Thresholds`; PSI 0.1 / 0.25 by
default). The report writes JSON and a self-contained HTML page;
``riskscore monitor`` exits with code 3 on ``act`` so a scheduler can alert. With
``segment__*`` columns, the flag rate of each slice is compared with training
(:func:`slice_profile` in the reference, :func:`compare_slices` in the run) and a protected
slice (new and small sellers) flagged far more often is a finding. With
:func:`market_profile` in the reference and :func:`market_summary` of the run, the
marketplace's own rates (complaints per order by kind, refunds, cancellations, orders per
seller) are compared with their range at the reference cutoffs: features relative to the
marketplace stay still when the whole marketplace moves, and these catch that move.

While labels are delayed, :func:`estimate_performance` estimates precision among flagged
rows and the expected positives from the calibrated probabilities alone, with intervals;
:func:`proxy_outcomes` and :func:`proxy_check` say when fast proxy outcomes (non-delivery
complaints, refunds) move against that estimate, as they do under concept shift. Once
labels mature, :func:`matured_check` grades a run against the precision and the recall
measured at training and recommends retraining when either fell beyond noise.

See ``docs/monitoring.md`` for why the PSI is our own (numpy) implementation.
"""

from __future__ import annotations

from riskscore.monitor._compare import (
    EXIT_ACT,
    Finding,
    MonitorReport,
    Thresholds,
    compare,
)
from riskscore.monitor._errors import MonitorError
from riskscore.monitor._estimate import (
    PerformanceEstimate,
    estimate_performance,
    poisson_binomial_interval,
)
from riskscore.monitor._market import MARKET_WINDOW_DAYS, market_profile, market_summary
from riskscore.monitor._matured import MaturedCheck, matured_check
from riskscore.monitor._proxy import PROXY_KINDS, ProxyOutcomes, proxy_check, proxy_outcomes
from riskscore.monitor._psi import EPSILON, bin_counts, psi, psi_from_counts, quantile_edges
from riskscore.monitor._reference import (
    FLAG_BANDS,
    REFERENCE_FILE,
    Reference,
    build_reference,
    reference_from_result,
)
from riskscore.monitor._slices import compare_slices, slice_profile

__all__ = [
    "EPSILON",
    "EXIT_ACT",
    "FLAG_BANDS",
    "MARKET_WINDOW_DAYS",
    "PROXY_KINDS",
    "REFERENCE_FILE",
    "Finding",
    "MaturedCheck",
    "MonitorError",
    "MonitorReport",
    "PerformanceEstimate",
    "ProxyOutcomes",
    "Reference",
    "Thresholds",
    "bin_counts",
    "build_reference",
    "compare",
    "compare_slices",
    "estimate_performance",
    "market_profile",
    "market_summary",
    "matured_check",
    "poisson_binomial_interval",
    "proxy_check",
    "proxy_outcomes",
    "psi",
    "psi_from_counts",
    "quantile_edges",
    "reference_from_result",
    "slice_profile",
]
