"""The promotion gate on paired comparisons built directly with numpy (fast).

Each test builds one paired frame — champion and challenger scored on the same rows of
``n`` sellers over 4 cutoffs — and asserts the gate's outcome and its numbers: challenger
better, equal within the margin, worse, too few positives (with "how many more"), and
worse only on new sellers (refused, naming the slice).
"""

from __future__ import annotations

import math
import re
import warnings

import numpy as np
import pandas as pd
import pytest

from riskscore.exceptions import ParameterError
from riskscore.modeling import compare_paired, slice_comparison, wilson_interval
from riskscore.registry import Gate

NEW = "new (<90 days)"


def frame(
    n: int = 1500,
    *,
    rate: float = 0.1,
    champ_signal: float = 2.0,
    chall_signal: float = 2.0,
    same_scores: bool = False,
    seed: int = 0,
) -> pd.DataFrame:
    """``n`` sellers × 4 cutoffs; labels repeat per seller; flags = top 8 % of each score."""
    rng = np.random.default_rng(seed)
    seller_bad = rng.random(n) < rate
    ids = np.repeat(np.arange(n), 4)
    y = seller_bad[ids].astype(int)
    base = rng.normal(size=ids.size)
    champ = champ_signal * y + base
    chall = champ.copy() if same_scores else chall_signal * y + rng.normal(size=ids.size)
    tenure = np.where(np.arange(n) % 4 == 0, NEW, "established")[ids]
    size = np.where(np.arange(n) % 3 == 0, "1-19 orders", "100+ orders")[ids]
    return pd.DataFrame(
        {
            "entity_id": ids,
            "cutoff": np.tile(np.arange(4), n),
            "label": y,
            "score_champion": champ,
            "score_challenger": chall,
            "flag_champion": champ > np.quantile(champ, 0.92),
            "flag_challenger": chall > np.quantile(chall, 0.92),
            "segment__tenure": tenure,
            "segment__size": size,
        }
    )


def decide(f: pd.DataFrame, gate: Gate | None = None, **kw):  # type: ignore[no-untyped-def]
    ev = compare_paired(f, k=kw.pop("k", 30), n_bootstrap=kw.pop("n_bootstrap", 300), **kw)
    return ev, (gate or Gate()).decide(ev)


def test_better_challenger_is_promoted() -> None:
    ev, d = decide(frame(chall_signal=3.0))
    assert ev.n_positives == 4 * 152 and ev.n_cutoffs == 4 and ev.n_entities == 1500
    assert ev.metrics.loc["pr_auc", "delta_lo"] > 0.05  # clearly better
    assert d.outcome == "promote" and d.passed
    assert d.reasons[0].startswith("PR-AUC: challenger ") and d.reasons[0].endswith("better")
    assert d.reasons[-1].startswith("PROMOTE: not worse on every metric over 608 positives")


def test_equal_within_margin_is_promoted() -> None:
    f = frame(3000)
    f["score_challenger"] = f["score_champion"] + np.random.default_rng(1).normal(
        scale=0.05, size=len(f)
    )
    f["flag_challenger"] = f["flag_champion"]
    ev, d = decide(f, k=60)
    row = ev.metrics.loc["pr_auc"]
    assert abs(row["delta"]) < 0.01 and row["delta_lo"] < 0 < row["delta_hi"]
    assert row["delta_lo"] >= -0.03  # inside the margin
    assert d.outcome == "promote"
    assert "not worse than the margin -0.030" in d.reasons[0]


def test_worse_challenger_is_refused() -> None:
    ev, d = decide(frame(chall_signal=0.5))
    assert ev.metrics.loc["pr_auc", "delta_hi"] < -0.03
    assert d.outcome == "refuse" and not d.passed
    assert "worse beyond the margin -0.030" in d.reasons[0]
    assert d.reasons[-1].startswith(
        "REFUSED: the challenger is worse on PR-AUC, precision at capacity, FPR of "
    )
    assert d.more_positives is None


def test_too_few_positives_is_insufficient_evidence_with_how_many_more() -> None:
    # 60 sellers × 4 cutoffs at ~8 % fraud: a handful of positive sellers, 4 rows each
    f = frame(60, rate=0.1, chall_signal=2.0, seed=1)
    ev, d = decide(f, k=3)
    assert ev.n_positives == 16
    assert d.outcome == "insufficient_evidence" and not d.passed
    assert "only 16 positives pooled over 4 cutoff(s)" in d.reasons[-2]
    assert "never promotes on fewer than 50" in d.reasons[-2]
    # the "how many more" sentence: from the half-width scaling as 1/sqrt(positives)
    half = ev.metrics.loc["pr_auc", "half_width"]
    assert half > 0.1  # about ±0.12 at 15 positives, as the issue says
    m = re.fullmatch(
        r"About (\d+) more positives \(about (\d+) more cutoff\(s\) at 4 positives per "
        r"cutoff\) would likely decide: interval half-widths shrink as 1/√positives\.",
        d.reasons[-1],
    )
    assert m, d.reasons[-1]
    assert int(m.group(1)) == d.more_positives >= 50 - 16
    assert int(m.group(2)) == d.more_cutoffs == math.ceil(d.more_positives / 4)


def test_insufficient_evidence_even_when_point_estimates_favour_the_challenger() -> None:
    ev, d = decide(frame(60, rate=0.1, chall_signal=3.0, seed=1), k=3)
    assert ev.metrics.loc["pr_auc", "delta"] > 0
    assert d.outcome == "insufficient_evidence"


