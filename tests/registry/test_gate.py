from __future__ import annotations

import math

import pandas as pd
import pytest

from riskscore.registry import Gate


def table(cand: tuple[float, float, float], champ: tuple[float, float, float]) -> pd.DataFrame:
    return pd.DataFrame(
        {"candidate": cand, "champion": champ}, index=["pr_auc", "precision_at_k", "ece"]
    )


def test_equal_models_pass() -> None:
    d = Gate().check(table((0.3, 0.5, 0.02), (0.3, 0.5, 0.02)))
    assert d.passed and len(d.reasons) == 3 and all(r.endswith("ok") for r in d.reasons)


@pytest.mark.parametrize(
    ("cand", "failing"),
    [
        ((0.29, 0.5, 0.02), "pr_auc"),
        ((0.30, 0.4, 0.02), "precision_at_k"),
        ((0.30, 0.5, 0.03), "ece"),
    ],
)
def test_each_criterion_can_refuse(cand: tuple[float, float, float], failing: str) -> None:
    d = Gate().check(table(cand, (0.3, 0.5, 0.02)))
    assert not d.passed
    worse = [r.split(":")[0] for r in d.reasons if r.endswith("worse")]
    assert worse == [failing]


def test_tolerances_are_configurable() -> None:
    t = table((0.29, 0.45, 0.024), (0.3, 0.5, 0.02))
    assert not Gate().check(t).passed
    assert Gate(min_pr_auc_delta=-0.02, min_precision_delta=-0.1).check(t).passed
    assert (
        not Gate(min_pr_auc_delta=-0.02, min_precision_delta=-0.1, max_ece_increase=0.0)
        .check(t)
        .passed
    )
    assert Gate(min_pr_auc_delta=0.05).to_dict() == {
        "min_pr_auc_delta": 0.05,
        "min_precision_delta": 0.0,
        "max_ece_increase": 0.005,
    }


def test_nan_never_passes() -> None:
    d = Gate().check(table((math.nan, 0.5, 0.02), (0.3, 0.5, 0.02)))
    assert not d.passed and "undefined" in d.reasons[0]


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"max_ece_increase": "x"}, "max_ece_increase"),
        ({"min_pr_auc_delta": math.nan}, "min_pr_auc_delta"),
        ({"min_precision_delta": None}, "min_precision_delta"),
    ],
)
def test_gate_refuses_criteria_that_are_not_numbers(kwargs, name) -> None:
    from riskscore.exceptions import ParameterError

    with pytest.raises(ParameterError, match=f"The '{name}' parameter of Gate must be a finite"):
        Gate(**kwargs)


def test_gate_accepts_negative_tolerances() -> None:
    assert Gate(min_pr_auc_delta=-0.01).to_dict()["min_pr_auc_delta"] == -0.01
