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
