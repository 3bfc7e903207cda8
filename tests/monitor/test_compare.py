"""compare: nothing on the same rows; the shifted feature, score and bands on a shift."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest

from riskscore.monitor import MonitorError, Reference, Thresholds, build_reference, compare


def test_the_reference_window_against_itself_is_ok(reference: Reference, trained: Any, score_frame):
    # features: every row of the test window; scores: the out-of-sample test side
    scores = score_frame(trained.gate_model, trained.test_frame)
    report = compare(reference, trained.window_frame, scores)
    assert report.status == "ok" and report.findings == [] and report.exit_code == 0
    assert report.features["psi"].max() == pytest.approx(0.0, abs=1e-12)
    assert report.outputs["score"]["psi"] == pytest.approx(0.0, abs=1e-12)
    assert report.bands["psi"] == pytest.approx(0.0, abs=1e-12)
    assert report.rows == len(trained.window_frame) > len(trained.test_frame)


def test_later_rows_of_the_same_population_are_not_act(
    reference: Reference, table, trained, score_frame
):
    """A fresh draw of the generator (same population law, new seed) is at most "watch"."""
    from riskscore.modeling import make_training_table

    fresh = make_training_table(1200, 6, positive_rate=0.08, seed=5, with_category=True)
    later = fresh[fresh["cutoff"] == fresh["cutoff"].max()]
    report = compare(reference, later, score_frame(trained.gate_model, later))
    assert report.status in ("ok", "watch"), report.text()
    assert report.features["psi"].max() < 0.25


def test_a_multiplied_feature_and_the_score_shift_are_acted_on(
    reference: Reference, trained, score_frame
):
    rows = trained.test_frame.copy()
    rows["complaints__rate_90d"] = rows["complaints__rate_90d"] * 3
    rows["network__shared_ids"] = rows["network__shared_ids"] + 3  # informative: moves scores
    rows["noise__b"] = rows["noise__b"] + 0.3
    report = compare(reference, rows, score_frame(trained.gate_model, rows))
    assert report.status == "act" and report.exit_code == 3
    acted = {(f.kind, f.subject) for f in report.findings if f.level == "act"}
    assert ("psi", "complaints__rate_90d") in acted and ("psi", "noise__b") in acted
    assert ("score_psi", "score") in acted
    untouched = report.features.set_index("feature").loc["orders__n_orders_30d"]
    assert untouched["psi"] < 0.1 and untouched["level"] == "ok"
    msg = next(f.message for f in report.findings if f.subject == "complaints__rate_90d")
    assert msg.startswith("Feature 'complaints__rate_90d' shifted: PSI ") and "act at ≥ 0.25" in msg
    assert "noise__b" in report.text()


def test_shifted_scores_move_bands_and_the_flagged_share(
    reference: Reference, trained, score_frame
):
    scores = score_frame(trained.gate_model, trained.test_frame)
    thresholds = trained.model.bands.thresholds
    scores["risk_score"] = np.minimum(scores["risk_score"] + 250, 1000)
    scores["score"] = np.minimum(scores["score"] * 3, 1.0)
    scores = scores.drop(columns="band")  # bands recomputed from risk_score and the thresholds
    report = compare(reference, scores=scores)
    kinds = {f.kind: f for f in report.findings if f.level == "act"}
    assert {"score_psi", "band_psi", "flagged"} <= set(kinds), report.text()
    assert kinds["flagged"].message.startswith("More sellers flagged (high+critical): ")
    assert report.bands["flagged_now"] > 2 * report.bands["flagged_ref"]
    assert set(report.bands["shares_now"]) == {"low", "medium", "high", "critical"}
    assert thresholds == reference.bands["thresholds"]


def test_new_levels_missing_jumps_and_out_of_range(reference: Reference, trained):
    rows = trained.test_frame.copy()
    n = len(rows)
    region = rows["profile__region"].astype(str).to_numpy().copy()
    region[: n // 10] = "mars"
    rows["profile__region"] = region
    rows.loc[rows.index[: n // 3], "listings__price_ratio_median"] = np.nan
    top = reference.features["orders__n_orders_30d"]["max"]
    rows.loc[rows.index[: n // 4], "orders__n_orders_30d"] = top * 10
    report = compare(reference, rows)
    found = {(f.kind, f.subject): f for f in report.findings}
    new = found[("new_level", "profile__region")]
    assert (
        new.level == "act" and new.value == pytest.approx(0.1, abs=0.01) and "'mars'" in new.message
    )
    miss = found[("missing", "listings__price_ratio_median")]
    assert miss.level == "act" and "points" in miss.message
    oor = found[("range", "orders__n_orders_30d")]
    assert oor.level == "act" and oor.value >= 0.25 and "above the maximum" in oor.message


def test_thresholds_are_configurable(reference: Reference, trained):
    rows = trained.test_frame.assign(noise__b=trained.test_frame["noise__b"] + 0.3)
    default = compare(reference, rows)
    lenient = compare(reference, rows, thresholds=Thresholds(watch_psi=5, act_psi=10))
    psi = default.features.set_index("feature").loc["noise__b", "psi"]
    assert default.status == "act" and 0.25 < psi < 5
    assert all((f.kind, f.subject) != ("psi", "noise__b") for f in lenient.findings)
    assert lenient.features.set_index("feature").loc["noise__b", "level"] == "act"  # range


def test_status_is_the_worst_level_and_findings_are_sorted(reference: Reference, trained):
    rows = trained.test_frame.assign(noise__b=trained.test_frame["noise__b"] + 0.3)
    report = compare(reference, rows.head(150))
    levels = [f.level for f in report.findings]
    assert levels == sorted(levels, key=["act", "watch"].index)
    assert any(f.kind == "rows" and "only 150 rows" in f.message for f in report.findings)


def test_report_json_is_strict_and_complete(reference: Reference, trained, tmp_path, score_frame):
    rows = trained.test_frame.assign(noise__b=trained.test_frame["noise__b"] + 0.3)
    report = compare(reference, rows, score_frame(trained.gate_model, rows))
    paths = report.write(tmp_path)
    data = json.loads(paths["json"].read_text())
    assert data["status"] == "act" and data["thresholds"]["act_psi"] == 0.25
    assert {r["feature"] for r in data["features"]} == set(reference.feature_names)
    assert data["findings"][0]["level"] == "act"


def test_absent_features_are_reported_and_bad_input_refused(reference: Reference, trained):
    rows = trained.test_frame.drop(columns=["noise__a"])
    report = compare(reference, rows)
    assert any(f.kind == "absent" and "noise__a" in f.message for f in report.findings)
    with pytest.raises(MonitorError, match="needs the run's features, its scores, or both"):
        compare(reference)
    with pytest.raises(MonitorError, match="has none of the reference's"):
        compare(reference, pd.DataFrame({"other": [1.0]}))
    with pytest.raises(MonitorError, match="'window' parameter of compare"):
        compare(reference, rows, window="valid")
    with pytest.raises(MonitorError, match="'watch_psi' parameter of Thresholds"):
        Thresholds(watch_psi=0.5)
    with pytest.raises(MonitorError, match="'reference' parameter of compare"):
        compare({}, rows)


#: Band thresholds of the flagged-share tests.
_BANDS = {"medium": 300.0, "high": 600.0, "critical": 800.0}


def _flagged_run(n: int, flagged: int) -> pd.DataFrame:
    """``n`` risk scores, the first ``flagged`` in the high band."""
    risk = np.full(n, 100.0)
    risk[:flagged] = 700.0
    return pd.DataFrame({"risk_score": risk})


def test_the_flagged_share_counts_the_noise_of_both_samples():
    """One flagged row in 30k at reference and ten in a 100k run is no 3x shift."""
    bands, run = _BANDS, _flagged_run
    ref = build_reference(predictions=run(30_000, 1), bands=bands)
    quiet = compare(ref, scores=run(100_000, 3))
    assert quiet.bands["flagged_ratio"] == pytest.approx(0.9)  # 3/100k vs 1/30k
    assert all(f.kind != "flagged" for f in compare(ref, scores=run(100_000, 10)).findings)
    loud = compare(ref, scores=run(100_000, 300))  # 100x the reference share
    assert [f.level for f in loud.findings if f.kind == "flagged"] == ["act"]


def test_no_one_flagged_on_one_side_is_acted_on():
    """None flagged now (fraud stopped, the model broke) is the largest change, not none."""
    bands, run = _BANDS, _flagged_run

    none_now = compare(
        build_reference(predictions=run(2_000, 40), bands=bands), scores=run(2_000, 0)
    )
    found = [f for f in none_now.findings if f.kind == "flagged"]
    assert [f.level for f in found] == ["act"]
    assert found[0].message == (
        "Fewer sellers flagged (high+critical): 0.0% of rows now vs 2.0% at reference (none now)."
    )
    none_before = compare(
        build_reference(predictions=run(2_000, 0), bands=bands), scores=run(2_000, 40)
    )
    found = [f for f in none_before.findings if f.kind == "flagged"]
    assert [f.level for f in found] == ["act"] and found[0].message.endswith("(none at reference).")
    # within the noise of both samples it stays quiet, zero or not
    quiet = compare(build_reference(predictions=run(2_000, 1), bands=bands), scores=run(2_000, 0))
    assert all(f.kind != "flagged" for f in quiet.findings)
