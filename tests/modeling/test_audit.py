"""Metrics on the random-audit sample (issue 17, item 3)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import riskscore as rs
from riskscore.exceptions import ParameterError, TrainingError
from riskscore.features._training_set import label_events
from riskscore.modeling import audit_report, audit_sample

HORIZON = pd.Timedelta("60D")


def _audit_labels() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "seller_id": ["S1", "S2", "S3", "S4", "S5"],
            "listing_id": [None] * 5,
            "label": ["fraud", "fraud", "fraud", "counterfeit", "fraud"],
            "decided_at": pd.to_datetime(
                ["2024-02-10", "2024-02-10", "2024-05-10", "2024-02-10", "2024-02-10"]
            ),
            "outcome": ["confirmed", "cleared", "confirmed", "confirmed", "reversed"],
            "source": ["random_audit"] * 4 + ["random_audit"],
            "selection_probability": [0.02, 0.04, 0.02, 0.02, 0.02],
            "reversed_at": pd.to_datetime([None, None, None, None, "2024-03-01"]),
        }
    )


def test_audit_sample_takes_the_window_the_kind_and_the_weights() -> None:
    out = audit_sample({"labels": _audit_labels()}, "fraud", ["2024-02-01"], horizon="60D")
    # S3 is decided after the window; S4 was confirmed for the other kind (a 0 for fraud);
    # S5 was reversed on appeal (a 0)
    assert out["entity_id"].tolist() == ["S1", "S2", "S4", "S5"]
    assert out["label"].tolist() == [1, 0, 0, 0]
    assert out["weight"].tolist() == [50.0, 25.0, 50.0, 50.0]


def test_audit_sample_needs_audit_rows_with_probabilities() -> None:
    labels = _audit_labels().drop(columns=["selection_probability"])
    with pytest.raises(TrainingError, match="selection_probability"):
        audit_sample({"labels": labels}, "fraud", ["2024-02-01"])
    labels = _audit_labels().assign(selection_probability=[0.02, None, 0.02, 0.02, 1.5])
    with pytest.raises(TrainingError, match=r"2 random_audit row\(s\).*e\.g\. seller_id S2, S5"):
        audit_sample({"labels": labels}, "fraud", ["2024-02-01"])


def test_inverse_probability_weights_undo_an_oversampled_stratum() -> None:
    # 100 new sellers (audited at 0.5, 40% bad) and 100 old (audited at 0.1, 10% bad);
    # the flag catches every bad seller and nothing else, so precision is 1 and the true
    # prevalence over the population is (40 + 10) / 200 = 0.25
    rng = np.random.default_rng(0)
    ids = [f"S{i:03d}" for i in range(200)]
    new = np.arange(200) < 100
    bad = np.where(new, np.arange(200) % 10 < 4, np.arange(200) % 10 < 1)
    p = np.where(new, 0.5, 0.1)
    drawn = rng.random(200) < p
    flagged = pd.DataFrame(
        {"entity_id": ids, "cutoff": pd.Timestamp("2024-01-01"), "flag": bad, "label": 0}
    )
    sample = pd.DataFrame(
        {
            "entity_id": np.array(ids)[drawn],
            "cutoff": pd.Timestamp("2024-01-01"),
            "label": bad[drawn].astype(int),
            "weight": 1.0 / p[drawn],
        }
    )
    report = audit_report(flagged, sample, n_bootstrap=200)
    assert report.loc["precision", "audit"] == 1.0
    assert report.loc["prevalence", "audit"] == pytest.approx(0.25, abs=0.06)
    unweighted = bad[drawn].mean()
    assert unweighted > 0.3  # the oversampled risky stratum would mislead without weights
    lo, hi = report.loc["prevalence", ["audit_lo", "audit_hi"]]
    assert lo < 0.25 < hi


def test_audit_report_rejects_frames_without_the_columns() -> None:
    with pytest.raises(ParameterError, match="'flagged' parameter of audit_report"):
        audit_report(pd.DataFrame({"x": [1]}), pd.DataFrame())
    flagged = pd.DataFrame({"entity_id": ["S1"], "cutoff": ["2024-01-01"], "flag": [True]})
    sample = pd.DataFrame(
        {"entity_id": ["S9"], "cutoff": ["2024-01-01"], "label": [1], "weight": [2.0]}
    )
    with pytest.raises(TrainingError, match="no audited seller was scored"):
        audit_report(flagged.assign(label=0), sample)


@pytest.mark.slow
def test_on_selective_enforcement_the_audit_recovers_precision_and_all_labels_do_not() -> None:
    tables = rs.make_marketplace(n_sellers=6000, seed=1, scenario="selective_enforcement")
    truth = tables["truth"].set_index("seller_id")
    sellers, orders = tables["sellers"], tables["orders"]
    events = label_events(tables, "seller", "fraud")
    cutoffs = pd.date_range("2024-03-01", periods=6, freq="MS")
    rng = np.random.default_rng(1)
    rows = []
    for c in cutoffs:
        ids = sellers.loc[sellers["registered_at"] < c, "seller_id"]
        ids = ids[~ids.isin(set(events.loc[events["decided_at"] < c, "entity_id"]))]
        recent = (orders["created_at"] >= c - pd.Timedelta("30D")) & (orders["created_at"] < c)
        ids = ids[ids.isin(set(orders.loc[recent, "seller_id"]))]  # sellers still trading
        later = (events["decided_at"] > c) & (events["decided_at"] <= c + HORIZON)
        bad = truth.loc[ids, "is_fraud"].to_numpy()
        # a challenger that finds fraud the champion never sent to review
        flag = np.where(bad, rng.random(len(ids)) < 0.6, rng.random(len(ids)) < 0.01)
        label = ids.isin(set(events.loc[later, "entity_id"])).astype(int).to_numpy()
        rows.append(
            pd.DataFrame(
                {"entity_id": ids.to_numpy(), "cutoff": c, "flag": flag, "label": label, "bad": bad}
            )
        )
    flagged = pd.concat(rows, ignore_index=True)
    true_precision = flagged.loc[flagged["flag"], "bad"].mean()
    report = audit_report(flagged, audit_sample(tables, "fraud", cutoffs, horizon=HORIZON))
    lo, hi = report.loc["precision", ["audit_lo", "audit_hi"]]
    assert lo <= true_precision <= hi
    # unlabelled = negative: fraud nobody reviewed counts against the challenger
    # (steady-state simulator, measured: truth 0.38, audit 0.24 [0.09, 0.43] over 1,020
    # audited sellers, all labels 0.15: the audit's interval is wide, its estimate closer)
    all_labels = report.loc["precision", "all_labels"]
    assert all_labels < true_precision - 0.2
    audit = report.loc["precision", "audit"]
    assert abs(audit - true_precision) < abs(all_labels - true_precision)


def _paired_with_audit() -> tuple[pd.DataFrame, pd.DataFrame]:
    """400 sellers at one cutoff; 100 are bad but only 20 of those carry a label (the ones
    the champion flagged and sent to review). The challenger flags 60 bad sellers and 20
    honest ones; the champion flags 20 bad (all labelled) and 60 honest ones. Every
    fourth seller was audited at probability 0.25."""
    n = 400
    ids = [f"S{i:03d}" for i in range(n)]
    bad = np.arange(n) < 100
    champion = (np.arange(n) < 20) | ((np.arange(n) >= 100) & (np.arange(n) < 160))
    challenger = (np.arange(n) < 60) | ((np.arange(n) >= 300) & (np.arange(n) < 320))
    label = (bad & champion).astype(int)
    frame = pd.DataFrame(
        {
            "entity_id": ids,
            "cutoff": pd.Timestamp("2024-03-01"),
            "label": label,
            "score_challenger": challenger.astype(float),
            "score_champion": champion.astype(float),
            "flag_challenger": challenger,
            "flag_champion": champion,
        }
    )
    audited = np.arange(n) % 4 == 1
    sample = pd.DataFrame(
        {
            "entity_id": np.array(ids)[audited],
            "cutoff": pd.Timestamp("2024-03-01"),
            "label": bad[audited].astype(int),
            "weight": 4.0,
        }
    )
    return frame, sample


def test_the_gate_reports_both_models_on_the_audit_sample_next_to_all_labels() -> None:
    from riskscore.modeling import compare_paired
    from riskscore.modeling._card import comparison_card
    from riskscore.registry import Gate

    frame, sample = _paired_with_audit()
    evidence = compare_paired(frame, k=80, n_bootstrap=200, audit=sample)
    rows = evidence.audit.set_index(["model", "metric"])
    # on the audit sample the challenger's precision is 0.75 (15 of 20 audited flags bad);
    # on all labels it looks far worse than the champion's, which chose what was labelled
    assert rows.loc[("challenger", "precision"), "audit"] == pytest.approx(0.75)
    assert rows.loc[("champion", "precision"), "audit"] == pytest.approx(0.25)
    assert rows.loc[("challenger", "precision"), "all_labels"] == pytest.approx(20 / 80)
    assert rows.loc[("champion", "precision"), "all_labels"] == pytest.approx(20 / 80)
    assert rows.loc[("challenger", "precision"), "n_audited"] == 100
    lo, hi = rows.loc[("challenger", "precision"), ["audit_lo", "audit_hi"]]
    assert lo < 0.75 < hi and hi - lo < 0.5
    reasons = Gate(min_positives=1).decide(evidence).reasons
    line = next(r for r in reasons if r.startswith("precision at the flag band on the random"))
    assert "(100 audited, unbiased): challenger 0.750 [" in line
    assert "(all labels 0.250)" in line and "selected by the current policy" in line
    verdict = next(
        i for i, r in enumerate(reasons) if r.startswith(("PROMOTE", "REFUSED", "INSUFFICIENT"))
    )
    assert reasons.index(line) < verdict  # informational, before the verdict
    card = comparison_card(evidence)
    assert "## On the random-audit sample" in card
    assert "| challenger | precision | 0.750 | [" in card
    assert evidence.to_dict()["audit"][0]["model"] == "challenger"


def test_without_an_audit_the_gate_says_so_and_decides_as_before() -> None:
    from riskscore.modeling import compare_paired
    from riskscore.registry import Gate

    frame, _ = _paired_with_audit()
    evidence = compare_paired(frame, k=80, n_bootstrap=100)
    assert evidence.audit.empty
    reasons = Gate(min_positives=1).decide(evidence).reasons
    assert (
        "no audit sample: every figure is measured on labels selected by the current policy."
        in reasons
    )
    # an audit whose sellers are not among the compared rows: said, not failed
    other = pd.DataFrame(
        {"entity_id": ["X1"], "cutoff": pd.Timestamp("2024-03-01"), "label": [1], "weight": 2.0}
    )
    note = compare_paired(frame, k=80, n_bootstrap=0, audit=other).audit_note
    assert note.startswith("no audit sample: no audited seller is among the compared rows")
