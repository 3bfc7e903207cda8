"""The monitor on the simulator: the default marketplace later on, and the drift scenario.

A seller model is trained on monthly cutoffs 2024-03-01 .. 2024-05-01 of a simulated
marketplace (1,500 sellers; labels: the simulator's truth, fine in a test since features
never read it), its reference built from the training-window rows and the test window,
and the run of a later cutoff compared with it. In the ``drift`` scenario fraud stops
after 40% of the year and the complaint form loses its "counterfeit" option, a shift that
starts after training.

Measured (seed 3, see docs/monitoring.md): on the default marketplace the model's output is
stable (score PSI 0.07 at +3 months and at +5; flagged share within noise). Since the
simulator starts in a steady state (three years of warm-up history), the history features
(account ages, days since the first order, buyer counts and concentration) stay below
"act" too. What still reaches "act" are the features that hold many rows at exactly a
marketplace-wide value of the cutoff: complaint rates shrunk toward the market rate (15-40%
of rows, the sellers without orders or complaints in the window, sit at the prior) and the
neighbour price ratio (~85% of rows, the sellers without neighbours, at the market value).
The market rate moves between cutoffs by more than a bin (a few fake-phone bursts carry it),
so the whole mass changes bin: a property of those features and of quantile-bin PSI, not of
the simulator.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import pandas as pd
import pytest

from riskscore.monitor import compare, market_profile, market_summary, reference_from_result

pytestmark = pytest.mark.slow

TRAIN_CUTOFFS = ("2024-03-01", "2024-04-01", "2024-05-01")
LATER = ("2024-08-01", "2024-10-01")
OUTPUT_KINDS = {"score_psi", "band_psi", "flagged"}
#: Features holding many rows at exactly a marketplace value of the cutoff (the prior of
#: a smoothed rate, the fill of a seller without neighbours): their PSI follows the market.
MARKET_VALUED = re.compile(r"complaints__(\w+_)?rate_\d+d|network__neighbour_price_ratio")
#: History features: they grew all year when the simulator started empty.
HISTORY = re.compile(r"account__|buyers__")


def _setup(scenario: str | None) -> dict[str, Any]:
    from riskscore.datasets import make_marketplace
    from riskscore.features import build_features
    from riskscore.modeling import train

    tables = make_marketplace(n_sellers=1500, seed=3, scenario=scenario)
    truth = tables.pop("truth").set_index("seller_id")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        feats = {c: build_features(tables, "seller", as_of=c) for c in TRAIN_CUTOFFS + LATER}
        rows = []
        for c in TRAIN_CUTOFFS:
            f = feats[c]
            y = truth.loc[f.index, ["is_counterfeit", "is_fraud"]].any(axis=1).astype(int)
            rows.append(
                f.assign(entity_id=f.index.astype(str), cutoff=pd.Timestamp(c), label=y.to_numpy())
            )
        table = pd.concat(rows, ignore_index=True)
        result = train(
            table,
            entity="seller",
            target="fraud",
            capacity=20,
            n_bootstrap=0,
            refit=False,
            family_report=False,
        )
    train_rows = table[table["cutoff"] < result.test_frame["cutoff"].min()]
    ref = reference_from_result(
        result, train_frame=train_rows, market=market_profile(tables, TRAIN_CUTOFFS)
    )
    model = result.gate_model
    reports = {}
    for c in LATER:
        s = model.scores_from_raw(model.raw_score(model.to_matrix(feats[c])))
        reports[c] = compare(ref, feats[c], pd.DataFrame(s), market=market_summary(tables, c))
    return reports


@pytest.fixture(scope="module")
def default_reports() -> dict[str, Any]:
    return _setup(None)


@pytest.fixture(scope="module")
def drift_reports() -> dict[str, Any]:
    return _setup("drift")


@pytest.mark.parametrize("cutoff", LATER)
def test_default_marketplace_model_output_is_not_flagged(default_reports, cutoff):
    report = default_reports[cutoff]
    outputs = [f for f in report.findings if f.kind in OUTPUT_KINDS]
    assert all(f.level != "act" for f in outputs), [f.message for f in outputs]
    assert report.outputs["score"]["psi"] < 0.25
    b = report.bands
    assert 1 / 2 < b["flagged_now"] / b["flagged_ref"] < 2


@pytest.mark.parametrize("cutoff", LATER)
def test_default_marketplace_history_features_are_stable(default_reports, cutoff):
    report = default_reports[cutoff]
    table = report.features.set_index("feature")
    history = table[table.index.str.match(HISTORY)]
    assert len(history) >= 10
    assert (history["psi"] < 0.25).all(), history["psi"].sort_values().tail(3)
    assert (history["out_of_range"] < 0.20).all(), history["out_of_range"].sort_values().tail(3)
    # account__days_since_first_order: 87% above the training range before the warm-up
    assert table.loc["account__days_since_first_order", "out_of_range"] < 0.15
    acted = {f.subject for f in report.findings if f.level == "act"}
    assert all(MARKET_VALUED.fullmatch(s) for s in acted), sorted(acted)


@pytest.mark.parametrize("cutoff", LATER)
def test_default_marketplace_own_rates_stay_in_their_range(default_reports, cutoff):
    # complaints per order by kind, refunds, cancellations, orders per seller: within
    # 1.5x of their range at the three training cutoffs (measured: at most 1.26x)
    rows = default_reports[cutoff].market
    assert len(rows) == 7
    assert all(row["level"] == "ok" for row in rows), rows


@pytest.mark.xfail(
    strict=True,
    reason="features with a mass at a market value of the cutoff (complaint rates at the "
    "prior, the neighbour price ratio's fill) change bins when the market moves (see the "
    "module docstring): a feature/monitor property, not a simulator one",
)
def test_default_marketplace_nothing_is_acted_on(default_reports):
    assert default_reports["2024-08-01"].status != "act"


def test_drift_scenario_flags_the_shifted_features_and_the_score(drift_reports):
    report = drift_reports["2024-10-01"]
    assert report.status == "act" and report.exit_code == 3
    acted = {(f.kind, f.subject) for f in report.findings if f.level == "act"}
    assert ("score_psi", "score") in acted
    assert ("flagged", "bands") in acted  # fraud stopped: far fewer sellers flagged
    flagged = next(f for f in report.findings if f.kind == "flagged")
    assert flagged.message.startswith("Fewer sellers flagged")
    # the complaint form lost its "counterfeit" option after the split
    assert ("psi", "complaints__counterfeit_rate_30d") in acted
    assert report.outputs["score"]["psi"] > 1.0
    # ... and the marketplace's own rates say it where it happened
    assert ("market", "complaint_rate:counterfeit") in acted  # none at all now
    assert ("market", "complaint_rate:not_received") in acted  # fraud stopped
