"""PSI and its bins: the invariants (zero on itself, symmetric, grows with the shift)."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from riskscore.exceptions import ParameterError
from riskscore.monitor import EPSILON, bin_counts, psi, psi_from_counts, quantile_edges
from riskscore.monitor._errors import MonitorError

counts = st.lists(st.integers(min_value=1, max_value=10_000), min_size=2, max_size=12)


@given(counts)
def test_psi_of_a_distribution_against_itself_is_zero(c: list[int]):
    assert psi_from_counts(c, c) == 0.0
    assert psi_from_counts(c, [2 * v for v in c]) == pytest.approx(0.0, abs=1e-12)


@given(st.data())
def test_psi_is_symmetric_without_empty_bins(data: st.DataObject):
    a = data.draw(counts)
    b = data.draw(st.lists(st.integers(1, 10_000), min_size=len(a), max_size=len(a)))
    assert psi_from_counts(a, b) == pytest.approx(psi_from_counts(b, a), rel=1e-9)
    assert psi_from_counts(a, b) >= 0


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1))
def test_psi_grows_with_the_shift(seed: int):
    x = np.random.default_rng(seed).normal(size=4000)
    values = [psi(x, x + shift) for shift in (0.0, 0.1, 0.3, 0.6, 1.0, 2.0)]
    assert values[0] == 0.0
    assert all(b > a for a, b in itertools.pairwise(values)), values
    assert values[-1] > 0.25


def test_a_small_shift_is_stable_and_a_large_one_acts():
    x = np.random.default_rng(1).normal(size=20_000)
    assert psi(x, x + 0.05) < 0.1
    assert psi(x, x * 3) > 0.25


def test_empty_reference_bin_is_floored_at_epsilon():
    # 10% of rows land in a bin the reference never filled: 0.1 * ln(0.1 / 1e-4) + the rest
    value = psi_from_counts([0, 50, 50], [10, 45, 45])
    expected = (0.1 - EPSILON) * math.log(0.1 / EPSILON) + 2 * (0.45 - 0.5) * math.log(0.9)
    assert value == pytest.approx(expected, rel=1e-6)
    assert math.isfinite(value) and value > 0.25


def test_psi_is_nan_without_rows_and_refuses_mismatched_bins():
    assert math.isnan(psi_from_counts([0, 0], [1, 2]))
    with pytest.raises(ParameterError, match="as many bins as 'expected'"):
        psi_from_counts([1, 2, 3], [1, 2])
    with pytest.raises(ParameterError, match="non-negative"):
        psi_from_counts([1, -2], [1, 2])


def test_bins_hold_right_closed_intervals_and_a_missing_bin():
    assert bin_counts([0, 1, 1.5, 2, 3, np.nan, np.nan], [1, 2]).tolist() == [2, 2, 1, 2]
    with pytest.raises(ParameterError, match="strictly increasing"):
        bin_counts([1.0], [2, 1])


def test_quantile_edges_merge_ties_and_ignore_missing():
    zeros = [0.0] * 70 + list(range(1, 31))
    edges = quantile_edges(zeros + [np.nan] * 10, 10)
    assert edges.tolist() == [0.0, 10.0, 20.0]  # one bin for the zeros, then the deciles
    assert quantile_edges([np.nan, np.nan]).tolist() == []
    assert quantile_edges([5.0] * 10).tolist() == [5.0]  # a constant: one edge
    with pytest.raises(ParameterError, match="'n_bins' parameter of quantile_edges"):
        quantile_edges([1.0, 2.0], 1)


def test_monitor_error_is_a_riskscore_error():
    from riskscore.exceptions import RiskscoreError

    assert issubclass(MonitorError, RiskscoreError) and issubclass(MonitorError, ValueError)
