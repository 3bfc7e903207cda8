"""Slices in the monitor: flag rate per slice now vs training, FPR once labels mature."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from riskscore.monitor import MonitorError, Reference, build_reference, compare, matured_check
from riskscore.monitor._slices import slice_profile

NEW = "new (<90 days)"


def _run(n: int, new_share: float, flag_new: float, flag_old: float, seed: int) -> pd.DataFrame:
    """Scores with a tenure and a size slice; new sellers flagged at ``flag_new``."""
    rng = np.random.default_rng(seed)
    new = rng.random(n) < new_share
    flagged = rng.random(n) < np.where(new, flag_new, flag_old)
    score = np.where(flagged, 0.5, 0.01)
    return pd.DataFrame(
        {
            "seller_id": [f"S{i:05d}" for i in range(n)],
            "score": score,
            "risk_score": np.where(flagged, 800, 100),
            "band": np.where(flagged, "high", "low"),
            "segment__tenure": np.where(new, NEW, "established"),
            "segment__size": np.where(rng.random(n) < 0.5, "no orders", "100+ orders"),
            "label": (rng.random(n) < np.where(flagged, 0.5, 0.01)).astype(int),
        }
    )


BANDS = {"medium": 300.0, "high": 700.0, "critical": 900.0}


@pytest.fixture(scope="module")
def reference() -> Reference:
    train = _run(5000, 0.2, 0.04, 0.04, seed=0)
    return build_reference(
        test_frame=train[["score"]], predictions=train.drop(columns="seller_id"), bands=BANDS
    )


def test_the_reference_stores_slice_counts_and_reads_back(reference: Reference) -> None:
    new = reference.slices["segment__tenure"][NEW]
    assert set(new) == {"n", "flagged", "negatives", "false_positives"}
    assert 900 < new["n"] < 1100 and 0.025 < new["flagged"] / new["n"] < 0.055
    assert Reference.from_json(reference.to_json()).slices == reference.slices
    assert len(json.dumps(reference.slices)) < 1000  # counts only


def test_new_sellers_flagged_three_times_as_often_is_an_act_finding(
    reference: Reference,
) -> None:
    run = _run(3000, 0.2, 0.12, 0.04, seed=1)
    report = compare(reference, scores=run[["score", "risk_score", "band", "segment__tenure"]])
    found = [f for f in report.findings if f.kind == "slice_flagged"]
    assert [f.subject for f in found] == [f"segment__tenure={NEW}"]
    assert found[0].level == "act"
    assert 2.3 < found[0].value < 4.0
    assert f"Protected slice segment__tenure={NEW} is flagged" in found[0].message
    row = report.slices.set_index("level").loc[NEW]
    assert row["protected"] and row["flag_rate_now_lo"] > row["flag_rate_ref_hi"]
    # established sellers are not protected: a row in the table, no finding
    assert not report.slices.set_index("level").loc["established", "protected"]
    data = json.loads(report.to_json())
    assert {r["level"] for r in data["slices"]} == {NEW, "established"}
    page = report.to_html()
    assert "Slices: flag rate at reference and now" in page and "new (&lt;90 days)" in page


def test_an_unchanged_run_raises_no_slice_finding(reference: Reference) -> None:
    run = _run(3000, 0.2, 0.04, 0.04, seed=2)
    report = compare(reference, scores=run.drop(columns=["seller_id", "label"]))
    assert not [f for f in report.findings if f.kind == "slice_flagged"]
    assert len(report.slices) == 4
    assert report.slices_note.startswith("flag rate per slice compared with the reference")


def test_a_reference_without_slices_says_so(reference: Reference) -> None:
    old = reference.to_dict()
    del old["slices"]  # a reference written before slices were stored
    report = compare(Reference.from_dict(old), scores=_run(500, 0.2, 0.2, 0.04, seed=3))
    assert report.slices.empty
    assert report.slices_note.startswith("no slice reference")
    assert "slices: no slice reference" in report.text()


def test_segments_given_apart_must_align_with_the_scores(reference: Reference) -> None:
    run = _run(500, 0.2, 0.04, 0.04, seed=4)
    segments = run[["segment__tenure"]]
    report = compare(reference, scores=run[["score", "band"]], segments=segments)
    assert len(report.slices) == 2
    with pytest.raises(MonitorError, match="segments has 10 rows but scores has 500"):
        compare(reference, scores=run[["score", "band"]], segments=segments.head(10))
    with pytest.raises(MonitorError, match="'protected' parameter of compare"):
        compare(reference, scores=run, protected="tenure=new")


def test_matured_check_reports_fpr_per_slice_and_a_rise_for_new_sellers() -> None:
    # training: new and established sellers' negatives flagged at 1%
    seg = pd.DataFrame({"segment__tenure": [NEW] * 1000 + ["established"] * 1000})
    flagged_ref = np.arange(2000) % 100 == 0
    ref = Reference(features={}, slices=slice_profile(seg, flagged_ref, np.zeros(2000)))
    # now: 40 of 400 new legitimate sellers flagged (10%), established still 1%
    n = 800
    ids = [f"S{i:04d}" for i in range(n)]
    new = np.arange(n) < 400
    flagged = np.where(new, np.arange(n) % 10 == 0, np.arange(n) % 100 == 0)
    scores = pd.DataFrame(
        {
            "seller_id": ids,
            "score": np.where(flagged, 0.5, 0.01),
            "band": np.where(flagged, "high", "low"),
            "segment__tenure": np.where(new, NEW, "established"),
        }
    )
    labels = pd.DataFrame(
        {"seller_id": ["S9999"], "label": ["fraud"], "decided_at": [pd.Timestamp("2024-06-30")]}
    )
    check = matured_check(
        scores, {"labels": labels}, as_of="2024-03-01", target="fraud", reference=ref
    )
    by_level = {r["level"]: r for r in check.slices}
    assert by_level[NEW]["fpr"] == pytest.approx(0.1)
    assert by_level[NEW]["fpr_ref"] == pytest.approx(0.01)
    assert by_level["established"]["fpr"] == pytest.approx(0.01)
    rises = [f for f in check.findings if f.kind == "slice_fpr"]
    assert [f.subject for f in rises] == [f"segment__tenure={NEW}"]
    assert "rose to 10.0% [7.4%, 13.3%] of 400 legitimate sellers, from 1.0%" in rises[0].message
    assert json.dumps(check.to_dict())  # JSON-ready
    # without segment columns: a note, no slices
    plain = matured_check(
        scores.drop(columns="segment__tenure"),
        {"labels": labels},
        as_of="2024-03-01",
        target="fraud",
    )
    assert plain.slices == [] and plain.slices_note.startswith("no slices")


def test_slice_functions_refuse_bad_input() -> None:
    from riskscore.monitor import compare_slices

    seg = pd.DataFrame({"segment__tenure": [NEW, "established"]})
    with pytest.raises(MonitorError, match="slice columns as a pandas DataFrame"):
        slice_profile([NEW], np.array([True]))
    with pytest.raises(MonitorError, match=r"segments \(2 rows\) and flagged \(3 values\)"):
        slice_profile(seg, np.array([True, False, True]))
    with pytest.raises(MonitorError, match="y_true must hold 0/1 labels"):
        slice_profile(seg, np.array([True, False]), np.array([0.5, 1.0]))
    with pytest.raises(MonitorError, match="compare_slices: segments"):
        compare_slices({}, seg, np.array([True]))