def test_more_positives_follows_the_square_root_law() -> None:
    ev, _ = decide(frame(400, rate=0.1, chall_signal=1.8, seed=5))
    row = ev.metrics.loc["pr_auc"]
    margin = 0.0  # demand an improvement: the interval straddles 0
    assert row["delta_lo"] < 0 < row["delta_hi"] or row["delta_lo"] > 0
    d = Gate(pr_auc_margin=margin, precision_margin=1.0, min_positives=0).decide(ev)
    if d.outcome == "insufficient_evidence":
        n = ev.n_positives
        expected = n * (row["half_width"] / abs(row["delta"])) ** 2 - n
        assert d.more_positives == max(1, math.ceil(expected))


def test_worse_only_on_new_sellers_is_refused_naming_the_slice() -> None:
    f = frame(same_scores=True)  # identical ranking: every metric is equal
    rng = np.random.default_rng(2)
    new_negative = (f["segment__tenure"] == NEW) & (f["label"] == 0)
    extra = new_negative & (rng.random(len(f)) < 0.06)  # +6 points of FPR on new sellers
    f["flag_challenger"] = f["flag_champion"] | extra
    ev, d = decide(f)
    assert ev.metrics.loc["pr_auc", "delta"] == 0.0
    row = ev.slices.set_index(["segment", "level"]).loc[("segment__tenure", NEW)]
    assert 0.04 < row["fpr_delta"] < 0.08 and row["fpr_delta_lo"] > 0.02
    est = ev.slices.set_index(["segment", "level"]).loc[("segment__tenure", "established")]
    assert est["fpr_delta"] == pytest.approx(0.0, abs=1e-12)
    assert d.outcome == "refuse"
    assert d.slices == [f"segment__tenure={NEW}"]
    line = next(r for r in d.reasons if r.startswith(f"protected slice segment__tenure={NEW}"))
    assert f"{100 * row['fpr_delta']:+.1f} points" in line and line.endswith("RAISED — refuse")
    assert "allowed up to +2.0 points" in line
    assert d.reasons[-1] == f"REFUSED: the challenger is worse on FPR of segment__tenure={NEW}."
    # not protected: the same rise passes
    assert Gate(protected=("segment__size=1-19 orders",)).decide(ev).outcome == "promote"
    # a wider margin lets it through
    assert Gate(fpr_margin=0.10).decide(ev).outcome == "promote"


def test_slices_missing_are_said_not_silently_skipped() -> None:
    f = frame(chall_signal=3.0).drop(columns=["segment__tenure", "segment__size"])
    _, d = decide(f)
    assert d.outcome == "promote"
    assert any(r.startswith("protected slices not checked") for r in d.reasons)


def test_no_bootstrap_never_promotes() -> None:
    _, d = decide(frame(chall_signal=3.0), n_bootstrap=0)
    assert d.outcome == "insufficient_evidence" and d.more_positives is None
    assert "no interval" in d.reasons[0]


def test_wilson_and_newcombe_intervals() -> None:
    lo, hi = wilson_interval(0, 20)
    assert lo == 0.0 and round(hi, 4) == 0.1611
    seg = pd.DataFrame({"segment__tenure": ["a"] * 200})
    y = np.zeros(200, dtype=int)
    champ = np.arange(200) % 10 == 0
    t = slice_comparison(seg, y, champ, champ, n_bootstrap=0)
    assert t.loc[0, "fpr_delta"] == 0.0
    assert t.loc[0, "fpr_delta_lo"] < 0 < t.loc[0, "fpr_delta_hi"]
    assert t.loc[0, "fpr_champion_lo"] == pytest.approx(wilson_interval(20, 200)[0])


def test_deprecated_point_estimate_arguments_map_to_margins() -> None:
    with pytest.warns(DeprecationWarning, match="'min_pr_auc_delta' is deprecated.*pr_auc_margin"):
        g = Gate(min_pr_auc_delta=-0.02)
    assert g.pr_auc_margin == 0.02
    with pytest.warns(DeprecationWarning, match="'max_ece_increase' is deprecated.*ignored"):
        Gate(max_ece_increase=0.01)
    t = pd.DataFrame(
        {"candidate": [0.29, 0.5, 0.02], "champion": [0.3, 0.5, 0.02]},
        index=["pr_auc", "precision_at_k", "ece"],
    )
    with pytest.warns(DeprecationWarning, match="Gate.check compares point estimates"):
        d = Gate(pr_auc_margin=0.0).check(t)
    assert d.outcome == "refuse" and d.reasons[0].endswith("worse")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        assert Gate(pr_auc_margin=0.02).check(t).passed


def test_to_dict_is_logged_as_is() -> None:
    assert Gate(fpr_margin=0.05).to_dict() == {
        "pr_auc_margin": 0.03,
        "precision_margin": 0.05,
        "min_positives": 50,
        "fpr_margin": 0.05,
        "protected": [
            "segment__tenure=new (<90 days)",
            "segment__size=no orders",
            "segment__size=1-19 orders",
        ],
    }


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"pr_auc_margin": "x"}, "The 'pr_auc_margin' parameter of Gate must be a finite"),
        ({"fpr_margin": math.nan}, "The 'fpr_margin' parameter of Gate must be a finite"),
        ({"min_positives": -1}, "The 'min_positives' parameter of Gate must be an int >= 0"),
        ({"protected": "segment__tenure=new"}, "The 'protected' parameter of Gate must be"),
        ({"max_ece_increase": "x"}, "The 'max_ece_increase' parameter of Gate must be a finite"),
    ],
)
def test_gate_refuses_criteria_that_are_not_numbers(kwargs, match) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ParameterError, match=re.escape(match)):
        Gate(**kwargs)


def test_compare_paired_names_missing_columns() -> None:
    from riskscore.exceptions import TrainingError

    with pytest.raises(TrainingError, match=r"missing \['flag_champion'\]"):
        compare_paired(frame(50).drop(columns=["flag_champion"]))
