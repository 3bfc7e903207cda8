"""The monitor on the simulator: the default marketplace later on, and the drift scenario.

A seller model is trained on monthly cutoffs 2024-03-01 .. 2024-05-01 of a simulated
marketplace (1,500 sellers; labels: the simulator's truth, fine in a test since features
never read it), its reference built from the training-window rows and the test window,
and the run of a later cutoff compared with it. In the ``drift`` scenario fraud stops
after 40% of the year and the complaint form loses its "counterfeit" option, a shift that
starts after training.

Measured (seed 3, see docs/monitoring.md): on the default marketplace nothing reaches
"act" at +3 or +5 months (score PSI 0.06 and 0.09, every feature below 0.25, the
marketplace's own rates within 1.2x of their range at training). That needed three
things: the simulator's steady state (three years of warm-up history, so account ages and
buyer counts stop growing through the year), complaint rates relative to the marketplace
rate (an absolute smoothed rate puts every seller without complaints at a value the market
sets, 15-40% of rows at one value that moved with a few fake-phone bursts), and neighbour
means missing without neighbours (not the marketplace mean, ~85% of rows at one value).
On the drift scenario the marketplace statistics say what changed (no counterfeit
complaints any more, non-delivery complaints 18x below training's lowest), and the score
and the complaint features move at "watch" (score PSI 0.20). The reference's feature bins
come from every row of the test window (``TrainResult.window_frame``): against the
entity-disjoint test side alone, which is younger than the marketplace by design, account
ages read as shifted (PSI 0.47 on drift, 0.18 on the default marketplace, five months on).

The default path as well: the recipe's training set (60-day labels from the labels
table, ``REFIT_CUTOFFS``) and the deployed refit (``refit=True``), whose reference's
score distribution is its own on the test window (``TrainResult.deployed_predictions``),
since it scores the sellers it learnt far lower than the evaluated fit does.
"""

from __future__ import annotations

import re
import warnings
from typing import Any

import pandas as pd
import pytest

from riskscore.monitor import compare, market_profile, market_summary, reference_from_result
from tests.monitor.conftest import train_fraud_model

pytestmark = pytest.mark.slow

TRAIN_CUTOFFS = ("2024-03-01", "2024-04-01", "2024-05-01")
LATER = ("2024-08-01", "2024-10-01")
OUTPUT_KINDS = {"score_psi", "band_psi", "flagged"}
#: History features: they grew all year when the simulator started empty.
HISTORY = re.compile(r"account__|buyers__")


def _setup(scenario: str | None) -> dict[str, Any]:
    from riskscore.datasets import make_marketplace
    from riskscore.features import build_features

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
        result = train_fraud_model(table, refit=False)
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


@pytest.mark.parametrize("cutoff", LATER)
def test_default_marketplace_nothing_is_acted_on(default_reports, cutoff):
    report = default_reports[cutoff]
    assert report.status != "act", [f.message for f in report.findings if f.level == "act"]
    # the marketplace's own rates stayed within their range at training (within 1.5x)
    assert len(report.market) == 7
    assert all(row["level"] == "ok" for row in report.market), report.market


def test_drift_scenario_flags_the_market_the_features_and_the_score(drift_reports):
    report = drift_reports["2024-10-01"]
    assert report.status == "act" and report.exit_code == 3
    acted = {(f.kind, f.subject) for f in report.findings if f.level == "act"}
    # the complaint form lost its "counterfeit" option after the split
    assert ("market", "complaint_rate:counterfeit") in acted
    counterfeit = next(f for f in report.findings if f.subject == "complaint_rate:counterfeit")
    assert "fell to 0," in counterfeit.message and "none at all now" in counterfeit.message
    # fraud stopped: non-delivery complaints all but vanished (18x below training's lowest)
    assert ("market", "complaint_rate:not_received") in acted
    # the model's output and the complaint features moved, at "watch" (relative complaint
    # rates hold them still); nothing the reference's test side alone explains acts
    score = next(f for f in report.findings if f.kind == "score_psi")
    assert score.level == "watch" and report.outputs["score"]["psi"] > 0.1
    watched = {f.subject for f in report.findings if f.kind == "psi" and f.level == "watch"}
    assert "complaints__rate_90d" in watched
    assert {kind for kind, _ in acted} == {"market"}


#: Monthly cutoffs of the refit's training set (the recipe's 60-day labels).
REFIT_CUTOFFS = ("2024-02-01", "2024-03-01", "2024-04-01", "2024-05-01", "2024-06-01")


def _refit_setup(scenario: str | None) -> dict[str, Any]:
    """The default path: the recipe's training set, a deployed refit, its reference."""
    from riskscore.datasets import make_marketplace
    from riskscore.features import build_features, build_training_set

    tables = make_marketplace(n_sellers=1500, seed=3, scenario=scenario)
    tables.pop("truth")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = build_training_set(
            tables, "seller", target="fraud", cutoffs=list(REFIT_CUTOFFS), horizon="60D"
        )
        result = train_fraud_model(table, min_positives=15)
        assert result.deployed["fit"] == "refit"
        ref = reference_from_result(result, train_frame=result.train_frame)
        model = result.model
        reports = {}
        for c in LATER:
            feats = build_features(tables, "seller", as_of=c)
            s = model.scores_from_raw(model.raw_score(model.to_matrix(feats)))
            reports[c] = compare(ref, feats, pd.DataFrame(s))
    return reports


@pytest.fixture(scope="module")
def refit_reports() -> dict[str, Any]:
    return {"default": _refit_setup(None), "drift": _refit_setup("drift")}


@pytest.mark.parametrize("cutoff", LATER)
def test_deployed_refit_on_the_default_marketplace_is_not_flagged(refit_reports, cutoff):
    # the refit scores the sellers it learnt far lower than the evaluated fit: against
    # the evaluated fit's test scores this read as score PSI 3.6-4.0 ("act"); against
    # its own scores on the test window, 0.013-0.026 (flags 0.7-0.8x the reference's)
    report = refit_reports["default"][cutoff]
    assert report.outputs["score"]["psi"] < 0.1
    outputs = [f for f in report.findings if f.kind in OUTPUT_KINDS]
    assert not outputs, [f.message for f in outputs]
    b = report.bands
    assert 1 / 2 < b["flagged_now"] / b["flagged_ref"] < 2


def test_deployed_refit_sees_that_fraud_stopped(refit_reports):
    # drift: fraud stops after 40% of the year; by October the refit flags no one
    report = refit_reports["drift"]["2024-10-01"]
    assert report.status == "act"
    fewer = [f for f in report.findings if f.kind == "flagged"]
    assert fewer and fewer[0].level == "act" and fewer[0].message.startswith("Fewer")
    assert report.bands["flagged_now"] < report.bands["flagged_ref"] / 4
