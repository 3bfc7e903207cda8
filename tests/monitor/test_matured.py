"""Grading a scoring run once its labels matured (issue 17, item 2)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from riskscore.monitor import MonitorError, Reference, matured_check

AS_OF = "2024-03-01"


def _run(n_flagged: int, n_positive_flagged: int, n: int = 400) -> tuple[pd.DataFrame, dict]:
    ids = [f"S{i:04d}" for i in range(n)]
    band = np.where(np.arange(n) < n_flagged, "high", "low")
    score = np.where(band == "high", 0.6, 0.01)
    scores = pd.DataFrame({"seller_id": ids, "score": score, "band": band})
    decided = [pd.Timestamp("2024-03-20")] * n_positive_flagged
    labels = pd.DataFrame(
        {
            "seller_id": [*ids[:n_positive_flagged], "S9999", "S0399"],
            "label": "fraud",
            # S9999 marks the labels as matured; S0399 was labelled before the run
            "decided_at": [*decided, pd.Timestamp("2024-06-30"), pd.Timestamp("2024-01-05")],
        }
    )
    return scores, {"labels": labels}


def _reference(flagged: int, positives: int) -> Reference:
    return Reference(features={}, performance={"flagged": flagged, "flagged_positives": positives})


def test_a_stale_model_is_told_to_retrain() -> None:
    scores, tables = _run(n_flagged=40, n_positive_flagged=6)
    check = matured_check(
        scores, tables, as_of=AS_OF, target="fraud", reference=_reference(100, 60)
    )
    assert (check.flagged, check.flagged_positives, check.rows) == (40, 6, 399)
    assert check.precision == pytest.approx(0.15)
    act = [f for f in check.findings if f.level == "act"]
    assert len(act) == 1 and "retrain" in act[0].message
    assert "0.15 [0.07, 0.29] (6 of 40" in act[0].message
    # the estimate said 0.6 among flagged rows: far off
    assert check.estimate_covered is False
    assert any(f.kind == "estimate" for f in check.findings)


def test_a_model_that_holds_up_raises_nothing() -> None:
    scores, tables = _run(n_flagged=40, n_positive_flagged=24)
    check = matured_check(
        scores, tables, as_of=AS_OF, target="fraud", reference=_reference(100, 60)
    )
    assert check.precision == pytest.approx(0.6)
    assert check.estimate_covered is True
    assert check.findings == []
    assert check.to_dict()["reference_precision"] == pytest.approx(0.6)


def test_labels_that_have_not_matured_are_refused() -> None:
    scores, tables = _run(n_flagged=10, n_positive_flagged=2)
    tables["labels"] = tables["labels"][tables["labels"]["seller_id"] != "S9999"]
    with pytest.raises(MonitorError, match="have not matured: its window ends 2024-04-30"):
        matured_check(scores, tables, as_of=AS_OF, target="fraud")


def test_bad_scores_are_refused() -> None:
    with pytest.raises(MonitorError, match="'scores' parameter of matured_check"):
        matured_check(pd.DataFrame({"x": [1]}), {}, as_of=AS_OF, target="fraud")


# ------------------------------------------------------------------ the difference interval
@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # Newcombe (1998), Statistics in Medicine 17:873-890, Table II, method 10
        ((56, 70, 48, 80), (0.2, 0.0524, 0.3339)),
        ((9, 10, 3, 10), (0.6, 0.1705, 0.8090)),
    ],
)
def test_difference_interval_matches_newcombe(counts, expected) -> None:
    from riskscore.modeling import wilson_difference

    got = wilson_difference(*counts)
    assert got == pytest.approx(expected, abs=5e-4)


def test_difference_interval_is_antisymmetric_and_empty_without_rows() -> None:
    from riskscore.modeling import wilson_difference

    d, lo, hi = wilson_difference(17, 35, 11, 13)
    assert wilson_difference(11, 13, 17, 35) == pytest.approx((-d, -hi, -lo))
    assert lo < d < hi < 0  # 0.49 vs 0.85: lower, although the two 95% intervals overlap
    assert all(np.isnan(wilson_difference(0, 0, 3, 10)))


# ------------------------------------------------------------------ recall at the flag band
def _missed_run(flagged_positives: int, missed_positives: int) -> tuple[pd.DataFrame, dict]:
    """40 flagged rows of 400; positives among the flagged and among the unflagged."""
    scores, tables = _run(n_flagged=40, n_positive_flagged=flagged_positives)
    missed = scores["seller_id"].iloc[100 : 100 + missed_positives].tolist()
    extra = pd.DataFrame(
        {"seller_id": missed, "label": "fraud", "decided_at": pd.Timestamp("2024-03-25")}
    )
    tables["labels"] = pd.concat([tables["labels"], extra], ignore_index=True)
    return scores, tables


def _recall_reference() -> Reference:
    # at training: 60 of the 100 flagged were positives, of 70 positives in all (recall 0.86)
    perf = {"flagged": 100, "flagged_positives": 60, "positives": 70}
    return Reference(features={}, performance=perf)


def test_a_new_pattern_the_model_misses_is_told_to_retrain() -> None:
    scores, tables = _missed_run(flagged_positives=22, missed_positives=18)
    check = matured_check(
        scores, tables, as_of=AS_OF, target="fraud", reference=_recall_reference()
    )
    assert (check.flagged_positives, check.positives) == (22, 40)
    assert check.recall == pytest.approx(22 / 40)
    assert check.reference_recall == pytest.approx(60 / 70)
    acted = [f for f in check.findings if f.level == "act"]
    assert [f.subject for f in acted] == ["recall"]  # precision 0.55 vs 0.60 holds
    assert "22 of 40 positives flagged" in acted[0].message and "retrain" in acted[0].message
    assert check.to_dict()["reference_recall"] == pytest.approx(60 / 70)


def test_recall_within_noise_raises_nothing() -> None:
    scores, tables = _missed_run(flagged_positives=24, missed_positives=6)
    check = matured_check(
        scores, tables, as_of=AS_OF, target="fraud", reference=_recall_reference()
    )
    assert check.recall == pytest.approx(0.8)
    assert not [f for f in check.findings if f.level == "act"]


def test_without_stored_positives_recall_is_not_compared() -> None:
    scores, tables = _missed_run(flagged_positives=22, missed_positives=30)
    check = matured_check(
        scores, tables, as_of=AS_OF, target="fraud", reference=_reference(100, 60)
    )
    assert np.isnan(check.reference_recall) and check.recall == pytest.approx(22 / 52)
    assert not [f for f in check.findings if f.subject == "recall"]
