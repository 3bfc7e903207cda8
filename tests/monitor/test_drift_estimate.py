"""The label-free estimate on the drift scenario: it tracks, then says when it stopped.

The setting of ``notebooks/4.0-monitor.ipynb`` sections 1-4 (3,000 sellers, seed 0, a fraud
model trained on four monthly cutoffs before the shift; fraud stops after 40% of the year),
with the evaluated fit (``refit=False``): its test-side probabilities are out of sample.
Once the labels of a run have matured, ``matured_check`` puts the estimate made at scoring
time next to the realised precision. Measured: June's estimate 0.35 [0.21, 0.49] covers the
realised 0.26; by August fraud has stopped, the estimate still promises 0.33 and the
realised precision is 0.00 [0.00, 0.12], and the check says the estimate did not cover it.
The notebook runs the default refit, whose June estimate missed at two seeds of three
(``docs/monitoring.md``).
"""

from __future__ import annotations

from typing import Any

import pytest

from riskscore.datasets import make_marketplace
from riskscore.features import build_features
from riskscore.monitor import estimate_performance, matured_check
from riskscore.scoring import Scorer

pytestmark = pytest.mark.slow

TRAIN = ["2024-01-01", "2024-02-01", "2024-03-01", "2024-04-01"]
LATER = ["2024-06-01", "2024-08-01"]
FLAG_BANDS = ("medium", "high", "critical")


@pytest.fixture(scope="module")
def checks(seller_fraud_model) -> dict[str, Any]:
    tables = make_marketplace(n_sellers=3000, seed=0, scenario="drift")
    tables.pop("truth")
    result, reference = seller_fraud_model(
        tables, TRAIN, capacity=40, flag_bands=FLAG_BANDS, refit=False
    )
    scorer = Scorer(result.gate_model)
    out = {}
    for as_of in LATER:
        features = build_features(tables, "seller", as_of=as_of).reset_index()
        run = scorer.score_many(features, explain="none", as_of=as_of).reset_index(drop=True)
        estimate = estimate_performance(run, flag_bands=FLAG_BANDS)
        check = matured_check(
            run, tables, as_of=as_of, target="fraud", reference=reference, flag_bands=FLAG_BANDS
        )
        out[as_of] = (estimate, check)
    return out


def test_the_estimate_tracks_the_realised_precision_right_after_training(checks) -> None:
    estimate, check = checks["2024-06-01"]
    assert check.flagged >= 20 and check.estimate_covered
    assert estimate.precision_lo <= check.precision <= estimate.precision_hi
    assert not [f for f in check.findings if f.kind == "estimate"]


def test_once_fraud_has_stopped_the_check_says_the_estimate_failed(checks) -> None:
    estimate, check = checks["2024-08-01"]
    assert estimate.precision > 0.2  # the probabilities still promise fraud ...
    assert check.precision_hi < estimate.precision_lo  # ... that labels never confirm
    assert not check.estimate_covered
    [finding] = [f for f in check.findings if "did not cover" in f.message]
    assert finding.level == "watch" and "do not rely on it" in finding.message
